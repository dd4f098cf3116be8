//! Discord's REST API, spoken with reqwest and serenity's request builders. earshot sends these
//! requests itself rather than through serenity's `Http` because serenity drops the status and
//! headers of a failed request, and with its rate limiter off (which `api_url` needs) nothing
//! would honour a 429: here a 429 becomes a retry after `retry_after`, and 401/403 become
//! permanent failures, never retried in a loop (Discord bans clients that keep making invalid
//! requests).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serenity::all::{CreateCommand, CreateInteractionResponse, CreateMessage, EditMessage};

use crate::chat::ChatError;
use crate::net::{classify, Class};

/// Discord's JSON error code for a channel (or thread) that does not exist.
pub const UNKNOWN_CHANNEL: i64 = 10003;

#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    /// `https://discord.com/api/v10`, or a test's fake.
    base: String,
    authorization: String,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq)]
pub enum RestError {
    /// Discord answered with an error status.
    Refused {
        status: StatusCode,
        /// Discord's own JSON error code, when it sent one.
        code: Option<i64>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused, timeout, TLS.
    Unreachable(String),
    /// A success whose body earshot cannot read.
    Unreadable(String),
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct Application {
    id: String,
}

/// Discord's error body; a 429 carries `retry_after` in seconds (fractional).
#[derive(Deserialize, Default)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
    retry_after: Option<f64>,
}

impl Rest {
    pub fn new(api_url: &str, token: &str, client: reqwest::Client) -> Rest {
        let token = token.trim();
        let authorization = if token.starts_with("Bot ") || token.starts_with("Bearer ") {
            token.to_string()
        } else {
            format!("Bot {token}")
        };
        Rest {
            client,
            base: format!("{}/api/v10", api_url.trim_end_matches('/')),
            authorization,
        }
    }

    /// Posts a message; returns its id.
    pub async fn send_message(&self, channel: u64, body: &CreateMessage) -> Result<u64, RestError> {
        let path = format!("/channels/{channel}/messages");
        let created: Created = self.call(Method::POST, &path, Some(body)).await?;
        created
            .id
            .parse()
            .map_err(|_| RestError::Unreadable(format!("message id `{}`", created.id)))
    }

    /// Opens (or finds) the direct-message channel with `user`; returns its id.
    pub async fn open_dm(&self, user: u64) -> Result<u64, RestError> {
        let body = serde_json::json!({ "recipient_id": user.to_string() });
        let channel: Created = self
            .call(Method::POST, "/users/@me/channels", Some(&body))
            .await?;
        channel
            .id
            .parse()
            .map_err(|_| RestError::Unreadable(format!("channel id `{}`", channel.id)))
    }

    /// Posts a message with one file attached: `payload` describes the message and its
    /// attachment 0, `bytes` is the file. Returns the message's id.
    pub async fn send_file(
        &self,
        channel: u64,
        payload: &serde_json::Value,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<u64, RestError> {
        let invalid = |error: reqwest::Error| {
            RestError::Unreadable(format!("cannot encode a request: {error}"))
        };
        let file = reqwest::multipart::Part::bytes(bytes.to_vec())
            .file_name(file_name.to_string())
            .mime_str(content_type)
            .map_err(invalid)?;
        let json = reqwest::multipart::Part::text(payload.to_string())
            .mime_str("application/json")
            .map_err(invalid)?;
        let form = reqwest::multipart::Form::new()
            .part("payload_json", json)
            .part("files[0]", file);
        let request = self
            .client
            .post(format!("{}/channels/{channel}/messages", self.base))
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
            .multipart(form);
        let response = checked(request.send().await).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|error| RestError::Unreachable(error.to_string()))?;
        let created: Created = serde_json::from_slice(&bytes)
            .map_err(|error| RestError::Unreadable(error.to_string()))?;
        created
            .id
            .parse()
            .map_err(|_| RestError::Unreadable(format!("message id `{}`", created.id)))
    }

    pub async fn edit_message(
        &self,
        channel: u64,
        message: u64,
        body: &EditMessage,
    ) -> Result<(), RestError> {
        let path = format!("/channels/{channel}/messages/{message}");
        self.call::<serde_json::Value>(Method::PATCH, &path, Some(body))
            .await
            .map(drop)
    }

    /// Starts a thread on a message. The thread's id is the message's id.
    pub async fn start_thread(
        &self,
        channel: u64,
        message: u64,
        name: &str,
    ) -> Result<(), RestError> {
        let path = format!("/channels/{channel}/messages/{message}/threads");
        // A week: the longest Discord allows; a busy mention keeps it open anyway.
        let body = serde_json::json!({ "name": name, "auto_archive_duration": 10080 });
        self.call::<serde_json::Value>(Method::POST, &path, Some(&body))
            .await
            .map(drop)
    }

    /// The bot's application id, which command registration and follow-ups need.
    pub async fn application_id(&self) -> Result<u64, RestError> {
        let application: Application = self
            .call(Method::GET, "/applications/@me", None::<&()>)
            .await?;
        application
            .id
            .parse()
            .map_err(|_| RestError::Unreadable(format!("application id `{}`", application.id)))
    }

    /// Replaces every command of the application (in `guild`, or globally) with `commands`, in
    /// one request, so registering at every start is idempotent.
    pub async fn overwrite_commands(
        &self,
        application: u64,
        guild: Option<u64>,
        commands: &[CreateCommand],
    ) -> Result<(), RestError> {
        let path = match guild {
            Some(guild) => format!("/applications/{application}/guilds/{guild}/commands"),
            None => format!("/applications/{application}/commands"),
        };
        self.call::<serde_json::Value>(Method::PUT, &path, Some(&commands))
            .await
            .map(drop)
    }

    /// The first answer to an interaction received over the gateway.
    pub async fn respond(
        &self,
        interaction: u64,
        token: &str,
        response: &CreateInteractionResponse,
    ) -> Result<(), RestError> {
        let path = format!("/interactions/{interaction}/{token}/callback");
        self.call_empty(Method::POST, &path, Some(response)).await
    }

    /// Replaces a deferred answer ("earshot is thinking…") with the real one.
    pub async fn edit_response(
        &self,
        application: u64,
        token: &str,
        text: &str,
    ) -> Result<(), RestError> {
        let path = format!("/webhooks/{application}/{token}/messages/@original");
        let body = serde_json::json!({ "content": text, "allowed_mentions": { "parse": [] } });
        self.call::<serde_json::Value>(Method::PATCH, &path, Some(&body))
            .await
            .map(drop)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<T, RestError> {
        let response = self.send(method, path, body).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|error| RestError::Unreachable(error.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|error| RestError::Unreadable(error.to_string()))
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<(), RestError> {
        self.send(method, path, body).await.map(drop)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<reqwest::Response, RestError> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, &self.authorization);
        if let Some(body) = body {
            let json = serde_json::to_vec(body).map_err(|error| {
                RestError::Unreadable(format!("cannot encode a request: {error}"))
            })?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        checked(request.send().await).await
    }
}

/// A sent request's response when it succeeded; otherwise why not, with Discord's error code
/// and how long a 429 asks to wait.
async fn checked(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<reqwest::Response, RestError> {
    let response = sent.map_err(|error| RestError::Unreachable(error.without_url().to_string()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let header_wait = crate::net::wait::retry_after(response.headers(), chrono::Utc::now());
    let body: ErrorBody = response
        .bytes()
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let retry_after = body
        .retry_after
        .and_then(crate::net::wait::seconds)
        .or(header_wait);
    Err(RestError::Refused {
        status,
        code: body.code,
        message: body.message.unwrap_or_default(),
        retry_after,
    })
}

impl RestError {
    /// Discord's JSON error code, when the failure carries one.
    pub fn code(&self) -> Option<i64> {
        match self {
            RestError::Refused { code, .. } => *code,
            _ => None,
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            RestError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<RestError> for ChatError {
    fn from(error: RestError) -> ChatError {
        match error {
            RestError::Refused {
                status,
                message,
                retry_after,
                ..
            } => {
                let reason = if message.is_empty() {
                    format!("Discord answered {status}")
                } else {
                    format!("Discord answered {status}: {message}")
                };
                match classify(status) {
                    Class::RetryLater => ChatError::Retry {
                        reason,
                        after: retry_after,
                    },
                    // A bot token cannot be renewed: a refusal needs a person.
                    Class::TokenExpired => ChatError::Permanent(format!(
                        "{reason} (the bot token is wrong or was reset; update chat.discord.token)"
                    )),
                    _ if status == StatusCode::FORBIDDEN => ChatError::Permanent(format!(
                        "{reason} (the bot lacks a permission in the channel; see the README's invite URL)"
                    )),
                    _ if status == StatusCode::NOT_FOUND => ChatError::Permanent(format!(
                        "{reason} (check chat.discord.channel_id, and that the bot is in that server)"
                    )),
                    _ => ChatError::Permanent(reason),
                }
            }
            RestError::Unreachable(reason) => ChatError::Retry {
                reason: format!("cannot reach Discord: {reason}"),
                after: None,
            },
            RestError::Unreadable(reason) => {
                ChatError::Permanent(format!("Discord sent an unreadable answer: {reason}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, retry_after: Option<f64>) -> RestError {
        RestError::Refused {
            status: StatusCode::from_u16(status).unwrap(),
            code: None,
            message: "nope".into(),
            retry_after: retry_after.map(Duration::from_secs_f64),
        }
    }

    #[test]
    fn rate_limits_and_outages_retry_but_auth_failures_do_not() {
        assert_eq!(
            ChatError::from(refused(429, Some(1.5))),
            ChatError::Retry {
                reason: "Discord answered 429 Too Many Requests: nope".into(),
                after: Some(Duration::from_millis(1500)),
            }
        );
        assert!(matches!(
            ChatError::from(refused(502, None)),
            ChatError::Retry { after: None, .. }
        ));
        for status in [400, 401, 403, 404] {
            assert!(
                matches!(
                    ChatError::from(refused(status, None)),
                    ChatError::Permanent(_)
                ),
                "{status}"
            );
        }
        assert!(matches!(
            ChatError::from(RestError::Unreachable("refused".into())),
            ChatError::Retry { .. }
        ));
    }
}
