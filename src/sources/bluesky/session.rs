//! The app-password session and the XRPC calls made with it: created once, refreshed when
//! the access token expires, and only created again when the refresh token is refused too. createSession is limited to 30 per
//! 5 minutes and 300 per day per account, so a poll never logs in.

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Bluesky;
use crate::net::{self, Purpose};
use crate::sources::SourceError;

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Session {
    pub access_jwt: String,
    pub refresh_jwt: String,
    pub did: String,
    pub handle: String,
}

impl Bluesky {
    /// The cached session, created on first use.
    pub(super) async fn session(&self) -> Result<Session, SourceError> {
        let mut cached = self.session.lock().await;
        if let Some(session) = cached.as_ref() {
            return Ok(session.clone());
        }
        let body = json!({ "identifier": self.identifier, "password": self.password.expose() });
        let session: Session = self
            .call(
                Method::POST,
                "com.atproto.server.createSession",
                &[],
                Some(&body),
                None,
                false,
            )
            .await
            .map_err(|failure| failure.into_error("logging in"))?;
        tracing::info!(source = %self.name, did = %session.did, "logged in to Bluesky");
        *cached = Some(session.clone());
        Ok(session)
    }

    /// A fresh session after the PDS called `stale` expired: refreshSession, and only if the
    /// refresh token is refused as well, a new login.
    async fn renew(&self, stale: &Session) -> Result<Session, SourceError> {
        let mut cached = self.session.lock().await;
        if let Some(current) = cached.as_ref() {
            if current.access_jwt != stale.access_jwt {
                return Ok(current.clone()); // another task renewed it already
            }
        }
        let refreshed: Result<Session, Failure> = self
            .call(
                Method::POST,
                "com.atproto.server.refreshSession",
                &[],
                None,
                Some(&stale.refresh_jwt),
                false,
            )
            .await;
        let session = match refreshed {
            Ok(session) => session,
            Err(Failure::Auth(_)) => {
                *cached = None;
                drop(cached);
                return self.session().await;
            }
            Err(failure) => return Err(failure.into_error("refreshing the session")),
        };
        *cached = Some(session.clone());
        Ok(session)
    }

    /// An authenticated XRPC call that renews the session once if the PDS says it expired.
    pub(super) async fn xrpc<T: DeserializeOwned>(
        &self,
        method: Method,
        nsid: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        poll: bool,
    ) -> Result<T, SourceError> {
        self.xrpc_or_missing(method, nsid, query, body, poll)
            .await
            .map_err(|failure| failure.into_error(nsid))
    }

    /// [`Self::xrpc`], telling "not found" apart for callers to whom it is an answer.
    pub(super) async fn xrpc_or_missing<T: DeserializeOwned>(
        &self,
        method: Method,
        nsid: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        poll: bool,
    ) -> Result<T, Failure> {
        let session = self.session().await.map_err(Failure::Other)?;
        match self
            .call(
                method.clone(),
                nsid,
                query,
                body,
                Some(&session.access_jwt),
                poll,
            )
            .await
        {
            Err(Failure::Auth(_)) => {
                let session = self.renew(&session).await.map_err(Failure::Other)?;
                self.call(method, nsid, query, body, Some(&session.access_jwt), poll)
                    .await
            }
            result => result,
        }
    }

    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        nsid: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        token: Option<&str>,
        poll: bool,
    ) -> Result<T, Failure> {
        let host = self.transport.service().to_string();
        let mut url = self.pds.clone();
        url.set_path(&format!("/xrpc/{nsid}"));
        let mut request = self.transport.http().request(method, url).query(query);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let purpose = if poll { Purpose::Poll } else { Purpose::Answer };
        let response = self
            .transport
            .send(nsid, purpose, request)
            .await
            .map_err(|failure| Failure::Other(failure.into()))?;
        let status = response.status();
        let wait = self.transport.wait(&response);
        let bytes = response.bytes().await.map_err(|error| {
            Failure::Other(SourceError::Retry {
                reason: format!("{nsid}: reading the response failed: {error}"),
                after: None,
            })
        })?;
        if status.is_success() {
            return net::transport::decode(nsid, &bytes)
                .map_err(|failure| Failure::Other(failure.into()));
        }
        let error: XrpcError = serde_json::from_slice(&bytes).unwrap_or_default();
        let detail = [error.error.as_deref(), error.message.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
        // atproto says "expired" in the body, sometimes with a 400.
        let expired = matches!(
            error.error.as_deref(),
            Some("ExpiredToken" | "InvalidToken")
        );
        if status == StatusCode::UNAUTHORIZED || expired {
            return Err(Failure::Auth(detail));
        }
        // A deleted post: `getRecord` says RecordNotFound, `getPostThread` 400 NotFound.
        if status == StatusCode::NOT_FOUND
            || matches!(error.error.as_deref(), Some("RecordNotFound" | "NotFound"))
        {
            return Err(Failure::NotFound(detail));
        }
        let reason = format!("{nsid} at {host} answered {status} ({detail})");
        Err(Failure::Other(
            net::Failure::of(net::classify(status), reason, wait).into(),
        ))
    }
}

/// Why a call failed, as far as the session logic cares.
pub(super) enum Failure {
    /// The token is expired or refused: renew the session and try again.
    Auth(String),
    NotFound(String),
    Other(SourceError),
}

impl Failure {
    pub(super) fn into_error(self, what: &str) -> SourceError {
        match self {
            Failure::Auth(detail) => SourceError::Permanent(format!(
                "Bluesky refused the login while {what} ({detail}); check the source's `handle` and `app_password`"
            )),
            Failure::NotFound(detail) => SourceError::Permanent(format!("{what}: not found ({detail})")),
            Failure::Other(error) => error,
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct XrpcError {
    error: Option<String>,
    message: Option<String>,
}

impl std::fmt::Debug for Session {
    // The JWTs are the account's keys for as long as they live: never in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("access_jwt", &"***")
            .field("refresh_jwt", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_never_prints_its_tokens() {
        let session = Session {
            access_jwt: "eyJ.access".into(),
            refresh_jwt: "eyJ.refresh".into(),
            did: "did:plc:abc".into(),
            handle: "acme.bsky.social".into(),
        };
        let printed = format!("{session:?}");
        assert!(!printed.contains("eyJ"), "{printed}");
        assert!(printed.contains("did:plc:abc"));
    }
}
