//! Trustpilot's access token: the client-credentials grant (HTTP Basic with the API key and
//! secret). A token lasts about 100 hours and Trustpilot refuses applications that ask for new
//! ones too often, so the token is kept in the store (through the source's
//! [`Credentials`]) across restarts, and a new one is asked for only when it is about to
//! expire, or when Trustpilot refuses one that is not brand new.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::wire;
use crate::net::{Auth, Failure, Secret, Transport};
use crate::store::{Credentials, Grant};

/// A token this close to its expiry is replaced before it is sent.
const RENEW_BEFORE: chrono::Duration = chrono::Duration::hours(1);
/// A token refused within this long of being issued is not replaced: a new one would be
/// refused too (the application lacks access), and asking again and again gets it blocked.
const MIN_AGE: chrono::Duration = chrono::Duration::minutes(10);
/// When Trustpilot names no lifetime: its documented 100 hours, less a margin.
const DEFAULT_LIFETIME_SECS: i64 = 99 * 3600;
pub const TOKEN_PATH: &str = "/v1/oauth/oauth-business-users-for-applications/accesstoken";

/// The token in use.
#[derive(Clone)]
pub(super) struct Held {
    token: Secret,
    expires_at: DateTime<Utc>,
    /// When this process got it; `None` for one read from the store.
    issued_at: Option<DateTime<Utc>>,
}

/// What the token needs, borrowed from the source.
pub(super) struct Login<'a> {
    pub source: &'a str,
    pub api_key: &'a Secret,
    pub api_secret: &'a Secret,
    pub token_url: String,
    pub transport: &'a Transport,
    pub credentials: Option<&'a Credentials>,
    /// `None` until the store was read.
    pub held: &'a tokio::sync::Mutex<Option<Option<Held>>>,
}

#[async_trait]
impl Auth for Login<'_> {
    async fn token(&self) -> Result<Secret, Failure> {
        let mut held = self.held.lock().await;
        if held.is_none() {
            *held = Some(self.stored());
        }
        let now = self.transport.budget().now();
        if let Some(Some(current)) = held.as_ref() {
            if current.expires_at - RENEW_BEFORE > now {
                return Ok(current.token.clone());
            }
        }
        let fresh = self.request().await?;
        let token = fresh.token.clone();
        *held = Some(Some(fresh));
        Ok(token)
    }

    async fn renew(&self, stale: &Secret) -> Result<Secret, Failure> {
        let mut held = self.held.lock().await;
        let now = self.transport.budget().now();
        if let Some(Some(current)) = held.as_ref() {
            if &current.token != stale {
                return Ok(current.token.clone());
            }
            if current.issued_at.is_some_and(|at| now - at < MIN_AGE) {
                return Err(Failure::Permanent(format!(
                    "Trustpilot refused the token it issued to source `{}` minutes ago: check that the API key's application has access to this business unit (Trustpilot Business → Integrations → Developers → API) and that `business_unit_id` is right",
                    self.source
                )));
            }
        }
        let fresh = self.request().await?;
        let token = fresh.token.clone();
        *held = Some(Some(fresh));
        Ok(token)
    }
}

impl Login<'_> {
    /// The stored token, if it was issued for the configured API key.
    fn stored(&self) -> Option<Held> {
        let credentials = self.credentials?;
        match credentials.load() {
            Ok(Some(grant)) if grant.seed == self.api_key.fingerprint() => Some(Held {
                token: Secret::new(grant.access_token?),
                expires_at: grant.expires_at?,
                issued_at: None,
            }),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(source = self.source, %error, "cannot read the stored Trustpilot token; asking for a new one");
                None
            }
        }
    }

    /// `POST …/accesstoken` with `grant_type=client_credentials`; the token is stored before it
    /// is used (a failure to store it is logged: the token still works until a restart).
    async fn request(&self) -> Result<Held, Failure> {
        let what = "Trustpilot's token endpoint";
        let response = self
            .transport
            .http()
            .post(&self.token_url)
            .basic_auth(self.api_key.expose(), Some(self.api_secret.expose()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .map_err(|error| Failure::unreachable(what, &error))?;
        let status = response.status();
        let wait = self.transport.wait(&response);
        let body = response
            .bytes()
            .await
            .map_err(|error| Failure::retry(format!("reading {what} failed: {error}")))?;
        if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::Permanent(format!(
                "Trustpilot refused the API key and secret of source `{}` ({status}: {}): check `api_key` and `api_secret` (Trustpilot Business → Integrations → Developers → API → the application's key and secret)",
                self.source,
                wire::error_text(&body)
            )));
        }
        if !status.is_success() {
            return Err(Failure::Retry {
                reason: format!("{what} answered {status}: {}", wire::error_text(&body)),
                after: wait,
            });
        }
        let answer: Value = crate::net::transport::decode(what, &body)?;
        let token = answer["access_token"]
            .as_str()
            .filter(|token| !token.is_empty())
            .ok_or_else(|| Failure::retry(format!("{what} answered without a token")))?;
        // Trustpilot sends `expires_in` as a string of seconds ("359999").
        let lifetime = match &answer["expires_in"] {
            Value::String(text) => text.trim().parse::<f64>().ok(),
            other => other.as_f64(),
        }
        .filter(|secs| secs.is_finite() && *secs > 0.0)
        .map_or(DEFAULT_LIFETIME_SECS, |secs| secs.min(1e9) as i64);
        let now = self.transport.budget().now();
        let held = Held {
            token: Secret::new(token),
            expires_at: now
                .checked_add_signed(chrono::Duration::seconds(lifetime))
                .unwrap_or(now),
            issued_at: Some(now),
        };
        self.save(&held).await;
        tracing::info!(source = self.source, expires_at = %held.expires_at, "got a new Trustpilot token");
        Ok(held)
    }

    async fn save(&self, held: &Held) {
        let Some(credentials) = self.credentials else {
            return;
        };
        let grant = Grant {
            seed: self.api_key.fingerprint(),
            // The client-credentials grant has no refresh token: the key and secret ask again.
            refresh_token: String::new(),
            access_token: Some(held.token.expose().to_string()),
            expires_at: Some(held.expires_at),
            refresh_expires_at: None,
        };
        if let Err(error) = credentials.save(&grant).await {
            tracing::warn!(source = self.source, %error, "cannot store the Trustpilot token; a restart will ask for a new one");
        }
    }
}
