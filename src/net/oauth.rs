//! OAuth 2.0 at a token endpoint, as the networks with refresh tokens speak it (RFC 6749 §5-6):
//! an access token cached until shortly before it expires, and the exchange of a grant (a
//! refresh token, or a network's own assertion) for a fresh one. What a refusal tells the
//! operator differs per network, so the caller words it; which config keys hold the grant is
//! read by `config::keys::Keys::refresh_grant`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::transport::{read_json, Transport};
use super::{Failure, Secret};

/// Renewed this long before the endpoint says it expires, unless a source asks for more, so a
/// request never carries a token that lapses on the way.
const TOKEN_MARGIN: chrono::Duration = chrono::Duration::seconds(60);

/// A client registration and the refresh token it was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth {
    pub client_id: String,
    pub client_secret: Secret,
    pub refresh_token: Secret,
    pub token_url: String,
}

/// What a token endpoint issued.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: Secret,
    pub expires_at: DateTime<Utc>,
    /// A refresh token sent back with the access token: a new one where the network rotates
    /// them, the same one where it does not.
    pub refresh_token: Option<Secret>,
    /// When the refresh token itself expires (`refresh_token_expires_in`: LinkedIn's year,
    /// Google's week for an app in "Testing").
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

/// One token endpoint, as a source calls it.
pub struct TokenEndpoint<'a> {
    /// Names it in errors: "Google's token endpoint".
    pub what: &'a str,
    pub url: &'a str,
    /// The access token's lifetime when the answer names none.
    pub default_lifetime: chrono::Duration,
}

impl TokenEndpoint<'_> {
    /// The refresh-token grant, with the client's id and secret in the form (as Google and
    /// LinkedIn take them).
    pub async fn refresh(
        &self,
        transport: &Transport,
        client: &OAuth,
        refresh_token: &Secret,
        refused: impl FnOnce(&str, &str) -> String,
    ) -> Result<Issued, Failure> {
        self.exchange(
            transport,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", client.client_id.as_str()),
                ("client_secret", client.client_secret.expose()),
                ("refresh_token", refresh_token.expose()),
            ],
            refused,
        )
        .await
    }

    /// Posts `form` and reads what was issued. A 4xx (but 429) is the grant's refusal:
    /// `refused(error, description)` says what the operator must renew; it needs a person,
    /// since retrying the same grant cannot help. A 5xx, a 429 or no answer is retried later.
    pub async fn exchange(
        &self,
        transport: &Transport,
        form: &[(&str, &str)],
        refused: impl FnOnce(&str, &str) -> String,
    ) -> Result<Issued, Failure> {
        let what = self.what;
        let response = transport
            .http()
            .post(self.url)
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
                .map(|description| format!(": {}", super::transport::snippet(&description)))
                .unwrap_or_default();
            return Err(Failure::Permanent(refused(&error, &description)));
        }
        let response = transport.check(what, response).await?;
        let answer: Answer = read_json(what, response).await?;
        let token = answer
            .access_token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| Failure::retry(format!("{what} answered without a token")))?;
        let now = transport.budget().now();
        let expires_at = later(now, answer.expires_in)
            .unwrap_or_else(|| now.checked_add_signed(self.default_lifetime).unwrap_or(now));
        Ok(Issued {
            access_token: Secret::new(token),
            expires_at,
            refresh_token: answer
                .refresh_token
                .filter(|token| !token.is_empty())
                .map(Secret::new),
            refresh_expires_at: later(now, answer.refresh_token_expires_in),
        })
    }
}

/// The token a source holds, shared by its polls and answers; one renewal runs at a time.
pub struct TokenCache {
    cached: tokio::sync::Mutex<Option<(Secret, DateTime<Utc>)>>,
    margin: chrono::Duration,
}

impl Default for TokenCache {
    fn default() -> TokenCache {
        TokenCache::renewing_before(TOKEN_MARGIN)
    }
}

impl TokenCache {
    /// A cache that renews its token `margin` before it expires.
    pub fn renewing_before(margin: chrono::Duration) -> TokenCache {
        TokenCache {
            cached: tokio::sync::Mutex::new(None),
            margin,
        }
    }

    /// Starts from a token known already (configured, or kept in the store).
    pub fn hold(&mut self, token: Secret, expires_at: DateTime<Utc>) {
        *self.cached.get_mut() = Some((token, expires_at));
    }

    /// The cached token while it has more than the margin left, else `fetch`'s. When `fetch`
    /// can only be retried later, a cached token that has not expired yet still serves.
    pub async fn get<F, Fut>(&self, now: DateTime<Utc>, fetch: F) -> Result<Secret, Failure>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Secret, DateTime<Utc>), Failure>>,
    {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref() {
            if *expires > now + self.margin {
                return Ok(token.clone());
            }
        }
        match fetch().await {
            Ok((token, expires)) => {
                *cached = Some((token.clone(), expires));
                Ok(token)
            }
            Err(Failure::Retry { reason, after }) => match cached.as_ref() {
                Some((token, expires)) if *expires > now => {
                    tracing::warn!(%reason, "cannot renew a token yet; the current one serves until it expires");
                    Ok(token.clone())
                }
                _ => Err(Failure::Retry { reason, after }),
            },
            Err(failure) => Err(failure),
        }
    }

    /// A token other than `stale`: the one another request renewed already, else `fetch`'s.
    pub async fn renew<F, Fut>(&self, stale: &Secret, fetch: F) -> Result<Secret, Failure>
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

/// A token endpoint's answer, for a token or a refusal.
#[derive(Deserialize)]
struct Answer {
    access_token: Option<String>,
    expires_in: Option<f64>,
    refresh_token: Option<String>,
    refresh_token_expires_in: Option<f64>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `now` plus a lifetime in seconds, when the answer names a sane one.
fn later(now: DateTime<Utc>, secs: Option<f64>) -> Option<DateTime<Utc>> {
    let secs = secs.filter(|secs| secs.is_finite() && *secs > 0.0)?;
    now.checked_add_signed(chrono::Duration::seconds(secs.min(1e10) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[tokio::test]
    async fn a_cached_token_serves_until_its_margin_and_through_a_passing_outage() {
        let mut cache = TokenCache::renewing_before(chrono::Duration::days(1));
        cache.hold(Secret::new("old"), at("2026-12-10T00:00:00Z"));
        let unused = || async { panic!("a fresh token is not renewed") };
        let early = cache.get(at("2026-12-01T00:00:00Z"), unused).await;
        assert_eq!(early.unwrap().expose(), "old");
        // Inside the margin the endpoint is down: the old token still works, so it serves.
        let down = || async { Err(Failure::retry("the token endpoint answered 503")) };
        let late = cache.get(at("2026-12-09T12:00:00Z"), down).await;
        assert_eq!(late.unwrap().expose(), "old");
        // A refusal needs a person, and is said at once.
        let refused = || async { Err(Failure::Permanent("renew `refresh_token`".into())) };
        let error = cache.get(at("2026-12-09T12:00:00Z"), refused).await;
        assert!(matches!(error, Err(Failure::Permanent(_))));
        // Once expired, an outage is the caller's to retry.
        let expired = cache.get(at("2026-12-10T00:00:01Z"), down).await;
        assert!(matches!(expired, Err(Failure::Retry { .. })));
        let renewed = cache
            .get(at("2026-12-10T00:00:01Z"), || async {
                Ok((Secret::new("new"), at("2027-02-08T00:00:00Z")))
            })
            .await;
        assert_eq!(renewed.unwrap().expose(), "new");
        // Another request renewed it already: the stale one is not renewed again.
        let again = cache.renew(&Secret::new("old"), unused).await;
        assert_eq!(again.unwrap().expose(), "new");
    }

    #[test]
    fn lifetimes_are_read_only_when_sane() {
        let now = at("2026-12-02T12:00:00Z");
        assert_eq!(later(now, Some(60.0)), Some(at("2026-12-02T12:01:00Z")));
        for odd in [
            None,
            Some(0.0),
            Some(-5.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
        ] {
            assert_eq!(later(now, odd), None, "{odd:?}");
        }
        assert!(
            later(now, Some(1e300)).is_some(),
            "a huge one is capped, not overflowed"
        );
    }
}
