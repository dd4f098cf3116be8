//! Mastodon's streaming API: one WebSocket with the user's token, subscribed to the account's
//! notifications and to each watched hashtag. A frame's `payload` is itself JSON in a string,
//! parsed a second time. The stream keeps no history, so every (re)connection is followed by
//! a REST poll from the `min_id` cursors (the app's backfill): nothing posted while the
//! connection was down is missed.

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use super::wire::{to_mention, Account, RawStatus};
use super::Watch;
use crate::domain::{Cursor, Mention};
use crate::sources::{Fetched, SourceError, StreamEvent};

/// The subscriptions for `watch`, as the messages the streaming API takes.
pub(super) fn subscriptions(watch: &[Watch]) -> Vec<String> {
    watch
        .iter()
        .map(|watch| match watch {
            Watch::Mentions => json!({"type": "subscribe", "stream": "user:notification"}),
            Watch::Hashtag(tag) => json!({"type": "subscribe", "stream": "hashtag", "tag": tag}),
        })
        .map(|message| message.to_string())
        .collect()
}

/// The streaming endpoint on `host` (the instance's `configuration.urls.streaming`, which
/// may be another host than the API's): `wss://…/api/v1/streaming`.
pub(super) fn endpoint(host: &url::Url) -> Result<url::Url, SourceError> {
    let mut url = host.clone();
    let scheme = match url.scheme() {
        "https" | "wss" => "wss",
        _ => "ws",
    };
    url.set_scheme(scheme)
        .map_err(|()| SourceError::Permanent(format!("`{host}` cannot be a streaming URL")))?;
    url.set_path("/api/v1/streaming");
    url.set_query(None);
    Ok(url)
}

/// The mention a frame carries, if any: a watched hashtag's new post, or a notification of
/// type mention (addressed to the brand). Everything else (deletes, edits, other
/// notifications, keep-alives) is `Ok(None)`; a frame that cannot be read is an error.
pub(super) fn frame_mention(
    source: &str,
    frame: &str,
    me: &Account,
) -> Result<Option<Mention>, String> {
    let frame: Frame = serde_json::from_str(frame).map_err(|error| format!("frame: {error}"))?;
    let Some(payload) = frame.payload else {
        return Ok(None);
    };
    match frame.event.as_str() {
        "update" => {
            let status: RawStatus =
                serde_json::from_str(&payload).map_err(|error| format!("status: {error}"))?;
            Ok(to_mention(source, status, false, me))
        }
        "notification" => {
            let notification: Notification =
                serde_json::from_str(&payload).map_err(|error| format!("notification: {error}"))?;
            Ok(match (notification.kind.as_str(), notification.status) {
                ("mention", Some(status)) => to_mention(source, status, true, me),
                _ => None,
            })
        }
        _ => Ok(None),
    }
}

/// Follows the streams of `watch` for one connection to `host`.
pub(super) async fn follow(
    source: &str,
    host: &url::Url,
    token: &str,
    watch: &[Watch],
    me: &Account,
    events: &mpsc::Sender<StreamEvent>,
) -> Result<(), SourceError> {
    let url = endpoint(host)?;
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|error| SourceError::Permanent(format!("streaming URL {url}: {error}")))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| SourceError::Permanent("the token cannot be sent in a header".into()))?;
    request.headers_mut().insert("Authorization", bearer);
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|error| connect_error(&url, error))?;
    for message in subscriptions(watch) {
        socket
            .send(Message::text(message))
            .await
            .map_err(|error| retry(format!("subscribing failed: {error}")))?;
    }
    tracing::info!(source, %url, "following the Mastodon streaming API");
    // Sent once subscribed: the backfill poll then covers everything before this moment.
    if events.send(StreamEvent::Connected).await.is_err() {
        return Ok(());
    }
    loop {
        let text = match socket.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => {
                return Err(retry("the streaming server closed the connection".into()))
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(retry(format!("streaming failed: {error}"))),
        };
        match frame_mention(source, text.as_str(), me) {
            Ok(Some(mention)) => {
                let batch = Fetched {
                    mentions: vec![mention],
                    // The stream has no position of its own; the polls keep the `min_id`s.
                    cursor: Cursor::default(),
                    problems: Vec::new(),
                };
                if events.send(StreamEvent::Posts(batch)).await.is_err() {
                    return Ok(());
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(source, %error, "skipped a streaming frame"),
        }
    }
}

#[derive(Deserialize)]
struct Frame {
    #[serde(default)]
    event: String,
    /// JSON in a string (a bare id for `delete`).
    payload: Option<String>,
}

#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "type")]
    kind: String,
    status: Option<RawStatus>,
}

fn retry(reason: String) -> SourceError {
    SourceError::Retry {
        reason,
        after: None,
    }
}

/// A refused token is for a person to fix; anything else may pass.
fn connect_error(url: &url::Url, error: tokio_tungstenite::tungstenite::Error) -> SourceError {
    use tokio_tungstenite::tungstenite::Error;
    match &error {
        Error::Http(response) if matches!(response.status().as_u16(), 401 | 403) => {
            SourceError::Permanent(format!(
                "the streaming API at {url} refused the token ({}); it needs the read scope",
                response.status()
            ))
        }
        _ => retry(format!("cannot connect to {url}: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Account {
        Account {
            id: "1".into(),
            acct: "acmehq".into(),
            display_name: String::new(),
            url: None,
        }
    }

    #[test]
    fn payloads_are_parsed_a_second_time() {
        let status = json!({"id": "103", "account": {"id": "9", "acct": "fan@example.social"},
            "content": "<p>I love <a href=\"https://m/tags/acme\">#acme</a></p>", "visibility": "public",
            "created_at": "2026-11-21T12:00:00.000Z"});
        let update = json!({"stream": ["hashtag", "acme"], "event": "update", "payload": status.to_string()});
        let mention = frame_mention("m", &update.to_string(), &me())
            .unwrap()
            .unwrap();
        assert_eq!(mention.key.id, "103");
        assert_eq!(mention.text, "I love #acme");
        assert!(!mention.direct);

        let notification = json!({"id": "5", "type": "mention", "account": {"id": "9", "acct": "fan"}, "status": status});
        let frame = json!({"stream": ["user:notification"], "event": "notification", "payload": notification.to_string()});
        let mention = frame_mention("m", &frame.to_string(), &me())
            .unwrap()
            .unwrap();
        assert_eq!(mention.key.id, "103");
        assert!(mention.direct);

        let favourite = json!({"id": "6", "type": "favourite", "status": status});
        let frame = json!({"stream": ["user:notification"], "event": "notification", "payload": favourite.to_string()});
        assert_eq!(frame_mention("m", &frame.to_string(), &me()), Ok(None));
        let delete = json!({"stream": ["hashtag", "acme"], "event": "delete", "payload": "103"});
        assert_eq!(frame_mention("m", &delete.to_string(), &me()), Ok(None));
        let own = json!({"id": "104", "account": {"id": "1", "acct": "acmehq"}, "content": "acme", "visibility": "public"});
        let frame = json!({"event": "update", "payload": own.to_string()});
        assert_eq!(frame_mention("m", &frame.to_string(), &me()), Ok(None));

        for broken in [
            "{",
            r#"{"event":"update","payload":"{not json"}"#,
            r#"{"event":"update","payload":42}"#,
        ] {
            assert!(frame_mention("m", broken, &me()).is_err(), "{broken}");
        }
    }

    #[test]
    fn the_endpoint_and_subscriptions_follow_the_config() {
        let host = url::Url::parse("https://streaming.example.social").unwrap();
        assert_eq!(
            endpoint(&host).unwrap().as_str(),
            "wss://streaming.example.social/api/v1/streaming"
        );
        assert_eq!(
            subscriptions(&[Watch::Mentions, Watch::Hashtag("acme".into())]),
            vec![
                r#"{"stream":"user:notification","type":"subscribe"}"#.to_string(),
                r#"{"stream":"hashtag","tag":"acme","type":"subscribe"}"#.to_string(),
            ]
        );
    }
}
