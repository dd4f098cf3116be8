//! The "script" app's password grant: one login, its token cached until shortly before it
//! expires, and one new login when Reddit refuses a token early.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::USER_AGENT;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::Settings;
use crate::net::{read_json, Auth, Failure, Secret, Transport};

/// A token is renewed this long before Reddit says it expires, so no request carries a token
/// that dies on the way.
const TOKEN_MARGIN: chrono::Duration = chrono::Duration::seconds(60);
/// Reddit's tokens last an hour when the grant does not say.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

pub(super) struct Login<'a> {
    pub settings: &'a Settings,
    pub transport: &'a Transport,
    pub cached: &'a tokio::sync::Mutex<Option<Token>>,
}

pub(super) struct Token {
    value: Secret,
    expires_at: DateTime<Utc>,
}

#[async_trait]
impl Auth for Login<'_> {
    async fn token(&self) -> Result<Secret, Failure> {
        let mut cached = self.cached.lock().await;
        let now = self.transport.budget().now();
        if let Some(token) = cached.as_ref() {
            if token.expires_at > now + TOKEN_MARGIN {
                return Ok(token.value.clone());
            }
        }
        let fresh = self.log_in().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    async fn renew(&self, stale: &Secret) -> Result<Secret, Failure> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref() {
            if token.value != *stale {
                return Ok(token.value.clone()); // another request logged in already
            }
        }
        let fresh = self.log_in().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }
}

impl Login<'_> {
    async fn log_in(&self) -> Result<Token, Failure> {
        #[derive(Deserialize)]
        struct Grant {
            access_token: Option<String>,
            expires_in: Option<f64>,
            error: Option<Value>,
        }
        let what = "the Reddit login";
        let settings = self.settings;
        let request = self
            .transport
            .http()
            .post(&settings.token_url)
            .header(USER_AGENT, &settings.user_agent)
            .basic_auth(&settings.client_id, Some(settings.client_secret.expose()))
            .form(&[
                ("grant_type", "password"),
                ("username", settings.username.as_str()),
                ("password", settings.password.expose()),
            ]);
        let response = request
            .send()
            .await
            .map_err(|error| Failure::unreachable(what, &error))?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(Failure::Permanent(
                "Reddit refused the app's client_id and client_secret".into(),
            ));
        }
        let response = self.transport.check(what, response).await?;
        let grant: Grant = read_json(what, response).await?;
        // A wrong password comes back as HTTP 200 with an error in the body.
        if let Some(error) = grant.error {
            return Err(Failure::Permanent(format!(
                "Reddit refused the login for /u/{}: {error} (check username and password)",
                settings.username
            )));
        }
        let value = grant
            .access_token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| Failure::retry("the Reddit login answered without an access token"))?;
        // A lifetime is not a wait: it may be a day. Bounded all the same, so it cannot overflow.
        let lifetime = grant
            .expires_in
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map_or(DEFAULT_LIFETIME.as_secs() as i64, |secs| {
                secs.min(1e9) as i64
            });
        let now = self.transport.budget().now();
        Ok(Token {
            value: Secret::new(value),
            expires_at: now
                .checked_add_signed(chrono::Duration::seconds(lifetime))
                .unwrap_or(now),
        })
    }
}
