//! One client per network: every request passes the network's [`Budget`], carries its
//! credentials (renewed once when refused), and comes back classified by [`classify`], with
//! the server's wait bounded and a short piece of the body in the error, which usually says why
//! (a deleted post, a revoked token).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

pub use super::budget::Purpose;
use super::budget::{Budget, Clock, RateHeaders};
use super::failure::{error_chain, Failure};
use super::secret::Secret;
use super::status::{classify, Class};

/// How much of an error body goes into the message.
const SNIPPET_CHARS: usize = 300;

/// Credentials that can be renewed: an OAuth grant, a session, a refresh token.
#[async_trait]
pub trait Auth: Send + Sync {
    /// The token to send now (cached, or fetched when missing or about to expire).
    async fn token(&self) -> Result<Secret, Failure>;
    /// The server refused `stale`: a renewed token, or why there is none. Called once per
    /// refusal; implementations see whether another request renewed it already.
    async fn renew(&self, stale: &Secret) -> Result<Secret, Failure>;
}

pub struct Transport {
    /// Names the network in errors ("Reddit", "mastodon.example").
    service: String,
    http: reqwest::Client,
    budget: Budget,
    rate: RateHeaders,
}

impl Transport {
    pub fn new(
        service: impl Into<String>,
        http: reqwest::Client,
        budget: Budget,
        rate: RateHeaders,
    ) -> Transport {
        Transport {
            service: service.into(),
            http,
            budget,
            rate,
        }
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.budget.set_clock(clock);
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Sends `request` if the budget allows and notes the rate-limit headers; the status is
    /// not judged (for callers that read a 404 or a 401 themselves).
    pub async fn send(
        &self,
        what: &str,
        purpose: Purpose,
        request: RequestBuilder,
    ) -> Result<Response, Failure> {
        self.budget.check(&self.service, purpose)?;
        let response = request
            .send()
            .await
            .map_err(|error| Failure::unreachable(what, &error))?;
        let now = self.budget.now();
        self.budget
            .note(response.status(), self.rate.read(response.headers(), now));
        Ok(response)
    }

    /// [`Transport::send`], then [`Transport::check`].
    pub async fn call(
        &self,
        what: &str,
        purpose: Purpose,
        request: RequestBuilder,
    ) -> Result<Response, Failure> {
        let response = self.send(what, purpose, request).await?;
        self.check(what, response).await
    }

    /// Sends with `auth`'s token; when the server refuses it (401), renews it and sends again,
    /// once. `build` makes the request for a token. The status is not judged.
    pub async fn send_authorised(
        &self,
        what: &str,
        purpose: Purpose,
        auth: &dyn Auth,
        build: impl Fn(&Secret) -> RequestBuilder,
    ) -> Result<Response, Failure> {
        let token = auth.token().await?;
        let response = self.send(what, purpose, build(&token)).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let token = auth.renew(&token).await?;
        self.send(what, purpose, build(&token)).await
    }

    /// The response if it succeeded; otherwise its failure, classified, with the server's
    /// wait and a snippet of the body.
    pub async fn check(&self, what: &str, response: Response) -> Result<Response, Failure> {
        let status = response.status();
        if classify(status) == Class::Success {
            return Ok(response);
        }
        let wait = self.wait(&response);
        Err(refusal(what, status, wait, response).await)
    }

    /// How long the server asked to wait: `Retry-After`, the window's reset, or what is left
    /// of a pause the budget holds.
    pub fn wait(&self, response: &Response) -> Option<Duration> {
        let now = self.budget.now();
        self.rate
            .read(response.headers(), now)
            .wait(now)
            .or_else(|| self.budget.wait())
    }
}

/// The failure a non-success `status` means, with a snippet of the body.
pub async fn refusal(
    what: &str,
    status: StatusCode,
    wait: Option<Duration>,
    response: Response,
) -> Failure {
    let body = response.text().await.unwrap_or_default();
    Failure::of(classify(status), format!("{what} answered {status}"), wait)
        .with_detail(&snippet(&body))
}

/// The body as `T`. A body that does not parse is the network's fault, not the person's: it is
/// retried later (the cursor stays), and the error shows what came back.
pub async fn read_json<T: DeserializeOwned>(what: &str, response: Response) -> Result<T, Failure> {
    let body = response.bytes().await.map_err(|error| {
        Failure::retry(format!("reading {what} failed: {}", error_chain(&error)))
    })?;
    decode(what, &body)
}

/// [`read_json`] for a body already read.
pub fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|error| {
        Failure::retry(format!(
            "{what} came back malformed, earshot cannot read it ({error}): {}",
            snippet(&String::from_utf8_lossy(body))
        ))
    })
}

/// The start of a body, on one line, for an error message.
pub fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = flat.chars().take(SNIPPET_CHARS).collect();
    if flat.chars().count() > SNIPPET_CHARS {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_errors_show_a_short_piece_of_the_body() {
        let error = decode::<Vec<u32>>("the search", b"<html>\n  <b>502</b> Bad Gateway</html>")
            .unwrap_err();
        assert!(matches!(error, Failure::Retry { after: None, .. }));
        let text = error.to_string();
        assert!(
            text.starts_with("the search came back malformed, earshot cannot read it"),
            "{text}"
        );
        assert!(
            text.ends_with("<html> <b>502</b> Bad Gateway</html>"),
            "{text}"
        );
        let long = "x".repeat(5000);
        assert_eq!(snippet(&long).chars().count(), SNIPPET_CHARS + 1);
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_a_retry() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let held = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(socket);
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        let transport = Transport::new("Test", http.clone(), Budget::new(0), RateHeaders::NONE);
        let error = transport
            .call(
                "the test",
                Purpose::Poll,
                http.get(format!("http://{address}/")),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Failure::Retry { reason, .. } if reason.contains("timed out")),
            "{error:?}"
        );
        held.abort();
    }
}
