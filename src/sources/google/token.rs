//! An access token cached until shortly before it expires, and the exchange at Google's token
//! endpoint that gets a fresh one. The grants (`oauth.rs`, `service_account.rs`) differ only in
//! the form they post and in what they tell the operator when Google refuses it.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::net::{read_json, Failure, Secret, Transport};

/// Renewed this long before Google says it expires, so a request never carries a token that
/// lapses on the way.
const TOKEN_MARGIN: chrono::Duration = chrono::Duration::seconds(60);
/// Google's access tokens last an hour when the answer does not say.
const DEFAULT_LIFETIME_SECS: i64 = 3600;

/// The token a source holds, shared by its polls and answers.
#[derive(Default)]
pub struct TokenCache {
    cached: tokio::sync::Mutex<Option<(Secret, DateTime<Utc>)>>,
}

impl TokenCache {
    /// The cached token while it has more than a minute left, else `fetch`'s.
    pub(super) async fn get<F, Fut>(&self, now: DateTime<Utc>, fetch: F) -> Result<Secret, Failure>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Secret, DateTime<Utc>), Failure>>,
    {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref() {
            if *expires > now + TOKEN_MARGIN {
                return Ok(token.clone());
            }
        }
        let (token, expires) = fetch().await?;
        *cached = Some((token.clone(), expires));
        Ok(token)
    }

    /// A token other than `stale`: the one another request renewed already, else `fetch`'s.
    pub(super) async fn renew<F, Fut>(&self, stale: &Secret, fetch: F) -> Result<Secret, Failure>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Secret, DateTime<Utc>), Failure>>,
    {
        let mut cached = self.cached.lock().await;
        if let Some((token, _)) = cached.as_ref() {
            if token != stale {
                return Ok(token.clone());
            }
        }
        let (token, expires) = fetch().await?;
        *cached = Some((token.clone(), expires));
        Ok(token)
    }
}

/// Google's answer, for a token or a refusal.
#[derive(Deserialize)]
struct Answer {
    access_token: Option<String>,
    expires_in: Option<f64>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Posts `form` to `url` and reads the access token and when it expires. A 4xx is the grant's
/// refusal: `refused(error, description)` says what the operator must renew (it needs a person;
/// retrying the same grant cannot help). A 5xx or no answer is retried later.
pub(super) async fn exchange(
    transport: &Transport,
    url: &str,
    form: &[(&str, &str)],
    refused: impl FnOnce(&str, &str) -> String,
) -> Result<(Secret, DateTime<Utc>), Failure> {
    let what = "Google's token endpoint";
    let response = transport
        .http()
        .post(url)
        .form(form)
        .send()
        .await
        .map_err(|error| Failure::unreachable(what, &error))?;
    let status = response.status();
    if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
        let body = response.text().await.unwrap_or_default();
        let answer: Option<Answer> = serde_json::from_str(&body).ok();
        let error = answer
            .as_ref()
            .and_then(|answer| answer.error.clone())
            .unwrap_or_else(|| status.to_string());
        let description = answer
            .and_then(|answer| answer.error_description)
            .map(|description| format!(": {description}"))
            .unwrap_or_default();
        return Err(Failure::Permanent(refused(&error, &description)));
    }
    let response = transport.check(what, response).await?;
    let answer: Answer = read_json(what, response).await?;
    let token = answer
        .access_token
        .filter(|token| !token.is_empty())
        .ok_or_else(|| Failure::retry("Google's token endpoint answered without a token"))?;
    let lifetime = answer
        .expires_in
        .filter(|secs| secs.is_finite() && *secs > 0.0)
        .map_or(DEFAULT_LIFETIME_SECS, |secs| secs.min(1e9) as i64);
    let now = transport.budget().now();
    let expires = now
        .checked_add_signed(chrono::Duration::seconds(lifetime))
        .unwrap_or(now);
    Ok((Secret::new(token), expires))
}
