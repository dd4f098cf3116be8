//! LinkedIn's access token: the configured one, or kept fresh with a programmatic refresh token
//! (LinkedIn grants those to approved apps; an access token lasts 60 days, the refresh token a
//! year from the admin's sign-in, and renewing does not extend it). The current grant is kept
//! through the source's [`Credentials`], so a restart goes on with it instead of renewing again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Settings;
use crate::net::oauth::{OAuth, TokenCache, TokenEndpoint};
use crate::net::{Auth, Failure, Secret, Transport};
use crate::store::{Credentials, Grant};

pub const DEFAULT_TOKEN_URL: &str = "https://www.linkedin.com/oauth/v2/accessToken";
/// Renewed a day before it expires: a token endpoint that is down for a while does not stop
/// the polls, since the current token serves until it expires.
const RENEW_BEFORE: chrono::Duration = chrono::Duration::days(1);
/// When LinkedIn's answer names no lifetime: its documented 60 days.
const DEFAULT_LIFETIME: chrono::Duration = chrono::Duration::days(60);
/// A token is warned about this long before it expires, in the digest's source health.
const WARN_BEFORE: chrono::Duration = chrono::Duration::days(7);

pub(super) struct Token {
    source: String,
    /// The config's `token_expires`, for a token earshot cannot renew.
    configured_expires: Option<DateTime<Utc>>,
    refresh: Option<OAuth>,
    credentials: Option<Credentials>,
    cache: TokenCache,
    /// The refresh token in use and when it expires, once LinkedIn or the store said.
    renewal: std::sync::Mutex<Option<(Secret, Option<DateTime<Utc>>)>>,
}

impl Token {
    pub fn new(source: &str, settings: &Settings) -> Token {
        let mut cache = TokenCache::renewing_before(RENEW_BEFORE);
        if let Some(token) = &settings.token {
            // A token earshot cannot renew is sent until LinkedIn refuses it: the config's
            // date is a day, not the hour it lapses, so it only warns.
            let expires = match (&settings.refresh, settings.token_expires) {
                (Some(_), Some(expires)) => expires,
                _ => DateTime::<Utc>::MAX_UTC,
            };
            cache.hold(token.clone(), expires);
        }
        Token {
            source: source.to_string(),
            configured_expires: settings.token_expires,
            refresh: settings.refresh.clone(),
            credentials: None,
            cache,
            renewal: std::sync::Mutex::new(
                settings
                    .refresh
                    .as_ref()
                    .map(|refresh| (refresh.refresh_token.clone(), None)),
            ),
        }
    }

    /// Goes on with the stored grant when it descends from the configured refresh token (a
    /// different one in the config was made on purpose and wins), and saves the next.
    pub fn set_credentials(&mut self, credentials: Credentials) {
        if let Some(refresh) = &self.refresh {
            match credentials.load() {
                Ok(Some(grant)) if grant.seed == refresh.refresh_token.fingerprint() => {
                    if let (Some(access), Some(expires)) = (&grant.access_token, grant.expires_at) {
                        self.cache.hold(Secret::new(access.clone()), expires);
                    }
                    *self.renewal.get_mut().unwrap_or_else(|e| e.into_inner()) = Some((
                        Secret::new(grant.refresh_token.clone()),
                        grant.refresh_expires_at,
                    ));
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(source = self.source, %error, "cannot read the stored LinkedIn token; renewing it when needed");
                }
            }
        }
        self.credentials = Some(credentials);
    }

    pub fn renews(&self) -> bool {
        self.refresh.is_some()
    }

    /// The access token as an [`Auth`] for `transport`'s requests.
    pub fn auth<'a>(&'a self, transport: &'a Transport) -> impl Auth + 'a {
        Renewing {
            token: self,
            transport,
        }
    }

    /// A line for the digest's source health when the token earshot depends on expires
    /// within a week: the refresh token when it renews, else the configured access token.
    pub fn warning(&self, now: DateTime<Utc>) -> Option<String> {
        let (what, key, expires) = if self.renews() {
            let renewal = self.renewal.lock().unwrap_or_else(|e| e.into_inner());
            let expires = renewal.as_ref().and_then(|(_, expires)| *expires)?;
            (
                "refresh token",
                "`refresh_token` (a Page admin signs in to the app again)",
                expires,
            )
        } else {
            (
                "token",
                "`token` (and `token_expires`)",
                self.configured_expires?,
            )
        };
        if expires - now >= WARN_BEFORE {
            return None;
        }
        let when = if expires <= now { "expired" } else { "expires" };
        Some(format!(
            "the LinkedIn {what} of source `{}` {when} on {}: renew {key}{}",
            self.source,
            expires.format("%Y-%m-%d"),
            if expires <= now { "" } else { " before then" }
        ))
    }

    /// Trades the refresh token for a new access token, and keeps the grant.
    async fn renew(&self, transport: &Transport) -> Result<(Secret, DateTime<Utc>), Failure> {
        let Some(refresh) = &self.refresh else {
            return Err(Failure::Permanent(format!(
                "LinkedIn refused the token of source `{}` (401: expired or revoked; tokens last about 60 days): renew `token` with a Page admin's sign-in and update `token_expires`, or set `refresh_token`, `client_id` and `client_secret` so that earshot renews it",
                self.source
            )));
        };
        let (current, refresh_expires) = self
            .renewal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| (refresh.refresh_token.clone(), None));
        let endpoint = TokenEndpoint {
            what: "LinkedIn's token endpoint",
            url: &refresh.token_url,
            default_lifetime: DEFAULT_LIFETIME,
        };
        let issued = endpoint
            .refresh(transport, refresh, &current, |error, description| {
                refused(&self.source, error, description)
            })
            .await?;
        let refresh_token = issued.refresh_token.clone().unwrap_or(current);
        let refresh_expires = issued.refresh_expires_at.or(refresh_expires);
        *self.renewal.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((refresh_token.clone(), refresh_expires));
        self.save(Grant {
            seed: refresh.refresh_token.fingerprint(),
            refresh_token: refresh_token.expose().to_string(),
            access_token: Some(issued.access_token.expose().to_string()),
            expires_at: Some(issued.expires_at),
            refresh_expires_at: refresh_expires,
        })
        .await;
        tracing::info!(source = self.source, expires_at = %issued.expires_at, "renewed the LinkedIn token");
        Ok((issued.access_token, issued.expires_at))
    }

    /// LinkedIn does not void the refresh token it renewed with, so a grant that cannot be
    /// stored costs only a renewal after the next restart: it is logged, not fatal.
    async fn save(&self, grant: Grant) {
        let Some(credentials) = &self.credentials else {
            return;
        };
        if let Err(error) = credentials.save(&grant).await {
            tracing::warn!(source = self.source, %error, "cannot store the LinkedIn token; a restart will renew it again");
        }
    }
}

struct Renewing<'a> {
    token: &'a Token,
    transport: &'a Transport,
}

#[async_trait]
impl Auth for Renewing<'_> {
    async fn token(&self) -> Result<Secret, Failure> {
        let now = self.transport.budget().now();
        self.token
            .cache
            .get(now, || self.token.renew(self.transport))
            .await
    }

    async fn renew(&self, stale: &Secret) -> Result<Secret, Failure> {
        self.token
            .cache
            .renew(stale, || self.token.renew(self.transport))
            .await
    }
}

/// What the operator must do when LinkedIn refuses the refresh.
fn refused(source: &str, error: &str, description: &str) -> String {
    let lower = description.to_lowercase();
    // LinkedIn answers some dead refresh tokens with invalid_request; the standard says
    // invalid_grant. Either way only a new sign-in helps.
    let token_refused =
        error == "invalid_grant" || (error == "invalid_request" && lower.contains("refresh token"));
    if token_refused {
        format!(
            "linkedin source `{source}`: the refresh token was refused ({error}{description}); renew `refresh_token` in the config (a Page admin signs in to the app again; LinkedIn's refresh tokens last a year from the sign-in)"
        )
    } else if matches!(error, "invalid_client" | "unauthorized_client") {
        format!(
            "linkedin source `{source}`: LinkedIn refused the app ({error}{description}); check `client_id` and `client_secret` (the refresh token must come from the same app)"
        )
    } else {
        format!(
            "linkedin source `{source}`: LinkedIn's token endpoint refused the refresh ({error}{description})"
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_refused_refresh_names_the_key_to_renew() {
        let dead = super::refused("linkedin", "invalid_grant", "");
        assert!(
            dead.starts_with("linkedin source `linkedin`: the refresh token was refused (invalid_grant); renew `refresh_token` in the config"),
            "{dead}"
        );
        let quirk = super::refused(
            "linkedin",
            "invalid_request",
            ": The provided refresh token is invalid",
        );
        assert!(quirk.contains("renew `refresh_token`"), "{quirk}");
        let client = super::refused("linkedin", "invalid_client", "");
        assert!(
            client.contains("check `client_id` and `client_secret`"),
            "{client}"
        );
        let other = super::refused("linkedin", "invalid_request", ": grant_type missing");
        assert!(!other.contains("renew `refresh_token`"), "{other}");
    }
}
