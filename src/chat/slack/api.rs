//! The Slack Web API calls earshot makes, each bounded in time and with Slack's failures
//! sorted into "retry later" (rate limits, outages, timeouts) and "needs a person" (a bad
//! token, a missing scope, an unknown channel), which is what the outbox needs to know.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::connector::Client;
use crate::chat::ChatError;

/// A Slack call that has not answered by then counts as failed and is retried later.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Slack's error codes that mean "not now" rather than "never".
const TRANSIENT_CODES: &[&str] = &[
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
];

pub struct Api {
    client: Arc<Client>,
    token: SlackApiToken,
    /// chat.postMessage allows about one message per second per channel.
    pacer: Pacer,
}

impl Api {
    pub fn new(client: Arc<Client>, bot_token: &str, post_every: Duration) -> Api {
        Api {
            client,
            token: SlackApiToken::new(bot_token.to_string().into()),
            pacer: Pacer::new(post_every),
        }
    }

    pub async fn post_message(
        &self,
        request: &SlackApiChatPostMessageRequest,
    ) -> Result<SlackApiChatPostMessageResponse, ChatError> {
        self.pacer.wait().await;
        let session = self.client.open_session(&self.token);
        bounded("chat.postMessage", session.chat_post_message(request)).await
    }

    pub async fn update(
        &self,
        request: &SlackApiChatUpdateRequest,
    ) -> Result<SlackApiChatUpdateResponse, ChatError> {
        let session = self.client.open_session(&self.token);
        bounded("chat.update", session.chat_update(request)).await
    }

    pub async fn post_ephemeral(
        &self,
        request: &SlackApiChatPostEphemeralRequest,
    ) -> Result<SlackApiChatPostEphemeralResponse, ChatError> {
        let session = self.client.open_session(&self.token);
        bounded("chat.postEphemeral", session.chat_post_ephemeral(request)).await
    }

    pub async fn open_view(
        &self,
        request: &SlackApiViewsOpenRequest,
    ) -> Result<SlackApiViewsOpenResponse, ChatError> {
        let session = self.client.open_session(&self.token);
        bounded("views.open", session.views_open(request)).await
    }

    pub async fn update_view(
        &self,
        request: &SlackApiViewsUpdateRequest,
    ) -> Result<SlackApiViewsUpdateResponse, ChatError> {
        let session = self.client.open_session(&self.token);
        bounded("views.update", session.views_update(request)).await
    }

    /// One page of the channel's history, decoded leniently: Slack lets any app put any JSON
    /// in its messages' metadata (numbers, booleans, objects), and slack-morphism's typed
    /// answer takes only strings there, so one deploy bot in the channel would make every page
    /// undecodable. Only the fields earshot reads are decoded, metadata as raw JSON.
    pub async fn history(&self, query: &HistoryQuery) -> Result<HistoryPage, ChatError> {
        let session = self.client.open_session(&self.token);
        let limit = query.limit.to_string();
        let params = vec![
            ("channel", Some(query.channel.as_str())),
            ("oldest", Some(query.oldest.as_str())),
            ("limit", Some(limit.as_str())),
            ("include_all_metadata", Some("true")),
            ("cursor", query.cursor.as_deref()),
        ];
        bounded(
            "conversations.history",
            session.http_session_api.http_get(
                "conversations.history",
                &params,
                Some(&SLACK_TIER3_METHOD_CONFIG),
            ),
        )
        .await
    }

    /// Opens (or finds) the direct-message conversation with `user`; returns its channel.
    pub async fn open_dm(&self, user: &SlackUserId) -> Result<SlackChannelId, ChatError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiConversationsOpenRequest::new().with_users(vec![user.clone()]);
        Ok(
            bounded("conversations.open", session.conversations_open(&request))
                .await?
                .channel
                .id,
        )
    }

    /// Shares `bytes` as a file in `channel` with `comment`, the way Slack uploads files now:
    /// ask for an upload URL, send the bytes there, then complete the upload into the channel.
    pub async fn upload(
        &self,
        channel: &SlackChannelId,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
        comment: &str,
    ) -> Result<(), ChatError> {
        let session = self.client.open_session(&self.token);
        let target = bounded(
            "files.getUploadURLExternal",
            session.get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(
                file_name.to_string(),
                bytes.len(),
            )),
        )
        .await?;
        bounded(
            "the file upload",
            session.files_upload_via_url(&SlackApiFilesUploadViaUrlRequest::new(
                target.upload_url,
                bytes.to_vec(),
                content_type.to_string(),
            )),
        )
        .await?;
        let complete =
            SlackApiFilesCompleteUploadExternalRequest::new(vec![SlackApiFilesComplete::new(
                target.file_id,
            )
            .with_title(file_name.to_string())])
            .with_channel_id(channel.clone())
            .with_initial_comment(comment.to_string());
        bounded(
            "files.completeUploadExternal",
            session.files_complete_upload_external(&complete),
        )
        .await?;
        Ok(())
    }

    pub async fn user(&self, id: &SlackUserId) -> Result<SlackUser, ChatError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiUsersInfoRequest::new(id.clone());
        Ok(bounded("users.info", session.users_info(&request))
            .await?
            .user)
    }

    pub async fn group_members(
        &self,
        group: &SlackUserGroupId,
    ) -> Result<Vec<SlackUserId>, ChatError> {
        let session = self.client.open_session(&self.token);
        let request = SlackApiUserGroupsUsersListRequest::new(group.clone());
        Ok(bounded(
            "usergroups.users.list",
            session.usergroups_users_list(&request),
        )
        .await?
        .users)
    }
}

/// What [`Api::history`] asks for: messages in `channel` since `oldest`, with their metadata.
pub struct HistoryQuery {
    pub channel: String,
    pub oldest: String,
    pub limit: u16,
    pub cursor: Option<String>,
}

/// A page of `conversations.history`, with only what earshot reads.
#[derive(Debug, Deserialize)]
pub struct HistoryPage {
    #[serde(default)]
    pub messages: Vec<HistoryMessage>,
    #[serde(default)]
    pub response_metadata: Option<HistoryCursor>,
}

#[derive(Debug, Deserialize)]
pub struct HistoryMessage {
    pub ts: String,
    /// Any app's metadata, as it came: earshot's own cards are picked out by
    /// [`super::render::card_number`].
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct HistoryCursor {
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Spaces calls at least `every` apart, in the order they asked.
pub struct Pacer {
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl Pacer {
    pub fn new(every: Duration) -> Pacer {
        Pacer {
            every,
            last: Mutex::new(None),
        }
    }

    pub async fn wait(&self) {
        let mut last = self.last.lock().await;
        if let Some(previous) = *last {
            tokio::time::sleep_until(previous + self.every).await;
        }
        *last = Some(Instant::now());
    }
}

async fn bounded<T>(
    method: &str,
    call: impl Future<Output = ClientResult<T>>,
) -> Result<T, ChatError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result.map_err(|error| classify(method, error)),
        Err(_) => Err(ChatError::Retry {
            reason: format!(
                "Slack's {method} did not answer within {}s",
                CALL_TIMEOUT.as_secs()
            ),
            after: None,
        }),
    }
}

/// Sorts a failed call into retry-later or needs-a-person, honouring `Retry-After`.
pub fn classify(method: &str, error: SlackClientError) -> ChatError {
    let retry = |reason: String, after| ChatError::Retry { reason, after };
    match error {
        // The wait comes from earshot's connector, which reads `Retry-After` in both forms
        // (seconds, an HTTP-date) and bounds it: a huge value delays one delivery, never the
        // outbox's clock arithmetic. Clamped again, for a client built on another connector.
        SlackClientError::RateLimitError(limit) => retry(
            format!("Slack rate-limited {method}"),
            limit.retry_after.map(crate::net::wait::clamp),
        ),
        SlackClientError::HttpError(http) => {
            let status = http.status_code;
            let reason = format!("Slack answered {method} with HTTP {status}");
            match crate::net::classify(status) {
                crate::net::Class::RetryLater => retry(reason, None),
                _ => ChatError::Permanent(reason),
            }
        }
        SlackClientError::ApiError(api) if TRANSIENT_CODES.contains(&api.code.as_str()) => {
            retry(format!("Slack's {method} failed: {}", api.code), None)
        }
        SlackClientError::ApiError(api) => ChatError::Permanent(format!(
            "Slack refused {method}: {}{}",
            api.code,
            hint(&api.code)
        )),
        // The connection broke, or an answer came back garbled: the network, not the request.
        other => retry(format!("Slack's {method} failed: {other}"), None),
    }
}

/// What an operator should do about a refusal that no retry can fix.
fn hint(code: &str) -> &'static str {
    match code {
        "not_authed" | "invalid_auth" | "token_revoked" | "account_inactive" => {
            " (check bot_token in [chat.slack])"
        }
        "missing_scope" => {
            " (add the scopes in bot-config/slack-manifest.yml and reinstall the app)"
        }
        "channel_not_found" | "not_in_channel" => {
            " (check `channel` in [chat.slack] and invite the app to that channel)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slack_morphism::errors::*;

    #[tokio::test(start_paused = true)]
    async fn pacer_spaces_calls_apart() {
        let pacer = Pacer::new(Duration::from_secs(1));
        let start = Instant::now();
        pacer.wait().await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the first call goes at once"
        );
        pacer.wait().await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        tokio::time::sleep(Duration::from_secs(5)).await;
        let later = Instant::now();
        pacer.wait().await;
        assert_eq!(
            later.elapsed(),
            Duration::ZERO,
            "a quiet channel needs no wait"
        );
    }

    #[test]
    fn failures_sort_into_retry_and_permanent() {
        let limited = classify(
            "chat.postMessage",
            SlackClientError::RateLimitError(
                SlackRateLimitError::new().with_retry_after(Duration::from_secs(30)),
            ),
        );
        assert_eq!(
            limited,
            ChatError::Retry {
                reason: "Slack rate-limited chat.postMessage".into(),
                after: Some(Duration::from_secs(30))
            }
        );
        let http = |status: u16| {
            SlackClientError::HttpError(SlackClientHttpError::new(
                axum::http::StatusCode::from_u16(status).expect("status"),
            ))
        };
        assert!(matches!(classify("m", http(503)), ChatError::Retry { .. }));
        assert!(matches!(classify("m", http(404)), ChatError::Permanent(_)));
        let api = |code: &str| SlackClientError::ApiError(SlackClientApiError::new(code.into()));
        assert!(matches!(
            classify("m", api("ratelimited")),
            ChatError::Retry { .. }
        ));
        assert_eq!(
            classify("chat.postMessage", api("not_in_channel")),
            ChatError::Permanent("Slack refused chat.postMessage: not_in_channel (check `channel` in [chat.slack] and invite the app to that channel)".into())
        );
    }
}
