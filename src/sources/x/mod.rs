//! X (Twitter), through API v2: the brand account's mentions and recent search, read with the
//! app's bearer token; answers posted with `POST /2/tweets` and a user-context token, which
//! [`user_token`] keeps fresh when a refresh token is configured. A reply by the brand found in
//! a mention's conversation (recent search) marks it answered.
//!
//! `config.rs` holds the settings and reads the config section, `listing.rs` reads the watches
//! and turns posts into mentions, `answered.rs` finds the brand's replies, `reply.rs` posts
//! answers once, `user_token.rs` keeps the user token, `wire.rs` holds the JSON shapes.

mod answered;
pub mod config;
pub mod length;
mod listing;
mod reply;
mod user_token;
mod wire;

pub use config::{Refresh, Settings, Watch, NETWORK, TRAITS};

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use super::{Fetched, Posted, Source, SourceError};
use crate::domain::{Cursor, Mention, Network};
use crate::net::{
    base_url, Budget, Clock, CursorSet, Failure, PostOnce, Purpose, RateHeaders, Reset, Transport,
};
use crate::store::Credentials;
use user_token::UserToken;

pub use user_token::REFRESH_REFUSED;

pub const DEFAULT_API_URL: &str = "https://api.x.com";
pub const DEFAULT_TOKEN_URL: &str = "https://api.x.com/2/oauth2/token";
/// The tightest read limit earshot meets is the mentions timeline, 180 requests per 15 minutes
/// per user (recent search allows 450 per app). A poll is one request per watch when nothing is
/// new, so polling every minute spends 15 of those 180; X bills per post read, not per request,
/// and `since_id` means no post is read twice, so polling faster costs latency budget, not money.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);

const PAGE_SIZE: u32 = 100;
/// X's window per endpoint: requests left, and the Unix time it resets.
const RATE_HEADERS: RateHeaders = RateHeaders {
    remaining: "x-rate-limit-remaining",
    reset: "x-rate-limit-reset",
    form: Reset::UnixSeconds,
};
/// Polls stop this many requests before the window's end of an endpoint.
const RESERVE: u32 = 2;
const SITE: &str = "https://x.com";

/// X counts requests per endpoint; each has its own budget.
#[derive(Clone, Copy)]
enum Endpoint {
    Mentions,
    Search,
    OwnPosts,
    Post,
    /// One post by id (`/2/tweets/:id`).
    Lookup,
}

pub struct X {
    name: String,
    settings: Settings,
    every: Duration,
    http: reqwest::Client,
    /// X counts requests per endpoint: one transport (and budget) each, by [`Endpoint`].
    transports: [Transport; 5],
    user_token: UserToken,
    answers: PostOnce<Posted>,
    /// The conversation of each reply mention looked up so far, by post id: it never changes,
    /// and each lookup is a billed post read.
    conversations: Mutex<HashMap<String, String>>,
}

impl X {
    pub fn new(name: String, settings: Settings, every: Duration, http: reqwest::Client) -> X {
        let user_token = UserToken::new(
            settings.user_token.clone(),
            settings.refresh.clone(),
            http.clone(),
            std::sync::Arc::new(Utc::now),
        );
        X {
            name,
            settings,
            every,
            transports: std::array::from_fn(|_| {
                Transport::new("X", http.clone(), Budget::new(RESERVE), RATE_HEADERS)
            }),
            http,
            user_token,
            answers: PostOnce::default(),
            conversations: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps the rotating refresh token in `credentials`, so it survives restarts.
    pub fn with_credentials(mut self, credentials: Credentials) -> X {
        self.user_token.set_credentials(credentials);
        self
    }

    /// Tells token expiry by `clock` instead of the wall clock.
    pub fn with_clock(mut self, clock: Clock) -> X {
        self.user_token.set_clock(clock);
        self
    }

    fn api(&self) -> String {
        base_url(&self.settings.api_url)
    }

    /// Sends one request against `endpoint`'s budget and notes what the headers say of it;
    /// the status is not judged.
    async fn call(
        &self,
        what: &str,
        endpoint: Endpoint,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let purpose = match endpoint {
            Endpoint::Post | Endpoint::OwnPosts => Purpose::Answer,
            Endpoint::Mentions | Endpoint::Search | Endpoint::Lookup => Purpose::Poll,
        };
        self.transports[endpoint as usize]
            .send(what, purpose, request)
            .await
    }

    /// The response if it succeeded, else its failure with X's wait.
    async fn check(
        &self,
        what: &str,
        endpoint: Endpoint,
        response: reqwest::Response,
    ) -> Result<reqwest::Response, Failure> {
        self.transports[endpoint as usize]
            .check(what, response)
            .await
    }
}

#[async_trait]
impl Source for X {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// The cursor holds, per watch, the newest post id of the last complete pass; see
    /// [`CursorSet`] for what a failing watch or an unreadable position does.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks = CursorSet::<String, Failure>::read(cursor, "X", &self.name);
        let mut mentions = Vec::new();
        for watch in &self.settings.watch {
            let key = watch.key();
            let outcome = self
                .read_watch(watch, marks.get(&key).map(String::as_str))
                .await;
            marks.record(&key, outcome, &mut mentions);
        }
        let (cursor, problems) = marks.finish(cursor)?;
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    /// The brand's reply in the mention's conversation: see `answered.rs`.
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        self.brand_reply(mention).await
    }

    /// Posted once, though X takes no idempotency key: see `reply.rs`.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        self.answer(mention, text, idempotency_key).await
    }
}
