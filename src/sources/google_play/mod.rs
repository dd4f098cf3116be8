//! Google Play: the app's reviews (every one is addressed to the brand), answered as the
//! developer. The API lists only the last seven days, newest first; each poll reads that week
//! a page at a time (re-reads are how edits and replies made in Play Console reach the desk),
//! within the app's read quota, and says in the source's health when it could not read for
//! longer than a week ("reviews may have been missed"). A reply is `reviews/{id}:reply`, which
//! creates or replaces the developer's reply, so a retry never posts twice.
//!
//! `config.rs` reads the section and the key file, `quota.rs` counts reads, `wire.rs` holds the
//! JSON and the review as a mention; the service account's token is `google`'s.

pub mod config;
pub mod quota;
mod wire;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::RequestBuilder;
use serde::de::DeserializeOwned;

use super::google::window::{Mark, Window};
use super::google::{error, ServiceAccountGrant};
use super::{Fetched, Posted, Source, SourceError};
use crate::domain::{Cursor, Mention, Network};
use crate::net::oauth::TokenCache;
use crate::net::{
    base_url, read_json, Budget, Clock, CursorSet, Failure, Pager, Purpose, RateHeaders, Transport,
    Turn,
};
pub use config::{Settings, NETWORK, TRAITS};
use quota::ReadQuota;

pub const DEFAULT_API_URL: &str = "https://androidpublisher.googleapis.com";
pub const SCOPE: &str = "https://www.googleapis.com/auth/androidpublisher";
/// How long Play lists a review.
pub const KEPT: chrono::Duration = chrono::Duration::days(7);
const PAGE_SIZE: &str = "100";
/// Ten pages, 1,000 reviews: more than most apps get in a week; the rest is said in the health.
const PAGER: Pager = Pager::new(10);
/// The API's own limit on a reply ("about 350 characters").
const REPLY_MAX_CHARS: usize = 350;
const PAUSE_ON_REFUSAL: Duration = Duration::from_secs(60);
const WATCH: &str = "reviews";

pub struct GooglePlay {
    name: String,
    settings: Settings,
    every: Duration,
    transport: Transport,
    token: TokenCache,
    quota: ReadQuota,
}

impl GooglePlay {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> GooglePlay {
        GooglePlay {
            name,
            settings,
            every,
            transport: Transport::new(
                "Google Play",
                http,
                Budget::new(0).pausing_on_refusal(PAUSE_ON_REFUSAL),
                RateHeaders::NONE,
            ),
            token: TokenCache::default(),
            quota: ReadQuota::default(),
        }
    }

    /// Tests move time (token expiry, the week's window, the quota's hour) instead of waiting.
    pub fn with_clock(mut self, clock: Clock) -> GooglePlay {
        self.transport.set_clock(clock);
        self
    }

    /// Review reads in the last hour.
    pub fn reads_this_hour(&self) -> usize {
        self.quota.used(self.transport.budget().now())
    }

    fn reviews_url(&self) -> String {
        format!(
            "{}/androidpublisher/v3/applications/{}/reviews",
            base_url(&self.settings.api_url),
            self.settings.package
        )
    }

    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T, Failure> {
        let account = &self.settings.account;
        let grant = ServiceAccountGrant {
            source: &self.name,
            account,
            scope: SCOPE,
            token_url: self.settings.token_url.as_deref().unwrap_or(&account.token_uri),
            needs: "reply to reviews (Play Console → Users and permissions → the account → app permissions: \"Reply to reviews\")",
            transport: &self.transport,
            cache: &self.token,
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

    /// Reads the week a page at a time, newest first.
    async fn walk(
        &self,
        window: &mut Window,
        found: &mut Vec<Mention>,
        problems: &mut Vec<String>,
    ) -> Result<(), Failure> {
        let what = "Google Play (reviews.list)";
        let url = self.reviews_url();
        let mut pages = PAGER.pages();
        while let Some(token) = pages.next_page() {
            self.quota.spend(self.transport.budget().now())?;
            let page: wire::ReviewPage = self
                .call(what, Purpose::Poll, |http| {
                    let mut request = http.get(&url).query(&[("maxResults", PAGE_SIZE)]);
                    if let Some(token) = &token {
                        request = request.query(&[("token", token)]);
                    }
                    request
                })
                .await?;
            for review in &page.reviews {
                let Some(changed) = review.changed() else {
                    problems.push(format!(
                        "a review without lastModified ({}) was skipped",
                        review.review_id.as_deref().unwrap_or("no id")
                    ));
                    continue;
                };
                if !window.relay(changed) {
                    continue;
                }
                match review.mention(&self.name, &self.settings.package) {
                    Ok(mention) => found.push(mention),
                    Err(problem) => problems.push(problem),
                }
            }
            let next = page
                .token_pagination
                .and_then(|pagination| pagination.next_page_token)
                .filter(|next| !next.is_empty() && !page.reviews.is_empty());
            pages.turn(next.map_or(Turn::Stop, Turn::Next));
        }
        if pages.cut_short() {
            problems.push(format!(
                "more than {} reviews this week; the older ones were not read this poll",
                PAGER.max_pages * 100
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Source for GooglePlay {
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
        let mut marks = CursorSet::<Mark, SourceError>::read(cursor, "Google Play", &self.name);
        let now = self.transport.budget().now();
        let mut window = Window::new(marks.get(WATCH), now, Some(KEPT));
        let mut mentions = Vec::new();
        let mut problems = Vec::new();
        self.walk(&mut window, &mut mentions, &mut problems).await?;
        if let Some(gap) = window.gap() {
            let problem = gap.problem("Google Play", KEPT);
            tracing::warn!(source = %self.name, %problem, "Google Play reviews may have been missed");
            problems.push(problem);
        }
        marks.advance(WATCH, window.mark(now));
        let (cursor, mut stored) = marks.finish(cursor)?;
        stored.extend(problems);
        Ok(Fetched {
            mentions,
            cursor,
            problems: stored,
        })
    }

    /// `POST .../reviews/{id}:reply`: replies, or replaces the developer's earlier reply, so
    /// the same answer sent again (a retry after a lost response) leaves one reply.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        _idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        let length = text.chars().count();
        if length > REPLY_MAX_CHARS {
            return Err(SourceError::Permanent(format!(
                "Google Play takes replies of at most {REPLY_MAX_CHARS} characters; this one has {length}"
            )));
        }
        let url = format!("{}/{}:reply", self.reviews_url(), mention.key.id);
        let body = serde_json::json!({ "replyText": text });
        // `{"result": {"replyText", "lastEdited"}}`: nothing in it that earshot needs.
        let _: serde::de::IgnoredAny = self
            .call("Google Play (reviews.reply)", Purpose::Answer, |http| {
                http.post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string())
            })
            .await?;
        Ok(Posted {
            link: mention.link.clone(),
            id: None,
        })
    }
}
