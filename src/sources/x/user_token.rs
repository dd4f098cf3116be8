//! The brand's OAuth 2.0 user-context token, which posts answers: used as configured, or kept
//! fresh with a refresh token (`offline.access`). X rotates refresh tokens: every refresh
//! returns a new one and voids the old, so the new one is saved before the access token it
//! came with is used, and one refresh runs at a time.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;

use super::Refresh;
use crate::net::{classify, error_chain, Clock, Failure, Secret};
use crate::store::{Credentials, Grant};

/// An access token is renewed this long before X says it expires, so an answer never goes
/// out with a token that dies on the way.
const EXPIRY_MARGIN: chrono::Duration = chrono::Duration::seconds(60);
/// X's access tokens live two hours; when a grant names no lifetime, assume that.
const DEFAULT_LIFETIME_SECS: i64 = 7200;
/// What a person is told when the refresh token is dead: nothing but a new one helps.
pub const REFRESH_REFUSED: &str =
    "X refused the refresh token; create a new one and set X_REFRESH_TOKEN";

pub(super) struct UserToken {
    /// The access token from the config, if any: the first one used.
    configured: Option<Secret>,
    refresh: Option<Refresh>,
    credentials: Option<Credentials>,
    http: reqwest::Client,
    clock: Clock,
    /// Held for the whole of a refresh, so answers sent at once refresh only once.
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    access: Option<Secret>,
    /// `None`: unknown (a configured token), used until X refuses it.
    expires_at: Option<DateTime<Utc>>,
    refresh_token: Option<Secret>,
    /// A grant X issued that could not be saved yet; it is not used until it is saved.
    unsaved: Option<Grant>,
}

impl UserToken {
    pub fn new(
        configured: Option<Secret>,
        refresh: Option<Refresh>,
        http: reqwest::Client,
        clock: Clock,
    ) -> UserToken {
        UserToken {
            configured,
            refresh,
            credentials: None,
            http,
            clock,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// Where rotated refresh tokens are kept. Without it they live in memory only, and the
    /// configured refresh token is void after the first restart that follows a refresh.
    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.credentials = Some(credentials);
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// Whether answers can be posted at all.
    pub fn configured(&self) -> bool {
        self.configured.is_some() || self.refresh.is_some()
    }

    /// An access token to post with, renewed first when it is about to expire.
    pub async fn current(&self) -> Result<Secret, Failure> {
        let mut state = self.state.lock().await;
        self.ready(&mut state).await?;
        if let Some(access) = &state.access {
            if !self.expiring(state.expires_at) || self.refresh.is_none() {
                return Ok(access.clone());
            }
        }
        if self.refresh.is_none() {
            return Err(no_user_token());
        }
        self.renew(&mut state).await
    }

    /// A new access token after X refused `used` (401): renewed, unless another answer
    /// renewed it meanwhile.
    pub async fn refused(&self, used: &Secret) -> Result<Secret, Failure> {
        let mut state = self.state.lock().await;
        self.ready(&mut state).await?;
        if let Some(access) = &state.access {
            if access != used && !self.expiring(state.expires_at) {
                return Ok(access.clone());
            }
        }
        if self.refresh.is_none() {
            return Err(Failure::Permanent(
                "X refused the user token (expired or revoked); renew `user_token`, or set `refresh_token` so that earshot renews it".into(),
            ));
        }
        // The token X just refused must not be handed out again, whatever its expiry said.
        state.access = None;
        self.renew(&mut state).await
    }

    /// Loads the stored grant once, and saves one X issued that could not be saved before.
    async fn ready(&self, state: &mut State) -> Result<(), Failure> {
        if !state.loaded {
            *state = self.initial()?;
        }
        if let Some(grant) = state.unsaved.take() {
            if let Err(error) = self.save(&grant).await {
                state.unsaved = Some(grant);
                return Err(error);
            }
            apply(state, &grant);
        }
        Ok(())
    }

    /// The configured tokens, or the stored grant when it descends from the configured
    /// refresh token (it is newer: the configured one was void from its first use).
    fn initial(&self) -> Result<State, Failure> {
        let mut state = State {
            loaded: true,
            access: self.configured.clone(),
            expires_at: None,
            refresh_token: self.refresh.as_ref().map(|refresh| refresh.token.clone()),
            unsaved: None,
        };
        let (Some(refresh), Some(credentials)) = (&self.refresh, &self.credentials) else {
            return Ok(state);
        };
        match credentials.load() {
            Ok(Some(grant)) if grant.seed == refresh.token.fingerprint() => apply(&mut state, &grant),
            Ok(Some(_)) => tracing::info!(
                "the configured X refresh token is not the one the stored token came from; using the configured one"
            ),
            Ok(None) => {}
            Err(error) => {
                return Err(Failure::Retry {
                    reason: format!("cannot read the stored X token: {error}"),
                    after: None,
                })
            }
        }
        Ok(state)
    }

    fn expiring(&self, expires_at: Option<DateTime<Utc>>) -> bool {
        expires_at.is_some_and(|at| at - EXPIRY_MARGIN <= (self.clock)())
    }

    /// Trades the refresh token for a new grant, saves it, and returns its access token.
    async fn renew(&self, state: &mut State) -> Result<Secret, Failure> {
        let (Some(refresh), Some(refresh_token)) = (&self.refresh, state.refresh_token.clone())
        else {
            return Err(no_user_token());
        };
        let grant = self.exchange(refresh, &refresh_token).await?;
        if let Err(error) = self.save(&grant).await {
            // X voided the old refresh token already: keep the new one to save next time.
            state.access = None;
            state.unsaved = Some(grant);
            return Err(error);
        }
        apply(state, &grant);
        tracing::info!(expires_at = ?grant.expires_at, "renewed the X user token");
        state.access.clone().ok_or_else(no_user_token)
    }

    async fn save(&self, grant: &Grant) -> Result<(), Failure> {
        let Some(credentials) = &self.credentials else {
            return Ok(());
        };
        credentials
            .save(grant)
            .await
            .map_err(|error| Failure::Retry {
                reason: format!(
                "X renewed the user token, but earshot cannot save the new refresh token ({error}); the answer waits until it can"
            ),
                after: None,
            })
    }

    /// `POST /2/oauth2/token` with `grant_type=refresh_token`. A public client names itself
    /// in the body; a confidential one authenticates with HTTP Basic instead.
    async fn exchange(&self, refresh: &Refresh, refresh_token: &Secret) -> Result<Grant, Failure> {
        let what = "X (renewing the user token)";
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ];
        let mut request = self.http.post(&refresh.token_url);
        match &refresh.client_secret {
            Some(secret) => {
                request = request.basic_auth(&refresh.client_id, Some(secret.expose()));
            }
            None => form.push(("client_id", refresh.client_id.as_str())),
        }
        let response = request
            .form(&form)
            .send()
            .await
            .map_err(|error| Failure::unreachable(what, &error))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|error| Failure::Retry {
            reason: format!("reading {what} failed: {}", error_chain(&error)),
            after: None,
        })?;
        if !status.is_success() {
            return Err(refusal(what, status, &body));
        }
        let issued: Issued = serde_json::from_slice(&body).map_err(|error| Failure::Retry {
            reason: format!("{what} sent a response earshot cannot read: {error}"),
            after: None,
        })?;
        let access = issued
            .access_token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| Failure::Retry {
                reason: format!("{what} answered without an access token"),
                after: None,
            })?;
        let lifetime = issued
            .expires_in
            .filter(|secs| *secs > 0)
            .unwrap_or(DEFAULT_LIFETIME_SECS);
        Ok(Grant {
            seed: refresh.token.fingerprint(),
            // X always rotates with offline.access; if it ever does not, the old one stands.
            refresh_token: issued
                .refresh_token
                .filter(|token| !token.is_empty())
                .unwrap_or_else(|| refresh_token.expose().to_string()),
            access_token: Some(access),
            expires_at: (self.clock)()
                .checked_add_signed(chrono::Duration::seconds(lifetime.min(1_000_000_000))),
            refresh_expires_at: None,
        })
    }
}

#[derive(Deserialize)]
struct Issued {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
}

/// An OAuth error body: `{"error": "invalid_grant", "error_description": "..."}`.
#[derive(Deserialize, Default)]
struct OAuthError {
    error: Option<String>,
    error_description: Option<String>,
}

fn apply(state: &mut State, grant: &Grant) {
    state.refresh_token = Some(Secret::new(grant.refresh_token.clone()));
    state.access = grant.access_token.clone().map(Secret::new);
    state.expires_at = grant.expires_at;
}

fn no_user_token() -> Failure {
    Failure::Permanent(
        "earshot cannot post on X for this source: it has no `user_token` or `refresh_token` (OAuth 2.0, with tweet.write)".into(),
    )
}

/// Sorts a failed refresh. The body is read for its OAuth error only, never quoted whole.
fn refusal(what: &str, status: StatusCode, body: &[u8]) -> Failure {
    let problem: OAuthError = serde_json::from_slice(body).unwrap_or_default();
    let detail = [
        problem.error.as_deref(),
        problem.error_description.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(|part| part.chars().take(200).collect::<String>())
    .collect::<Vec<_>>()
    .join(": ");
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    };
    let code = problem.error.as_deref().unwrap_or_default();
    // X answers a void refresh token with invalid_request ("Value passed for the token was
    // invalid"); the standard says invalid_grant. Either way only a new token helps.
    let token_refused = code == "invalid_grant"
        || (code == "invalid_request"
            && problem
                .error_description
                .as_deref()
                .is_some_and(|text| text.to_lowercase().contains("token")));
    if status == StatusCode::BAD_REQUEST && token_refused {
        return Failure::Permanent(format!("{REFRESH_REFUSED}{detail}"));
    }
    if status == StatusCode::UNAUTHORIZED
        || code == "invalid_client"
        || code == "unauthorized_client"
    {
        return Failure::Permanent(format!(
            "X refused the app's `client_id` (or `client_secret`) while renewing the user token{detail}"
        ));
    }
    // The refresh endpoint's own 401 was read above: any other status is what it is.
    match Failure::of(
        classify(status),
        format!("{what} answered {status}{detail}"),
        None,
    ) {
        Failure::TokenExpired(reason) => Failure::Permanent(reason),
        failure => failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_void_refresh_token_is_told_apart_from_other_refusals() {
        let bad = StatusCode::BAD_REQUEST;
        let void = [
            r#"{"error":"invalid_grant"}"#,
            r#"{"error":"invalid_request","error_description":"Value passed for the token was invalid."}"#,
        ];
        for body in void {
            let error = refusal("X", bad, body.as_bytes());
            assert!(
                matches!(&error, Failure::Permanent(reason) if reason.starts_with(REFRESH_REFUSED)),
                "{body}: {error:?}"
            );
        }
        let client = refusal(
            "X",
            StatusCode::UNAUTHORIZED,
            br#"{"error":"invalid_client"}"#,
        );
        assert!(client.to_string().contains("client_id"), "{client}");
        let missing = refusal("X", bad, br#"{"error":"invalid_request","error_description":"Missing required parameter [grant_type]."}"#);
        assert!(
            matches!(&missing, Failure::Permanent(reason) if !reason.contains("X_REFRESH_TOKEN") && reason.contains("grant_type")),
            "{missing:?}"
        );
        assert!(matches!(
            refusal("X", StatusCode::SERVICE_UNAVAILABLE, b"<html>"),
            Failure::Retry { .. }
        ));
    }
}
