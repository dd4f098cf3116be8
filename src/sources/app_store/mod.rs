//! The App Store, through the App Store Connect API: the customer reviews of one app (every one
//! is addressed to the business), answered with the developer response, which Apple keeps one
//! of per review (a new one replaces it).
//!
//! `config.rs` reads the section and the `.p8` key, `token.rs` signs the ES256 tokens,
//! `rate.rs` reads `X-Rate-Limit`, `reviews.rs` walks the newest reviews (and re-reads the
//! last week's, since Apple gives no update time to find edits by), `reply.rs` posts
//! responses, `wire.rs` holds the JSON shapes.

pub mod config;
pub mod rate;
mod reply;
mod reviews;
pub mod token;
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
pub use config::{Settings, NETWORK, TRAITS};
use token::Signer;

pub const DEFAULT_API_URL: &str = "https://api.appstoreconnect.apple.com";
/// Every 30 minutes: a poll reads one to ten pages (the new reviews and the last week's, to
/// find edits), a few hundred requests a day of the 3,600 an hour Apple allows a key, which
/// other tools (CI uploads, dashboards) often share.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30 * 60);
/// Polls stop when the key's hour has this many requests left, so answers and the other tools
/// on the same key still get through.
const RESERVE: u32 = 200;
/// After a 429 or 5xx without a named wait: Apple's hour rolls, a minute lets bursts pass.
const PAUSE_ON_REFUSAL: Duration = Duration::from_secs(60);

/// A failed request, with the status Apple answered (none when it did not answer).
#[derive(Debug)]
struct Refused {
    status: Option<StatusCode>,
    failure: Failure,
}

impl From<Failure> for Refused {
    fn from(failure: Failure) -> Refused {
        Refused {
            status: None,
            failure,
        }
    }
}

impl From<Refused> for Failure {
    fn from(refused: Refused) -> Failure {
        refused.failure
    }
}

pub struct AppStore {
    name: String,
    settings: Settings,
    every: Duration,
    transport: Transport,
    /// `Err` when the configured key cannot sign (checked at config time, so unlikely): every
    /// request says so.
    signer: Result<Signer, String>,
    /// The app's name as App Store Connect has it, read once, for the cards.
    app_name: tokio::sync::Mutex<Option<String>>,
}

impl AppStore {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> AppStore {
        let transport = Transport::new(
            "App Store Connect",
            http,
            Budget::new(RESERVE).pausing_on_refusal(PAUSE_ON_REFUSAL),
            RateHeaders::NONE,
        );
        let signer = Signer::new(
            &settings.issuer_id,
            &settings.key_id,
            &settings.private_key,
            crate::net::wall_clock(),
        );
        AppStore {
            name,
            settings,
            every,
            transport,
            signer,
            app_name: tokio::sync::Mutex::new(None),
        }
    }

    /// Tests move time (token expiry, the budget's pauses) instead of waiting.
    pub fn with_clock(mut self, clock: Clock) -> AppStore {
        self.transport.set_clock(clock.clone());
        if let Ok(signer) = self.signer.as_mut() {
            signer.set_clock(clock);
        }
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", base_url(&self.settings.api_url))
    }

    /// Sends a request with a token (renewed once if refused), notes the key's remaining
    /// requests, and returns the body of a success or the failure, worded for the operator.
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
    ) -> Result<(StatusCode, Vec<u8>), Refused> {
        let signer = self
            .signer
            .as_ref()
            .map_err(|error| Failure::Permanent(format!("{error}; check `private_key`")))?;
        let http = self.transport.http();
        let response = self
            .transport
            .send_authorised(what, purpose, signer, |token| {
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
        let now = self.transport.budget().now();
        // The window only: the transport already paused everything on a 429 or 5xx, for as
        // long as Apple asked or a minute, not for the window's made-up reset.
        if let Some(limits) = rate::limits(response.headers(), now) {
            self.transport.budget().note(StatusCode::OK, limits);
        }
        let wait = self.transport.wait(&response);
        let body = response
            .bytes()
            .await
            .map_err(|error| Failure::retry(format!("reading {what} failed: {error}")))?;
        if classify(status) == Class::Success {
            return Ok((status, body.to_vec()));
        }
        Err(Refused {
            status: Some(status),
            failure: self.refused(what, status, wait, &body, not_found),
        })
    }

    /// A refusal in words that say what to fix.
    /// `not_found` says what a 404 means for this request.
    fn refused(
        &self,
        what: &str,
        status: StatusCode,
        wait: Option<Duration>,
        body: &[u8],
        not_found: &str,
    ) -> Failure {
        let said = wire::Errors::read(body)
            .unwrap_or_else(|| crate::net::transport::snippet(&String::from_utf8_lossy(body)));
        let (name, key) = (&self.name, &self.settings.key_id);
        let reason = match status {
            StatusCode::UNAUTHORIZED => format!(
                "App Store Connect refused the API key of source `{name}` ({said}): check `issuer_id` and `key_id` (Users and Access → Integrations → App Store Connect API) and that `private_key` is the .p8 file of key {key}; a revoked key needs a new one, and this machine's clock must be right"
            ),
            StatusCode::FORBIDDEN => format!(
                "App Store Connect does not let key {key} of source `{name}` do this ({said}): the key needs the Customer Support, App Manager or Admin role (Users and Access → Integrations → App Store Connect API)"
            ),
            StatusCode::NOT_FOUND => format!("{what} answered {status} ({said}): {not_found}"),
            _ => format!("{what} answered {status}: {said}"),
        };
        match classify(status) {
            Class::RetryLater => Failure::Retry {
                reason,
                after: wait,
            },
            _ => Failure::Permanent(reason),
        }
    }
}

#[async_trait]
impl Source for AppStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// Every review of the app is addressed to the business.
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
        Ok(self.respond(mention, text).await?)
    }
}
