//! Google's OAuth refresh-token grant (Business Profile, YouTube): the access token is cached
//! until shortly before it expires and renewed once when the API refuses it. An
//! `invalid_grant` tells the operator exactly what to renew, including the consent screen's
//! "Testing" trap (Google expires those refresh tokens after 7 days).

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::token_endpoint;
use crate::net::oauth::{OAuth, TokenCache};
use crate::net::{Auth, Failure, Secret, Transport};

/// What the operator is told to renew: whose grant, for which network and scope.
#[derive(Debug, Clone, Copy)]
pub struct Renewal {
    /// "YouTube", "Google Business Profile".
    pub network: &'static str,
    /// The scope the new token needs, as the consent screen names it: "business.manage".
    pub scope: &'static str,
    /// Who signs in again: "the channel's owner".
    pub who: &'static str,
}

pub struct RefreshGrant<'a> {
    pub source: &'a str,
    pub oauth: &'a OAuth,
    pub renewal: Renewal,
    pub transport: &'a Transport,
    pub cache: &'a TokenCache,
    pub expiry: &'a RefreshExpiry,
}

/// A refresh token's own end, when Google names it (`refresh_token_expires_in`): it does for
/// the 7-day tokens of a consent screen in "Testing" and for time-limited grants, never for a
/// published app's. Read from each renewal, warned about in the digest's source health.
#[derive(Debug, Default)]
pub struct RefreshExpiry(Mutex<Option<DateTime<Utc>>>);

/// Warned about this long before the refresh token lapses: a Testing token always is.
const WARN_BEFORE: chrono::Duration = chrono::Duration::days(7);

impl RefreshExpiry {
    fn note(&self, expires: Option<DateTime<Utc>>) {
        if let Ok(mut known) = self.0.lock() {
            *known = expires;
        }
    }

    /// The digest's line when the refresh token of `source` lapses within a week.
    pub fn warning(&self, source: &str, renewal: Renewal, now: DateTime<Utc>) -> Option<String> {
        let expires = (*self.0.lock().ok()?)?;
        if expires - now >= WARN_BEFORE {
            return None;
        }
        let Renewal {
            network,
            scope,
            who,
        } = renewal;
        let when = if expires <= now { "expired" } else { "expires" };
        Some(format!(
            "the {network} refresh token of source `{source}` {when} on {} (Google said so when it renewed the access token): if the OAuth consent screen is in \"Testing\", Google ends its refresh tokens after 7 days; publish the app (Google Auth Platform → Audience → Publish app), then renew `refresh_token` by signing in again as {who} with scope {scope}",
            expires.format("%Y-%m-%d %H:%M UTC")
        ))
    }
}

#[async_trait]
impl Auth for RefreshGrant<'_> {
    async fn token(&self) -> Result<Secret, Failure> {
        let now = self.transport.budget().now();
        self.cache.get(now, || self.refresh()).await
    }

    async fn renew(&self, stale: &Secret) -> Result<Secret, Failure> {
        self.cache.renew(stale, || self.refresh()).await
    }
}

impl RefreshGrant<'_> {
    async fn refresh(&self) -> Result<(Secret, chrono::DateTime<chrono::Utc>), Failure> {
        let issued = token_endpoint(&self.oauth.token_url)
            .refresh(
                self.transport,
                self.oauth,
                &self.oauth.refresh_token,
                |error, description| refused(self.source, self.renewal, error, description),
            )
            .await?;
        self.expiry.note(issued.refresh_expires_at);
        Ok((issued.access_token, issued.expires_at))
    }
}

/// What the operator must do when Google refuses the grant.
pub fn refused(source: &str, renewal: Renewal, error: &str, description: &str) -> String {
    let Renewal {
        network,
        scope,
        who,
    } = renewal;
    match error {
        "invalid_grant" => format!(
            "Google refused the {network} refresh token of source `{source}` (invalid_grant{description}): renew `refresh_token` by signing in again as {who} with scope {scope}. If the OAuth consent screen is still in \"Testing\", Google expires its refresh tokens after 7 days: publish the app (Google Auth Platform → Audience → Publish app) before getting the new token"
        ),
        "invalid_client" | "unauthorized_client" => format!(
            "Google refused the OAuth client of source `{source}` ({error}{description}): check `client_id` and `client_secret` (the refresh token must come from the same client)"
        ),
        _ => format!("Google's token endpoint refused source `{source}` ({error}{description})"),
    }
}
