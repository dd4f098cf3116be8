//! Trustpilot: the service reviews of one business unit, through the private reviews endpoint
//! (every review is addressed to the business), answered with the company reply, which
//! Trustpilot keeps one of per review (a new one replaces it).
//!
//! `config.rs` reads the section, `token.rs` keeps the client-credentials token (in the store,
//! across restarts), `reviews.rs` walks the newest reviews and re-reads the last week's for
//! edits and replies made on the site, `reply.rs` posts replies, `wire.rs` holds the JSON.

pub mod config;
mod reply;
mod reviews;
mod token;
mod wire;

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{Fetched, Posted, Source, SourceError};
use crate::domain::{Cursor, Mention, Network};
use crate::net::{
    base_url, classify, Budget, Class, Clock, Failure, Purpose, RateHeaders, Transport,
};
use crate::store::Credentials;
pub use config::{Settings, NETWORK, TRAITS};
pub use token::TOKEN_PATH;
use token::{Held, Login};

pub const DEFAULT_API_URL: &str = "https://api.trustpilot.com";
/// Every 15 minutes: a poll is one to a few requests, far inside Trustpilot's limits (hundreds
/// of calls a minute per application), and a new review waits at most a quarter of an hour.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(15 * 60);
/// After a 429 or 5xx without a named wait.
const PAUSE_ON_REFUSAL: Duration = Duration::from_secs(60);

pub struct Trustpilot {
    name: String,
    settings: Settings,
    every: Duration,
    transport: Transport,
    credentials: Option<Credentials>,
    /// The token in use; `None` until the store was read.
    held: tokio::sync::Mutex<Option<Option<Held>>>,
}

impl Trustpilot {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> Trustpilot {
        Trustpilot {
            name,
            settings,
            every,
            transport: Transport::new(
                "Trustpilot",
                http,
                Budget::new(0).pausing_on_refusal(PAUSE_ON_REFUSAL),
                RateHeaders::NONE,
            ),
            credentials: None,
            held: tokio::sync::Mutex::new(None),
        }
    }

    /// Keeps the token in the store, so a restart does not ask Trustpilot for another.
    pub fn with_credentials(mut self, credentials: Credentials) -> Trustpilot {
        self.credentials = Some(credentials);
        self
    }

    /// Tests move time (token expiry, pauses) instead of waiting.
    pub fn with_clock(mut self, clock: Clock) -> Trustpilot {
        self.transport.set_clock(clock);
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", base_url(&self.settings.api_url))
    }

    fn login(&self) -> Login<'_> {
        Login {
            source: &self.name,
            api_key: &self.settings.api_key,
            api_secret: &self.settings.api_secret,
            token_url: self.url(TOKEN_PATH),
            transport: &self.transport,
            credentials: self.credentials.as_ref(),
            held: &self.held,
        }
    }

    /// Sends a request with the token (renewed once if refused) and returns the status and
    /// body of a success, or the failure worded for the operator; `not_found` says what a 404
    /// means here.
    #[expect(
        clippy::too_many_arguments,
        reason = "a request's parts, each named where it is sent"
    )]
    async fn call(
        &self,
        what: &str,
        purpose: Purpose,
        method: Method,
        url: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        not_found: &str,
    ) -> Result<(StatusCode, Vec<u8>), Failure> {
        let http = self.transport.http();
        let login = self.login();
        let response = self
            .transport
            .send_authorised(what, purpose, &login, |token| {
                let mut request = http
                    .request(method.clone(), url)
                    .bearer_auth(token.expose())
                    .query(query);
                if let Some(body) = body {
                    request = request
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.to_string());
                }
                request
            })
            .await?;
        let status = response.status();
        let wait = self.transport.wait(&response);
        let body = response
            .bytes()
            .await
            .map_err(|error| Failure::retry(format!("reading {what} failed: {error}")))?;
        if classify(status) == Class::Success {
            return Ok((status, body.to_vec()));
        }
        let said = wire::error_text(&body);
        let name = &self.name;
        let reason = match status {
            StatusCode::UNAUTHORIZED => format!(
                "Trustpilot refused the token of source `{name}` even after renewing it ({said}): check `api_key` and `api_secret`, and that the application may read this business unit"
            ),
            StatusCode::FORBIDDEN => format!(
                "Trustpilot does not let source `{name}` do this ({said}): the application needs access to business unit {} (the Connect module), and `business_user_id` {} must be a user of that business",
                self.settings.business_unit_id, self.settings.business_user_id
            ),
            StatusCode::NOT_FOUND => format!("{what} answered {status} ({said}): {not_found}"),
            _ => format!("{what} answered {status}: {said}"),
        };
        Err(match classify(status) {
            Class::RetryLater => Failure::Retry {
                reason,
                after: wait,
            },
            _ => Failure::Permanent(reason),
        })
    }
}

#[async_trait]
impl Source for Trustpilot {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// Every review of the business unit is addressed to the business.
    fn addressed_to_brand(&self) -> bool {
        true
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        Ok(self.walk(cursor).await?)
    }

    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        _idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        Ok(self.post_reply(mention, text).await?)
    }
}
