//! Fake streaming servers on 127.0.0.1: a Jetstream that replays frames from the cursor a
//! client asks for, and a PDS that logs in and looks profiles up.
#![allow(dead_code)]
// tungstenite's handshake callback type is its own; its error variant is large by design.
#![allow(clippy::result_large_err)]

use std::sync::{Arc, Mutex};

use futures_util::SinkExt;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

/// One frame as the fake sends it: an event with its `time_us`, or raw text (a broken frame,
/// sent on the first connection only).
#[derive(Clone)]
pub struct JetFrame {
    pub time_us: Option<u64>,
    pub text: String,
}

impl JetFrame {
    pub fn event(time_us: u64, value: Value) -> JetFrame {
        JetFrame {
            time_us: Some(time_us),
            text: value.to_string(),
        }
    }

    pub fn raw(text: &str) -> JetFrame {
        JetFrame {
            time_us: None,
            text: text.to_string(),
        }
    }
}

/// The query pairs of each connection, in order.
type Queries = Arc<Mutex<Vec<Vec<(String, String)>>>>;

pub struct Jetstream {
    pub url: String,
    /// The query of every connection, in order.
    queries: Queries,
}

impl Jetstream {
    /// Serves `frames` from the `cursor` a connection asks for (inclusive, as Jetstream
    /// replays). The first connection ends after the first `cut` frames (broken frames are
    /// sent on it only); later ones get the rest and stay open.
    pub async fn start(frames: Vec<JetFrame>, cut: usize) -> Jetstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let queries: Queries = Arc::default();
        let seen = queries.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let frames = frames.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut query = Vec::new();
                    let callback = |request: &Request, response: Response| {
                        query = url::form_urlencoded::parse(
                            request.uri().query().unwrap_or("").as_bytes(),
                        )
                        .into_owned()
                        .collect();
                        Ok(response)
                    };
                    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await
                    else {
                        return;
                    };
                    let first = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(query.clone());
                        seen.len() == 1
                    };
                    let cursor: Option<u64> = query
                        .iter()
                        .find(|(key, _)| key == "cursor")
                        .and_then(|(_, value)| value.parse().ok());
                    let replay = frames
                        .iter()
                        .take(if first { cut } else { usize::MAX })
                        .filter(|frame| match (frame.time_us, cursor) {
                            (Some(time), Some(cursor)) => time >= cursor,
                            (Some(_), None) => true,
                            (None, _) => first,
                        });
                    let sent: Vec<&JetFrame> = replay.collect();
                    for frame in sent {
                        if socket
                            .send(Message::text(frame.text.clone()))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    if first && cut < frames.len() {
                        let _ = socket.close(None).await;
                        return;
                    }
                    // Stay open until the client goes.
                    use futures_util::StreamExt;
                    while let Some(Ok(_)) = socket.next().await {}
                });
            }
        });
        Jetstream { url, queries }
    }

    pub fn connections(&self) -> Vec<Vec<(String, String)>> {
        self.queries.lock().unwrap().clone()
    }
}

/// A PDS that only logs `did` in; returns its base URL.
pub async fn start_pds(did: &str) -> String {
    Pds::start(did, Profiles::Missing).await.url
}

/// How the fake PDS answers `app.bsky.actor.getProfiles`.
#[derive(Clone)]
pub enum Profiles {
    /// No such endpoint (404).
    Missing,
    /// These profiles (`{"did", "handle", "displayName"?}`), of the actors asked for.
    Serve(Vec<Value>),
    /// Fails with this status.
    Fail(u16),
    /// Never answers.
    Hang,
}

/// A PDS that logs `did` in and looks profiles up, recording the actors of every lookup.
pub struct Pds {
    pub url: String,
    lookups: Arc<Mutex<Vec<Lookup>>>,
}

/// One getProfiles request: its actors and its authorization header.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub actors: Vec<String>,
    pub authorization: Option<String>,
}

impl Pds {
    pub async fn start(did: &str, profiles: Profiles) -> Pds {
        let session = json!({
            "accessJwt": "access", "refreshJwt": "refresh", "did": did, "handle": "acme.bsky.social"
        });
        let lookups: Arc<Mutex<Vec<Lookup>>> = Arc::default();
        let seen = lookups.clone();
        let mut app = axum::Router::new().route(
            "/xrpc/com.atproto.server.createSession",
            axum::routing::post(move || {
                let session = session.clone();
                async move { axum::Json(session) }
            }),
        );
        if !matches!(profiles, Profiles::Missing) {
            app = app.route(
                "/xrpc/app.bsky.actor.getProfiles",
                axum::routing::get(
                    move |uri: axum::http::Uri, headers: axum::http::HeaderMap| {
                        let profiles = profiles.clone();
                        let seen = seen.clone();
                        async move { lookup(profiles, &seen, uri, headers).await }
                    },
                ),
            );
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Pds { url, lookups }
    }

    pub fn lookups(&self) -> Vec<Lookup> {
        self.lookups.lock().unwrap().clone()
    }
}

async fn lookup(
    profiles: Profiles,
    seen: &Mutex<Vec<Lookup>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let actors: Vec<String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .filter(|(key, _)| key == "actors")
            .map(|(_, value)| value.into_owned())
            .collect();
    seen.lock().unwrap().push(Lookup {
        actors: actors.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string),
    });
    match profiles {
        Profiles::Serve(known) => {
            let found: Vec<Value> = known
                .into_iter()
                .filter(|profile| {
                    actors
                        .iter()
                        .any(|actor| profile["did"].as_str() == Some(actor.as_str()))
                })
                .collect();
            axum::Json(json!({ "profiles": found })).into_response()
        }
        Profiles::Fail(status) => (
            axum::http::StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({"error": "InternalServerError", "message": "the AppView is down"})),
        )
            .into_response(),
        Profiles::Hang => {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            axum::http::StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Profiles::Missing => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// What one connection to the fake Mastodon streaming API saw.
#[derive(Debug, Clone, Default)]
pub struct StreamingSeen {
    pub path: String,
    pub authorization: Option<String>,
    pub subscriptions: Vec<Value>,
}

/// A Mastodon instance whose `/api/v2/instance` names a streaming host of its own (as
/// mastodon.social does), and that streaming host. Connection `n` gets `scripts[n]` once it
/// has subscribed to `subscriptions` streams, then is closed; the connection after the last
/// script stays open.
pub struct MastodonStreaming {
    pub instance: String,
    seen: Arc<Mutex<Vec<StreamingSeen>>>,
}

impl MastodonStreaming {
    pub async fn start(scripts: Vec<Vec<String>>, subscriptions: usize) -> MastodonStreaming {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let streaming = format!("ws://{}", listener.local_addr().unwrap());
        let seen: Arc<Mutex<Vec<StreamingSeen>>> = Arc::default();
        let record = seen.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let record = record.clone();
                let scripts = scripts.clone();
                tokio::spawn(async move {
                    use futures_util::StreamExt;
                    let mut this = StreamingSeen::default();
                    let callback = |request: &Request, response: Response| {
                        this.path = request.uri().path().to_string();
                        this.authorization = request
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        Ok(response)
                    };
                    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await
                    else {
                        return;
                    };
                    let index = {
                        let mut record = record.lock().unwrap();
                        record.push(this);
                        record.len() - 1
                    };
                    while record.lock().unwrap()[index].subscriptions.len() < subscriptions {
                        let Some(Ok(Message::Text(text))) = socket.next().await else {
                            return;
                        };
                        let message: Value = serde_json::from_str(text.as_str()).unwrap();
                        record.lock().unwrap()[index].subscriptions.push(message);
                    }
                    for frame in scripts.get(index).cloned().unwrap_or_default() {
                        if socket.send(Message::text(frame)).await.is_err() {
                            return;
                        }
                    }
                    if index < scripts.len() {
                        let _ = socket.close(None).await;
                        return;
                    }
                    while let Some(Ok(_)) = socket.next().await {}
                });
            }
        });
        let account = json!({"id": "1", "acct": "acmehq", "display_name": "Acme", "url": "https://m/@acmehq"});
        let instance = json!({"configuration": {"urls": {"streaming": streaming},
            "statuses": {"max_characters": 500}}});
        let app = axum::Router::new()
            .route(
                "/api/v1/accounts/verify_credentials",
                axum::routing::get(move || {
                    let account = account.clone();
                    async move { axum::Json(account) }
                }),
            )
            .route(
                "/api/v2/instance",
                axum::routing::get(move || {
                    let instance = instance.clone();
                    async move { axum::Json(instance) }
                }),
            );
        let rest = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let instance = format!("http://{}", rest.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(rest, app).await.unwrap() });
        MastodonStreaming { instance, seen }
    }

    pub fn connections(&self) -> Vec<StreamingSeen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A streaming frame: `payload` is JSON inside a string, as the API sends it.
pub fn mastodon_frame(stream: &[&str], event: &str, payload: &Value) -> String {
    json!({"stream": stream, "event": event, "payload": payload.to_string()}).to_string()
}

/// A public status by `acct` (account id `account`).
pub fn mastodon_status(id: &str, account: &str, acct: &str, html: &str) -> Value {
    json!({"id": id, "created_at": "2026-11-21T12:00:00.000Z", "in_reply_to_id": null,
        "url": format!("https://example.social/@{acct}/{id}"), "uri": format!("https://example.social/statuses/{id}"),
        "visibility": "public", "language": "en", "content": html, "spoiler_text": "",
        "account": {"id": account, "username": acct, "acct": acct, "display_name": "", "url": format!("https://example.social/@{acct}")},
        "mentions": [], "reblog": null})
}
