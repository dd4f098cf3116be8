//! Interactions over HTTP (`public_key` + `listen`): Discord POSTs each one to
//! `/discord/interactions`, signed with the application's Ed25519 key. Unsigned, forged or
//! stale requests get 401 and reach nothing; the answer is the response body.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serenity::all::Interaction;
use serenity::interactions_endpoint::Verifier;
use tokio::sync::watch;

use super::gateway::follow_up;
use super::http::Rest;
use super::interactions::{deferred, in_time, Responder, Timely};
use crate::chat::ChatError;

/// Where Discord sends interactions.
pub const PATH: &str = "/discord/interactions";
/// A signed request older (or newer) than this is refused: a captured request cannot be
/// replayed later.
const FRESHNESS_SECONDS: i64 = 5 * 60;

#[derive(Clone)]
struct Endpoint {
    verifier: Arc<Verifier>,
    responder: Responder,
    rest: Rest,
}

/// The verifier for the application's public key, given as 64 hex digits.
pub fn verifier(public_key: &str) -> Result<Verifier, ChatError> {
    let mut key = [0u8; 32];
    let digits = public_key.as_bytes();
    if digits.len() != 64 {
        return Err(bad_key());
    }
    for (byte, pair) in key.iter_mut().zip(digits.chunks(2)) {
        let text = std::str::from_utf8(pair).map_err(|_| bad_key())?;
        *byte = u8::from_str_radix(text, 16).map_err(|_| bad_key())?;
    }
    Verifier::try_new(key).map_err(|_| bad_key())
}

/// Serves the endpoint until `shutdown`; `bound` learns the address (useful with port 0).
pub async fn serve(
    listen: SocketAddr,
    verifier: Verifier,
    responder: Responder,
    rest: Rest,
    mut shutdown: watch::Receiver<bool>,
    bound: &watch::Sender<Option<SocketAddr>>,
) -> Result<(), ChatError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| {
            ChatError::Permanent(format!(
                "cannot listen for Discord interactions on {listen}: {error}"
            ))
        })?;
    let address = listener
        .local_addr()
        .map_err(|error| ChatError::Permanent(format!("cannot listen on {listen}: {error}")))?;
    bound.send_replace(Some(address));
    tracing::info!(%address, path = PATH, "listening for Discord interactions");
    let app = Router::new()
        .route(PATH, post(interactions))
        .with_state(Endpoint {
            verifier: Arc::new(verifier),
            responder,
            rest,
        });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
        .map_err(|error| {
            ChatError::Permanent(format!("the Discord interactions endpoint failed: {error}"))
        })
}

async fn interactions(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let (Some(signature), Some(timestamp)) = (
        header("X-Signature-Ed25519"),
        header("X-Signature-Timestamp"),
    ) else {
        return refuse("missing signature");
    };
    if !fresh(timestamp, Utc::now()) {
        return refuse("stale or malformed timestamp");
    }
    if endpoint
        .verifier
        .verify(signature, timestamp, &body)
        .is_err()
    {
        return refuse("invalid signature");
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(interaction) => interaction,
        Err(error) => {
            tracing::warn!(%error, "a signed Discord interaction could not be read");
            let said = format!("unreadable interaction: {error}");
            return (StatusCode::BAD_REQUEST, said).into_response();
        }
    };
    let application = interaction.application_id().get();
    let token = interaction.token().to_string();
    match in_time(endpoint.responder.clone().respond(interaction)).await {
        Timely::Now(outcome) => Json(outcome.response()).into_response(),
        Timely::Late(task) => {
            let rest = endpoint.rest.clone();
            tokio::spawn(async move { follow_up(&rest, application, &token, task).await });
            Json(deferred()).into_response()
        }
    }
}

/// Whether the signed timestamp (Unix seconds) is close enough to `now`.
fn fresh(timestamp: &str, now: DateTime<Utc>) -> bool {
    timestamp
        .trim()
        .parse::<i64>()
        .is_ok_and(|seconds| (now.timestamp() - seconds).abs() <= FRESHNESS_SECONDS)
}

fn refuse(why: &'static str) -> Response {
    tracing::debug!(why, "refused a Discord interactions request");
    (StatusCode::UNAUTHORIZED, why).into_response()
}

fn bad_key() -> ChatError {
    ChatError::Permanent(
        "chat.discord.public_key is not a valid Ed25519 public key; copy PUBLIC KEY from the application's General Information page".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recent_timestamps_are_fresh() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert!(fresh("1800000000", now));
        assert!(fresh("1799999700", now));
        assert!(!fresh("1799999699", now));
        assert!(!fresh("1800000301", now));
        assert!(!fresh("yesterday", now));
        assert!(!fresh("", now));
    }

    #[test]
    fn public_keys_are_checked_before_use() {
        assert!(verifier("zz").is_err());
        assert!(verifier(&"g".repeat(64)).is_err());
        let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        assert!(verifier(key).is_ok());
    }
}
