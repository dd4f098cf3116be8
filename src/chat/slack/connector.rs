//! earshot's own HTTP seam under slack-morphism's Web API client: the requests go out over the
//! network toolkit's [`Transport`], so Slack's answers are read the way every other network's
//! are. slack-morphism's hyper connector reads `Retry-After` only as seconds and keeps no
//! headers in its errors; a proxy in front of Slack that sends an HTTP-date would leave the
//! outbox guessing. Here the header is read in both forms on the transport's clock and bounded
//! by [`crate::net::wait`], and the envelope (`{"ok":false,"error":...}`) becomes the same
//! [`SlackClientError`]s slack-morphism's own connector gives, so [`super::api::classify`]
//! sorts them as before.
//!
//! Socket Mode keeps slack-morphism's hyper client: it only opens the WebSocket's URL.

use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;
use slack_morphism::errors::*;
use slack_morphism::multipart_form::FileMultipartData;
use slack_morphism::prelude::*;

use crate::net::budget::{Budget, Clock, Purpose, RateHeaders};
use crate::net::{Failure, Transport};

/// Slack's connection and answer limits; [`super::api`] bounds each call as a whole too.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// The Web API client earshot uses.
pub type Client = SlackClient<Connector>;

pub struct Connector {
    transport: Transport,
    /// `https://slack.com/api`, or the config's `api_url` (a proxy, a test server).
    api_url: String,
}

impl Connector {
    pub fn new(api_url: &str) -> Result<Connector, reqwest::Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("earshot/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(ANSWER_TIMEOUT)
            // The Web API never redirects; a redirect is an error to see, not to follow with
            // the bot token.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Connector {
            // Slack announces no window in headers: only `Retry-After` on a 429.
            transport: Transport::new("Slack", http, Budget::new(0), RateHeaders::NONE),
            api_url: crate::net::base_url(api_url),
        })
    }

    /// Where "now" comes from when a `Retry-After` names a date: a test's clock.
    pub fn with_clock(mut self, clock: Clock) -> Connector {
        self.transport.set_clock(clock);
        self
    }

    fn request(&self, method: Method, url: Url, token: Option<&SlackApiToken>) -> RequestBuilder {
        let mut request = self
            .transport
            .http()
            .request(method, url)
            .header("accept-charset", "utf-8");
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.token_value.0));
            if let Some(cookie) = &token.cookie {
                request = request.header(COOKIE, cookie.0.as_str());
            }
        }
        request
    }

    async fn send<RS: DeserializeOwned>(
        &self,
        url: &Url,
        request: RequestBuilder,
    ) -> ClientResult<RS> {
        let what = format!("Slack's {}", method_of(url));
        let response = self
            .transport
            .send(&what, Purpose::Answer, request)
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let wait = self.transport.wait(&response);
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            // No content type at all is read as JSON too, as slack-morphism does.
            .is_none_or(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        let body = response
            .text()
            .await
            .map_err(|error| unreachable(Failure::unreachable(&what, &error)))?;
        answer(status, is_json, wait, body)
    }
}

/// What a response means to slack-morphism's callers.
fn answer<RS: DeserializeOwned>(
    status: StatusCode,
    is_json: bool,
    wait: Option<Duration>,
    body: String,
) -> ClientResult<RS> {
    match status {
        StatusCode::OK if is_json => {
            let envelope: SlackEnvelopeMessage = decode(&body)?;
            let errors = envelope.errors_as_strings();
            match envelope.error {
                None => decode(&body),
                Some(code) => Err(SlackClientError::ApiError(
                    SlackClientApiError::new(code)
                        .opt_errors(errors)
                        .opt_warnings(envelope.warnings)
                        .with_http_response_body(body),
                )),
            }
        }
        StatusCode::OK | StatusCode::NO_CONTENT => decode("{}"),
        StatusCode::TOO_MANY_REQUESTS => {
            // The body may name the limit (`{"ok":false,"error":"ratelimited"}`), or be a
            // proxy's page: the wait comes from the header either way.
            let envelope = serde_json::from_str::<SlackEnvelopeMessage>(&body).ok();
            Err(SlackClientError::RateLimitError(
                SlackRateLimitError::new()
                    .opt_retry_after(wait)
                    .opt_code(envelope.as_ref().and_then(|e| e.error.clone()))
                    .opt_warnings(envelope.and_then(|e| e.warnings))
                    .with_http_response_body(body),
            ))
        }
        _ => Err(SlackClientError::HttpError(
            SlackClientHttpError::new(status).with_http_response_body(body),
        )),
    }
}

fn decode<RS: DeserializeOwned>(body: &str) -> ClientResult<RS> {
    serde_json::from_str(body).map_err(|error| map_serde_error(error, Some(body)))
}

/// The connection broke or timed out: slack-morphism's name for "the network, not the
/// request", which [`super::api::classify`] retries.
fn unreachable(failure: Failure) -> SlackClientError {
    SlackClientError::HttpProtocolError(
        SlackClientHttpProtocolError::new().with_cause(Box::new(failure)),
    )
}

/// `chat.postMessage` from `https://slack.com/api/chat.postMessage?...`, for messages.
fn method_of(url: &Url) -> &str {
    url.path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or("API")
}

impl SlackClientHttpConnector for Connector {
    fn create_method_uri_path(&self, method_relative_uri: &str) -> ClientResult<Url> {
        Ok(format!("{}/{method_relative_uri}", self.api_url).parse()?)
    }

    fn http_get_uri<'a, RS>(
        &'a self,
        full_uri: Url,
        context: SlackClientApiCallContext<'a>,
    ) -> BoxFuture<'a, ClientResult<RS>>
    where
        RS: for<'de> serde::de::Deserialize<'de> + Send + 'a,
    {
        async move {
            let request = self.request(Method::GET, full_uri.clone(), context.token);
            self.send(&full_uri, request).await
        }
        .boxed()
    }

    fn http_get_with_client_secret<'a, RS>(
        &'a self,
        full_uri: Url,
        client_id: &'a SlackClientId,
        client_secret: &'a SlackClientSecret,
    ) -> BoxFuture<'a, ClientResult<RS>>
    where
        RS: for<'de> serde::de::Deserialize<'de> + Send + 'a,
    {
        async move {
            let request = self
                .request(Method::GET, full_uri.clone(), None)
                .basic_auth(&client_id.0, Some(&client_secret.0));
            self.send(&full_uri, request).await
        }
        .boxed()
    }

    fn http_post_uri<'a, RQ, RS>(
        &'a self,
        full_uri: Url,
        request_body: &'a RQ,
        context: SlackClientApiCallContext<'a>,
    ) -> BoxFuture<'a, ClientResult<RS>>
    where
        RQ: serde::ser::Serialize + Send + Sync,
        RS: for<'de> serde::de::Deserialize<'de> + Send + 'a,
    {
        async move {
            let json = serde_json::to_string(request_body)
                .map_err(|error| map_serde_error(error, None))?;
            let request = self
                .request(Method::POST, full_uri.clone(), context.token)
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(json);
            self.send(&full_uri, request).await
        }
        .boxed()
    }

    fn http_post_uri_multipart_form<'a, 'p, RS, PT, TS>(
        &'a self,
        full_uri: Url,
        file: Option<FileMultipartData<'p>>,
        params: &'p PT,
        context: SlackClientApiCallContext<'a>,
    ) -> BoxFuture<'a, ClientResult<RS>>
    where
        RS: for<'de> serde::de::Deserialize<'de> + Send + 'a,
        PT: std::iter::IntoIterator<Item = (&'p str, Option<TS>)> + Clone,
        TS: AsRef<str> + 'p + Send,
    {
        // The form is built before the future: it borrows `params` and `file` only here.
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in params.clone() {
            if let Some(value) = value {
                form = form.text(name.to_string(), value.as_ref().to_string());
            }
        }
        let form = match file {
            None => Ok(form),
            Some(file) => reqwest::multipart::Part::bytes(file.data.to_vec())
                .file_name(file.name)
                .mime_str(&file.content_type)
                .map(|part| form.part("file", part))
                .map_err(|error| {
                    SlackClientError::SystemError(
                        SlackClientSystemError::new()
                            .with_message(format!("the file's content type: {error}")),
                    )
                }),
        };
        async move {
            let request = self
                .request(Method::POST, full_uri.clone(), context.token)
                .multipart(form?);
            self.send(&full_uri, request).await
        }
        .boxed()
    }

    fn http_post_uri_binary<'a, 'p, RS>(
        &'a self,
        full_uri: Url,
        content_type: String,
        data: &'a [u8],
        context: SlackClientApiCallContext<'a>,
    ) -> BoxFuture<'a, ClientResult<RS>>
    where
        RS: for<'de> serde::de::Deserialize<'de> + Send + 'a,
    {
        async move {
            let request = self
                .request(Method::POST, full_uri.clone(), context.token)
                .header(CONTENT_TYPE, content_type)
                .body(data.to_vec());
            self.send(&full_uri, request).await
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate_limit(error: ClientResult<serde_json::Value>) -> SlackRateLimitError {
        match error {
            Err(SlackClientError::RateLimitError(limit)) => limit,
            other => panic!("expected a rate limit, got {other:?}"),
        }
    }

    #[test]
    fn answers_become_slack_morphisms_errors() {
        let ok: serde_json::Value = answer(
            StatusCode::OK,
            true,
            None,
            r#"{"ok":true,"ts":"1.2"}"#.into(),
        )
        .unwrap();
        assert_eq!(ok["ts"], "1.2");
        let refused = answer::<serde_json::Value>(
            StatusCode::OK,
            true,
            None,
            r#"{"ok":false,"error":"not_in_channel"}"#.into(),
        );
        assert!(
            matches!(&refused, Err(SlackClientError::ApiError(api)) if api.code == "not_in_channel"),
            "{refused:?}"
        );
        let limited = rate_limit(answer(
            StatusCode::TOO_MANY_REQUESTS,
            false,
            Some(Duration::from_secs(600)),
            "<html>slow down</html>".into(),
        ));
        assert_eq!(limited.retry_after, Some(Duration::from_secs(600)));
        assert_eq!(limited.code, None);
        let limited = rate_limit(answer(
            StatusCode::TOO_MANY_REQUESTS,
            true,
            None,
            r#"{"ok":false,"error":"ratelimited"}"#.into(),
        ));
        assert_eq!(
            (limited.retry_after, limited.code.as_deref()),
            (None, Some("ratelimited"))
        );
        let garbled = answer::<serde_json::Value>(StatusCode::OK, true, None, "{".into());
        assert!(matches!(garbled, Err(SlackClientError::ProtocolError(_))));
        let outage = answer::<serde_json::Value>(StatusCode::BAD_GATEWAY, false, None, "".into());
        assert!(
            matches!(&outage, Err(SlackClientError::HttpError(http)) if http.status_code == 502)
        );
        let empty: serde_json::Value =
            answer(StatusCode::NO_CONTENT, false, None, String::new()).unwrap();
        assert_eq!(empty, serde_json::json!({}));
    }

    #[test]
    fn the_method_names_the_call() {
        let url: Url = "https://slack.com/api/chat.postMessage?x=1"
            .parse()
            .unwrap();
        assert_eq!(method_of(&url), "chat.postMessage");
    }
}
