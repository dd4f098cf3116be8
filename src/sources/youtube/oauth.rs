//! Answering as the channel: Google's OAuth refresh-token grant, the access token cached until
//! shortly before it expires and renewed once when YouTube refuses it. An `invalid_grant` says
//! exactly what to renew, including the consent screen's "Testing" trap (refresh tokens that
//! die after 7 days).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::net::{read_json, Auth, Failure, Secret, Transport};

/// Renewed this long before Google says it expires.
const TOKEN_MARGIN: chrono::Duration = chrono::Duration::seconds(60);
/// Google's access tokens last an hour.
const DEFAULT_LIFETIME_SECS: i64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth {
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Secret,
    pub token_url: String,
}

pub(super) struct Grant<'a> {
    pub source: &'a str,
    pub oauth: &'a OAuth,
    pub transport: &'a Transport,
    pub cached: &'a tokio::sync::Mutex<Option<(Secret, DateTime<Utc>)>>,
}

#[async_trait]
impl Auth for Grant<'_> {
    async fn token(&self) -> Result<Secret, Failure> {
        let mut cached = self.cached.lock().await;
        let now = self.transport.budget().now();
        if let Some((token, expires)) = cached.as_ref() {
            if *expires > now + TOKEN_MARGIN {
                return Ok(token.clone());
            }
        }
        let fresh = self.refresh().await?;
        let token = fresh.0.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    async fn renew(&self, stale: &Secret) -> Result<Secret, Failure> {
        let mut cached = self.cached.lock().await;
        if let Some((token, _)) = cached.as_ref() {
            if token != stale {
                return Ok(token.clone());
            }
        }
        let fresh = self.refresh().await?;
        let token = fresh.0.clone();
        *cached = Some(fresh);
        Ok(token)
    }
}

impl Grant<'_> {
    async fn refresh(&self) -> Result<(Secret, DateTime<Utc>), Failure> {
        #[derive(Deserialize)]
        struct Answer {
            access_token: Option<String>,
            expires_in: Option<f64>,
            error: Option<String>,
            error_description: Option<String>,
        }
        let what = "Google's token endpoint";
        let response = self
            .transport
            .http()
            .post(&self.oauth.token_url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", self.oauth.client_id.as_str()),
                ("client_secret", self.oauth.client_secret.expose()),
                ("refresh_token", self.oauth.refresh_token.expose()),
            ])
            .send()
            .await
            .map_err(|error| Failure::unreachable(what, &error))?;
        let status = response.status();
        if status.is_client_error() {
            let body = response.text().await.unwrap_or_default();
            let answer: Option<Answer> = serde_json::from_str(&body).ok();
            let error = answer
                .as_ref()
                .and_then(|a| a.error.clone())
                .unwrap_or_else(|| status.to_string());
            let description = answer
                .and_then(|a| a.error_description)
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            return Err(Failure::Permanent(refused(
                self.source,
                &error,
                &description,
            )));
        }
        let response = self.transport.check(what, response).await?;
        let answer: Answer = read_json(what, response).await?;
        let token = answer
            .access_token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| Failure::retry("Google's token endpoint answered without a token"))?;
        let lifetime = answer
            .expires_in
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .map_or(DEFAULT_LIFETIME_SECS, |secs| secs.min(1e9) as i64);
        let now = self.transport.budget().now();
        let expires = now
            .checked_add_signed(chrono::Duration::seconds(lifetime))
            .unwrap_or(now);
        Ok((Secret::new(token), expires))
    }
}

/// What the operator must do when Google refuses the grant.
fn refused(source: &str, error: &str, description: &str) -> String {
    match error {
        "invalid_grant" => format!(
            "Google refused the YouTube refresh token of source `{source}` (invalid_grant{description}): renew `refresh_token` by signing in again as the channel's owner with scope youtube.force-ssl. If the OAuth consent screen is still in \"Testing\", Google expires its refresh tokens after 7 days: publish the app (Google Auth Platform → Audience → Publish app) before getting the new token"
        ),
        "invalid_client" | "unauthorized_client" => format!(
            "Google refused the OAuth client of source `{source}` ({error}{description}): check `client_id` and `client_secret` (the refresh token must come from the same client)"
        ),
        _ => format!("Google's token endpoint refused source `{source}` ({error}{description})"),
    }
}
