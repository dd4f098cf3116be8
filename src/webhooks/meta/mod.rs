//! Meta's webhooks at `/meta/webhooks`, for Facebook Pages (`feed`) and Instagram (`comments`,
//! `mentions`). A GET is the subscription handshake: `hub.mode=subscribe` and the verify
//! token entered in the app dashboard get `hub.challenge` back, anything else 403. A POST must
//! carry `X-Hub-Signature-256` over its raw body (403 and nothing read otherwise, logged), be a
//! notification (400 with the reason otherwise), and is answered 200 once its mentions are
//! stored; if they cannot be read or stored now it gets 503, so Meta sends it again (Meta keeps
//! no copy of Instagram mentions: an acknowledged one that was not stored would be lost).
//!
//! `signature.rs` checks the signature, `envelope.rs` reads the body.

mod envelope;
pub mod signature;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::watch;

use super::Receive;
use crate::config::MetaWebhooks;
use envelope::Notice;

/// Where Meta is told to send notifications (the dashboard's Callback URL ends with it).
pub const PATH: &str = "/meta/webhooks";

struct Endpoint {
    settings: MetaWebhooks,
    receiver: Arc<dyn Receive>,
}

/// Serves [`PATH`] on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: MetaWebhooks,
    receiver: Arc<dyn Receive>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let endpoint = Arc::new(Endpoint { settings, receiver });
    let routes = Router::new()
        .route(PATH, get(handshake).post(notification))
        .with_state(endpoint);
    axum::serve(listener, routes)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
}

async fn handshake(
    State(endpoint): State<Arc<Endpoint>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mode = query.get("hub.mode").map(String::as_str);
    let token = query.get("hub.verify_token").map(String::as_str);
    let Some(challenge) = query.get("hub.challenge") else {
        return (
            StatusCode::BAD_REQUEST,
            "expected hub.mode, hub.verify_token and hub.challenge",
        )
            .into_response();
    };
    let token_matches =
        token.is_some_and(|token| signature::same_secret(&endpoint.settings.verify_token, token));
    if mode != Some("subscribe") || !token_matches {
        tracing::warn!(
            ?mode,
            "refused a Meta webhook subscription: the verify token does not match `webhooks.meta.verify_token`"
        );
        return (
            StatusCode::FORBIDDEN,
            "the verify token does not match earshot's",
        )
            .into_response();
    }
    tracing::info!("Meta webhook subscription verified");
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain")],
        challenge.clone(),
    )
        .into_response()
}

async fn notification(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|value| value.to_str().ok());
    if let Err(error) = signature::verify(&endpoint.settings.app_secret, &body, header) {
        tracing::warn!(%error, "refused a request that claims to come from Meta");
        return (StatusCode::FORBIDDEN, error.to_string()).into_response();
    }
    let pushes = match envelope::read(&body) {
        Ok(Notice::Pushes(pushes)) => pushes,
        Ok(Notice::Ignored(object)) => {
            tracing::debug!(%object, "a Meta webhook for an object earshot does not follow");
            return StatusCode::OK.into_response();
        }
        Err(reason) => {
            tracing::warn!(%reason, "a signed Meta webhook earshot cannot read");
            return (StatusCode::BAD_REQUEST, reason).into_response();
        }
    };
    match endpoint.receiver.receive(pushes).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "a Meta webhook is not stored yet; Meta will send it again");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not stored yet; send it again",
            )
                .into_response()
        }
    }
}
