//! What the Facebook Page and Instagram sources share: one Graph API client. Every call carries
//! the token (as a header, never in a URL that could reach a log) and, when the app secret is
//! configured, `appsecret_proof`; every response's usage headers feed the budget, so polls slow
//! down before Meta's limits are reached; and Graph errors become a line a person can act on.
//!
//! `usage.rs` reads the usage headers, `error.rs` the Graph errors, `time.rs` Graph's times,
//! `keys.rs` the config keys both sources have.

mod error;
pub mod keys;
mod time;
mod usage;

use hmac::{Hmac, KeyInit, Mac};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::Sha256;

pub use error::GraphError;
pub use time::parse_time;
pub use usage::usage_limits;

use crate::net::transport::decode;
use crate::net::{base_url, Budget, Clock, Failure, Purpose, RateHeaders, Secret, Transport};

pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com/v23.0";
/// Polls stop when any usage header reaches 100 minus this many percent, until Meta's estimate
/// of when access comes back (or [`usage::SLOWDOWN`]); answers go on until 100%.
const RESERVE_PERCENT: u32 = 10;

/// A Graph list: `data`, and `paging` with `cursors.after` and `next` (absent on the last page).
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    pub paging: Option<Paging>,
}

impl<T> Page<T> {
    /// The cursor of the next page; `None` on the last one. Meta says `next` is absent on the
    /// last page and that cursors are not to be kept: they are used within one poll only.
    pub fn after(&self) -> Option<String> {
        let paging = self.paging.as_ref()?;
        paging.next.as_ref()?;
        paging
            .cursors
            .as_ref()?
            .after
            .clone()
            .filter(|after| !after.is_empty())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Paging {
    pub cursors: Option<Cursors>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Cursors {
    pub after: Option<String>,
}

/// `{"id": "..."}`: what a POST that creates something answers.
#[derive(Debug, Deserialize)]
pub struct Created {
    pub id: Option<String>,
}

/// A refused call: the Graph error in the body, if any, and the failure it means.
type GraphRefusal = (Option<Box<GraphError>>, Failure);

pub struct Graph {
    base: String,
    token: Secret,
    /// HMAC-SHA256 of the token under the app secret, hex: Meta refuses calls without it when
    /// the app requires it, and it makes a stolen token useless without the secret.
    proof: Option<String>,
    transport: Transport,
    /// What to renew when Meta refuses the token ("the `token` of source `facebook`").
    renew_hint: String,
}

impl Graph {
    pub fn new(
        service: &str,
        base: &str,
        token: Secret,
        app_secret: Option<&Secret>,
        renew_hint: String,
        http: reqwest::Client,
    ) -> Graph {
        let proof = app_secret.map(|secret| appsecret_proof(secret, &token));
        Graph {
            base: base_url(base),
            token,
            proof,
            transport: Transport::new(
                service,
                http,
                Budget::new(RESERVE_PERCENT),
                RateHeaders::NONE,
            ),
            renew_hint,
        }
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.transport.set_clock(clock);
    }

    pub fn budget(&self) -> &Budget {
        self.transport.budget()
    }

    pub fn service(&self) -> &str {
        self.transport.service()
    }

    /// `GET {base}/{path}` with `query`, decoded as `T`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        what: &str,
        purpose: Purpose,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Failure> {
        let request = self
            .transport
            .http()
            .get(format!("{}/{}", self.base, path.trim_start_matches('/')))
            .query(query);
        self.call(what, purpose, request).await
    }

    /// [`Graph::get`], or `None` when the object is gone (code 100, subcode 33).
    pub async fn get_unless_gone<T: DeserializeOwned>(
        &self,
        what: &str,
        purpose: Purpose,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>, Failure> {
        let request = self
            .transport
            .http()
            .get(format!("{}/{}", self.base, path.trim_start_matches('/')))
            .query(query);
        match self.send(what, purpose, request).await? {
            Ok(body) => decode(what, &body).map(Some),
            Err((Some(error), _)) if error.code == Some(100) && error.error_subcode == Some(33) => {
                Ok(None)
            }
            Err((_, failure)) => Err(failure),
        }
    }

    /// `POST {base}/{path}` with a form, decoded as `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<T, Failure> {
        let request = self
            .transport
            .http()
            .post(format!("{}/{}", self.base, path.trim_start_matches('/')))
            .form(form);
        self.call(what, Purpose::Answer, request).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        purpose: Purpose,
        request: RequestBuilder,
    ) -> Result<T, Failure> {
        let body = self
            .send(what, purpose, request)
            .await?
            .map_err(|(_, failure)| failure)?;
        decode(what, &body)
    }

    /// The body of a success, or the Graph error and the failure it means.
    async fn send(
        &self,
        what: &str,
        purpose: Purpose,
        request: RequestBuilder,
    ) -> Result<Result<Vec<u8>, GraphRefusal>, Failure> {
        let mut request = request.bearer_auth(self.token.expose());
        if let Some(proof) = &self.proof {
            request = request.query(&[("appsecret_proof", proof)]);
        }
        let response = self.transport.send(what, purpose, request).await?;
        Ok(self.read(what, response).await)
    }

    /// The body of a success; otherwise the Graph error it holds, as a failure. Either way the
    /// usage headers are noted first.
    async fn read(&self, what: &str, response: Response) -> Result<Vec<u8>, GraphRefusal> {
        let status = response.status();
        let now = self.budget().now();
        let usage = usage_limits(response.headers(), now);
        if let Some(limits) = usage {
            self.budget().note(status, limits);
        }
        let body = response.bytes().await.map_err(|error| {
            (
                None,
                Failure::retry(format!("reading {what} failed: {error}")),
            )
        })?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let error = GraphError::read(&body).map(Box::new);
        let wait = usage.and_then(|limits| limits.wait(now));
        let failure = error::failure(
            what,
            status,
            error.as_deref().cloned(),
            wait,
            &self.renew_hint,
        );
        if let Failure::Retry {
            after: Some(after), ..
        } = &failure
        {
            // A throttling code holds every request back, polls and answers alike.
            self.budget().note(
                status,
                crate::net::Limits {
                    remaining: Some(0.0),
                    reset: Some(crate::net::wait::after(now, *after)),
                    retry_after: None,
                },
            );
        }
        Err((error, failure))
    }
}

/// `appsecret_proof`: the token's HMAC-SHA256 under the app secret, in lowercase hex.
pub fn appsecret_proof(app_secret: &Secret, token: &Secret) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.expose().as_bytes()) else {
        return String::new();
    };
    mac.update(token.expose().as_bytes());
    hex(&mac.finalize().into_bytes())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_is_the_hmac_of_the_token() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231 style.
        let proof = appsecret_proof(
            &Secret::new("key"),
            &Secret::new("The quick brown fox jumps over the lazy dog"),
        );
        assert_eq!(
            proof,
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn the_last_page_has_no_next() {
        let page: Page<serde_json::Value> = serde_json::from_str(
            r#"{"data":[{}],"paging":{"cursors":{"before":"b","after":"a"}}}"#,
        )
        .unwrap();
        assert_eq!(page.after(), None, "no `next`: the last page");
        let page: Page<serde_json::Value> = serde_json::from_str(
            r#"{"data":[],"paging":{"cursors":{"after":"a"},"next":"https://x/next"}}"#,
        )
        .unwrap();
        assert_eq!(page.after().as_deref(), Some("a"));
    }
}
