//! Google Business Profile: the reviews of one location (every one is addressed to the brand),
//! answered as the business. Reviews are listed newest change first and re-read from the top on
//! every poll (see `google::window`), so an edit or a reply made in the Google app reaches the
//! desk; a reply is `PUT .../reply`, an upsert, so a retry never posts twice.
//!
//! `config.rs` reads the section, `wire.rs` holds the JSON and the review as a mention; the
//! token and the error bodies are `google`'s, shared with YouTube and Google Play.

pub mod config;
mod wire;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;

use super::google::window::{Mark, Window};
use super::google::{error, RefreshExpiry, RefreshGrant, Renewal};
use super::{Fetched, Posted, Source, SourceError};
use crate::domain::review::quote;
use crate::domain::{Cursor, Mention, Network};
use crate::net::oauth::TokenCache;
use crate::net::{
    base_url, read_json, Budget, Clock, CursorSet, Failure, Pager, Purpose, RateHeaders, Transport,
    Turn,
};
pub use config::{Settings, NETWORK, TRAITS};

pub const DEFAULT_API_URL: &str = "https://mybusiness.googleapis.com";
/// The most `reviews.list` gives per page.
const PAGE_SIZE: &str = "50";
/// Five pages a poll: 250 changed reviews between two polls is more than a busy shop gets.
const PAGER: Pager = Pager::new(5);
/// After a 429 or 5xx with no wait named, every request holds back this long.
const PAUSE_ON_REFUSAL: Duration = Duration::from_secs(60);
const WATCH: &str = "reviews";
/// Google documents the reply's limit in bytes.
const REPLY_MAX_BYTES: usize = 4_096;
const RENEWAL: Renewal = Renewal {
    network: "Google Business Profile",
    scope: "https://www.googleapis.com/auth/business.manage",
    who: "an owner or manager of the Business Profile",
};

pub struct GoogleReviews {
    name: String,
    settings: Settings,
    every: Duration,
    transport: Transport,
    token: TokenCache,
    expiry: RefreshExpiry,
}

impl GoogleReviews {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> GoogleReviews {
        GoogleReviews {
            name,
            settings,
            every,
            transport: Transport::new(
                "Google Business Profile",
                http,
                Budget::new(0).pausing_on_refusal(PAUSE_ON_REFUSAL),
                RateHeaders::NONE,
            ),
            token: TokenCache::default(),
            expiry: RefreshExpiry::default(),
        }
    }

    /// Tests move time (token expiry, the first poll's lookback) instead of waiting.
    pub fn with_clock(mut self, clock: Clock) -> GoogleReviews {
        self.transport.set_clock(clock);
        self
    }

    /// `{api}/v4/{account}/{location}/reviews`.
    fn reviews_url(&self) -> String {
        format!(
            "{}/v4/{}/{}/reviews",
            base_url(&self.settings.api_url),
            self.settings.account,
            self.settings.location
        )
    }

    /// One authorised call; the token is renewed once if Google refuses it.
    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T, Failure> {
        let grant = RefreshGrant {
            source: &self.name,
            oauth: &self.settings.oauth,
            renewal: RENEWAL,
            transport: &self.transport,
            cache: &self.token,
            expiry: &self.expiry,
        };
        let http = self.transport.http();
        let response = self
            .transport
            .send_authorised(what, purpose, &grant, |token| {
                build(http).bearer_auth(token.expose())
            })
            .await?;
        let response = error::check(&self.transport, what, response).await?;
        read_json(what, response).await
    }

    /// Reads from the newest change down to the last poll's; every review read goes to the app.
    async fn walk(
        &self,
        window: &mut Window,
        found: &mut Vec<Mention>,
        problems: &mut Vec<String>,
    ) -> Result<(), Failure> {
        let what = "Google Business Profile (reviews.list)";
        let url = self.reviews_url();
        let mut pages = PAGER.pages();
        while let Some(token) = pages.next_page() {
            let page: wire::ReviewPage = self
                .call(what, Purpose::Poll, |http| {
                    let mut request = http
                        .get(&url)
                        .query(&[("pageSize", PAGE_SIZE), ("orderBy", "updateTime desc")]);
                    if let Some(token) = &token {
                        request = request.query(&[("pageToken", token)]);
                    }
                    request
                })
                .await?;
            let mut oldest = None;
            for review in &page.reviews {
                let Some(changed) = review.changed() else {
                    problems.push(format!(
                        "a review without a time ({}) was skipped",
                        review.id().unwrap_or("no id")
                    ));
                    continue;
                };
                oldest = Some(oldest.map_or(changed, |at: chrono::DateTime<_>| at.min(changed)));
                if !window.relay(changed) {
                    continue;
                }
                match review.mention(&self.name) {
                    Ok(mention) => found.push(mention),
                    Err(problem) => problems.push(problem),
                }
            }
            let deeper = oldest.is_some_and(|oldest| window.deeper(oldest));
            pages.turn(match page.next_page_token.filter(|_| deeper) {
                Some(next) if !next.is_empty() => Turn::Next(next),
                _ => Turn::Stop,
            });
        }
        if pages.cut_short() {
            problems.push(format!(
                "more than {} reviews changed since the last poll; the older changes were not read (they are on the Business Profile)",
                PAGER.max_pages * 50
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Source for GoogleReviews {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    fn addressed_to_brand(&self) -> bool {
        true
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks =
            CursorSet::<Mark, SourceError>::read(cursor, "Google Business Profile", &self.name);
        let now = self.transport.budget().now();
        let mut window = Window::new(marks.get(WATCH), now, None);
        let mut mentions = Vec::new();
        let mut problems = Vec::new();
        self.walk(&mut window, &mut mentions, &mut problems).await?;
        marks.advance(WATCH, window.mark(now));
        let (cursor, mut stored) = marks.finish(cursor)?;
        stored.extend(problems);
        stored.extend(self.expiry.warning(&self.name, RENEWAL, now));
        Ok(Fetched {
            mentions,
            cursor,
            problems: stored,
        })
    }

    /// `PUT .../reviews/{id}/reply`: creates the reply or replaces the business's earlier one,
    /// so the same answer sent again (a retry after a lost response) leaves one reply.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        _idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        if text.len() > REPLY_MAX_BYTES {
            return Err(SourceError::Permanent(format!(
                "Google Business Profile takes replies of at most {REPLY_MAX_BYTES} bytes; this one has {}",
                text.len()
            )));
        }
        let url = format!("{}/{}/reply", self.reviews_url(), mention.key.id);
        let body = serde_json::json!({ "comment": text });
        let _: wire::ReviewReply = self
            .call(
                "Google Business Profile (updateReply)",
                Purpose::Answer,
                |http| {
                    http.put(&url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.to_string())
                },
            )
            .await?;
        Ok(Posted {
            link: None,
            id: None,
        })
    }

    /// One `reviews.get`: the business's reply under the review, if there is one.
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        let url = format!("{}/{}", self.reviews_url(), mention.key.id);
        let review: wire::GoogleReview = self
            .call(
                "Google Business Profile (reviews.get)",
                Purpose::Poll,
                |http| http.get(&url),
            )
            .await?;
        Ok(review
            .review_reply
            .and_then(|reply| reply.comment)
            .filter(|text| !text.trim().is_empty())
            .map(|text| format!("reply on {}: {}", TRAITS.network(), quote(&text, 200))))
    }
}
