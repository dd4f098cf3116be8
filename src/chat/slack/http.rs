//! HTTP mode: Slack posts slash commands to `/slack/commands`, clicks and modal submissions to
//! `/slack/interactivity` and events to `/slack/events`. Every request must carry a valid
//! signature from the last five minutes; anything else gets 401 and changes nothing.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use slack_morphism::prelude::*;
use tokio::sync::watch;

use super::handler::Handler;
use super::signature::{self, SignatureError};
use crate::chat::ChatError;

struct Endpoint {
    handler: Arc<Handler>,
    signing_secret: String,
}

pub async fn serve(
    handler: Arc<Handler>,
    listener: tokio::net::TcpListener,
    signing_secret: String,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ChatError> {
    let endpoint = Arc::new(Endpoint {
        handler,
        signing_secret,
    });
    let routes = Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactivity", post(interactivity))
        .route("/slack/events", post(events))
        .with_state(endpoint);
    axum::serve(listener, routes)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
        .map_err(|error| ChatError::Permanent(format!("the Slack HTTP listener failed: {error}")))
}

async fn commands(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = endpoint.refusal(&headers, &body) {
        return refused;
    }
    match serde_urlencoded::from_bytes::<SlackCommandEvent>(&body) {
        Ok(event) => Json(endpoint.handler.command(event).await).into_response(),
        Err(error) => bad_request(format!("not a slash command: {error}")),
    }
}

async fn interactivity(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = endpoint.refusal(&headers, &body) {
        return refused;
    }
    let payload = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|fields| fields.into_iter().find(|(name, _)| name == "payload"))
        .map(|(_, payload)| payload);
    let Some(payload) = payload else {
        return bad_request("no `payload` field".into());
    };
    let event = match serde_json::from_str::<SlackInteractionEvent>(&payload) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "an interaction payload earshot cannot read");
            // Acknowledged, so Slack does not repeat it; it would fail the same way.
            return StatusCode::OK.into_response();
        }
    };
    match endpoint.handler.interaction(event).await {
        SlackInteractionResponse::Empty => StatusCode::OK.into_response(),
        response => Json(response).into_response(),
    }
}

/// earshot subscribes to no events; this answers Slack's URL check so the URL can be saved.
async fn events(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = endpoint.refusal(&headers, &body) {
        return refused;
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return bad_request("not JSON".into());
    };
    match event.get("challenge").and_then(|c| c.as_str()) {
        Some(challenge)
            if event.get("type").and_then(|t| t.as_str()) == Some("url_verification") =>
        {
            Json(serde_json::json!({ "challenge": challenge })).into_response()
        }
        _ => StatusCode::OK.into_response(),
    }
}

impl Endpoint {
    /// The 401 for a request that is not from Slack, or `None` to go on.
    fn refusal(&self, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
        let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        let result = match (
            header("x-slack-request-timestamp"),
            header("x-slack-signature"),
        ) {
            (Some(timestamp), Some(signature)) => signature::verify(
                &self.signing_secret,
                timestamp,
                body,
                signature,
                chrono::Utc::now().timestamp(),
            ),
            _ => Err(SignatureError::Missing),
        };
        let error = result.err()?;
        tracing::warn!(%error, "refused a request that claims to come from Slack");
        Some((StatusCode::UNAUTHORIZED, error.to_string()).into_response())
    }
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message).into_response()
}
