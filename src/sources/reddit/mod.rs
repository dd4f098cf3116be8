//! Reddit, through its OAuth API as a "script" app logged in as the brand's account: keyword
//! search (newest first), watched subreddits' new posts and comments, and the inbox (username
//! mentions and replies to the brand). Answers go to `/api/comment`.
//!
//! `login.rs` keeps the token, `listing.rs` reads listings, `reply.rs` posts answers once,
//! `answered.rs` finds the brand's replies, `wire.rs` holds the JSON shapes.

pub mod config;

pub use config::{NETWORK, TRAITS};

mod answered;
mod listing;
mod login;
mod reply;
mod wire;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::USER_AGENT;

use super::{Fetched, Posted, Source, SourceError};
use crate::domain::{Cursor, Mention, Network};
use crate::net::{
    base_url, Budget, CursorSet, Failure, PostOnce, Purpose, RateHeaders, Reset, Secret, Transport,
};
use login::{Login, Token};
use wire::Mark;

pub const DEFAULT_API_URL: &str = "https://oauth.reddit.com";
pub const DEFAULT_TOKEN_URL: &str = "https://www.reddit.com/api/v1/access_token";
/// Reddit allows 100 requests a minute per OAuth client, averaged over 10 minutes. A poll costs
/// one request per listing when nothing is new (two for a subreddit: posts and comments), so a
/// typical set of four listings polled every minute spends 4 of the 100, leaving the rest for
/// answers, bursts and other tools on the same app.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);

/// Polls stop this many requests before the window's end, so answers still get through.
const RESERVE: u32 = 5;
/// Reddit's window: requests left, and seconds until it resets.
const RATE_HEADERS: RateHeaders = RateHeaders {
    remaining: "x-ratelimit-remaining",
    reset: "x-ratelimit-reset",
    form: Reset::SecondsFromNow,
};
const SITE: &str = "https://www.reddit.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub client_id: String,
    pub client_secret: Secret,
    pub username: String,
    pub password: Secret,
    pub user_agent: String,
    pub watch: Vec<Watch>,
    pub api_url: String,
    pub token_url: String,
}

/// What a Reddit source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// Site-wide post search, newest first.
    Search(String),
    /// New posts and new comments in a subreddit.
    Subreddit(String),
    /// The inbox: username mentions, and replies to the brand's posts and comments.
    Mentions,
}

impl Watch {
    pub fn parse(text: &str) -> Result<Watch, String> {
        let text = text.trim();
        if text == "mentions" {
            return Ok(Watch::Mentions);
        }
        if let Some(query) = text.strip_prefix("search:") {
            let query = query.trim();
            if !query.is_empty() {
                return Ok(Watch::Search(query.to_string()));
            }
        }
        if let Some(sub) = text.strip_prefix("r/").or_else(|| text.strip_prefix("/r/")) {
            let valid = sub.split('+').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if valid {
                return Ok(Watch::Subreddit(sub.to_string()));
            }
        }
        Err(format!(
            "`{text}` is not a Reddit watch; use \"mentions\", \"search:<words>\" or \"r/<subreddit>\""
        ))
    }
}

/// Reddit asks every client for a unique, descriptive User-Agent and throttles generic ones.
pub fn default_user_agent(username: &str) -> String {
    format!(
        "{}:earshot:{} (by /u/{username})",
        std::env::consts::OS,
        env!("CARGO_PKG_VERSION")
    )
}

pub struct Reddit {
    name: String,
    settings: Settings,
    every: Duration,
    transport: Transport,
    token: tokio::sync::Mutex<Option<Token>>,
    answers: PostOnce<Posted>,
}

impl Reddit {
    pub fn new(name: String, settings: Settings, every: Duration, http: reqwest::Client) -> Reddit {
        Reddit {
            name,
            settings,
            every,
            transport: Transport::new("Reddit", http, Budget::new(RESERVE), RATE_HEADERS),
            token: tokio::sync::Mutex::new(None),
            answers: PostOnce::default(),
        }
    }

    fn login(&self) -> Login<'_> {
        Login {
            settings: &self.settings,
            transport: &self.transport,
            cached: &self.token,
        }
    }

    /// One authenticated request, its status checked.
    async fn call(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let response = self.send(what, purpose, build).await?;
        self.transport.check(what, response).await
    }

    /// One authenticated request, whatever its status. A 401 means the token died early: the
    /// transport logs in again, once.
    async fn send(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let api = base_url(&self.settings.api_url);
        let http = self.transport.http();
        self.transport
            .send_authorised(what, purpose, &self.login(), |token| {
                build(http, &api)
                    .bearer_auth(token.expose())
                    .header(USER_AGENT, &self.settings.user_agent)
            })
            .await
    }
}

#[async_trait]
impl Source for Reddit {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// The cursor holds the newest item handled per listing; see [`CursorSet`] for what a
    /// failing listing or an unreadable position does.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks = CursorSet::<Mark, Failure>::read(cursor, "Reddit", &self.name);
        let mut mentions = Vec::new();
        for listing in self.settings.watch.iter().flat_map(Watch::listings) {
            let outcome = self.read_listing(&listing, marks.get(&listing.key)).await;
            marks.record(&listing.key, outcome, &mut mentions);
        }
        let (cursor, problems) = marks.finish(cursor)?;
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        Ok(self.brand_reply(mention).await?)
    }

    /// Reddit has no idempotency key: see [`PostOnce`] and `reply.rs`.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        let parent = mention.key.id.as_str();
        if !(parent.starts_with("t1_") || parent.starts_with("t3_")) {
            return Err(SourceError::Permanent(format!(
                "`{parent}` is not a Reddit post or comment"
            )));
        }
        Ok(self
            .answers
            .post(
                idempotency_key,
                || self.existing_answer(parent, text),
                || self.post_comment(parent, text),
            )
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_parse_and_refuse_nonsense() {
        assert_eq!(Watch::parse("mentions"), Ok(Watch::Mentions));
        assert_eq!(
            Watch::parse("search:acme coffee"),
            Ok(Watch::Search("acme coffee".into()))
        );
        assert_eq!(Watch::parse("r/rust"), Ok(Watch::Subreddit("rust".into())));
        assert_eq!(
            Watch::parse("/r/a+b_c"),
            Ok(Watch::Subreddit("a+b_c".into()))
        );
        for bad in ["search:", "r/", "r/no spaces", "#acme", ""] {
            assert!(Watch::parse(bad).is_err(), "{bad}");
        }
    }
}
