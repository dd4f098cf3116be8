//! A fake Slack on 127.0.0.1 that speaks the Web API and Socket Mode shapes from Slack's docs:
//! `POST /api/<method>` with JSON bodies (GET with a query for the read methods), answers of
//! the form `{"ok": true, ...}`, 429 with `Retry-After`, and a WebSocket that says `hello`,
//! sends envelopes and records the acknowledgements.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// How the next chat.postMessage calls fail, in order.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    /// 429 with `Retry-After: <seconds>`.
    RateLimited(u64),
    /// 429 with `Retry-After` in its other form, an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`).
    RateLimitedUntil(chrono::DateTime<chrono::Utc>),
    /// 429 with a `Retry-After` no RFC allows (`soon`, `-5`).
    RateLimitedSaying(&'static str),
    /// 503 and nothing posted.
    Unavailable,
    /// The message is posted, but the answer is lost (a 503 instead): the crash window.
    LoseAnswer,
}

/// One message in the channel (a card or a thread note), as posted.
#[derive(Debug, Clone)]
pub struct Posted {
    pub ts: String,
    pub request: Value,
}

impl Posted {
    pub fn thread_ts(&self) -> Option<&str> {
        self.request["thread_ts"].as_str()
    }

    pub fn number(&self) -> Option<u64> {
        self.request["metadata"]["event_payload"]["number"]
            .as_str()?
            .parse()
            .ok()
    }
}

#[derive(Default)]
pub struct Slack {
    /// Every Web API call: method and request (JSON body, or the query for GETs).
    pub calls: Vec<(String, Value)>,
    pub messages: Vec<Posted>,
    pub updates: Vec<Value>,
    pub ephemerals: Vec<Value>,
    pub views: Vec<Value>,
    /// views.update requests (a modal redrawn in place).
    pub view_updates: Vec<Value>,
    pub failures: VecDeque<Failure>,
    /// Messages other apps posted to the channel, as conversations.history shows them.
    pub foreign: Vec<Value>,
    /// Every Web API call answers 503.
    pub outage: bool,
    pub users: HashMap<String, String>,
    pub groups: HashMap<String, Vec<String>>,
    /// Direct-message conversations opened, by user: the DM channel is `D` + the user id.
    pub dms: Vec<String>,
    /// Bytes received at the upload URLs handed out, by file id, with their content type.
    pub uploads: HashMap<String, (String, Vec<u8>)>,
    /// files.completeUploadExternal requests.
    pub shared: Vec<Value>,
    next_ts: u64,
    next_file: u64,
}

impl Slack {
    pub fn cards(&self) -> Vec<&Posted> {
        self.messages
            .iter()
            .filter(|m| m.thread_ts().is_none())
            .collect()
    }

    pub fn notes(&self, ts: &str) -> Vec<String> {
        self.messages
            .iter()
            .filter(|m| m.thread_ts() == Some(ts))
            .map(|m| m.request["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Messages posted to `channel` outside any thread (a DM, or the channel's cards and notices).
    pub fn posted_to(&self, channel: &str) -> Vec<&Posted> {
        self.messages
            .iter()
            .filter(|m| m.thread_ts().is_none() && m.request["channel"] == channel)
            .collect()
    }

    pub fn count(&self, method: &str) -> usize {
        self.calls.iter().filter(|(m, _)| m == method).count()
    }
}

pub struct FakeSlack {
    pub api_url: String,
    pub state: Arc<Mutex<Slack>>,
    envelopes: mpsc::UnboundedSender<Value>,
    acks: Arc<Mutex<HashMap<String, Value>>>,
    next_envelope: Mutex<u64>,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}/link/?ticket=t1", ws.local_addr().unwrap());
        let (envelopes, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let acks = Arc::new(Mutex::new(HashMap::new()));
        tokio::spawn(serve_socket(ws, queue, acks.clone()));

        let state = Arc::new(Mutex::new(Slack::default()));
        state
            .lock()
            .unwrap()
            .users
            .insert("U1".into(), "Jane Doe".into());
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_url = format!("http://{}/api", http.local_addr().unwrap());
        let routes = Router::new()
            .route("/api/{method}", any(web_api))
            .route("/upload/{file}", any(upload))
            .with_state((state.clone(), ws_url));
        tokio::spawn(async move { axum::serve(http, routes).await.unwrap() });
        FakeSlack {
            api_url,
            state,
            envelopes,
            acks,
            next_envelope: Mutex::new(0),
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Slack) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Sends a Socket Mode envelope; returns its id.
    pub fn send(&self, kind: &str, payload: Value) -> String {
        let id = {
            let mut next = self.next_envelope.lock().unwrap();
            *next += 1;
            format!("env-{next}")
        };
        let envelope = json!({
            "envelope_id": id,
            "type": kind,
            "accepts_response_payload": true,
            "payload": payload,
        });
        self.envelopes.send(envelope).unwrap();
        id
    }

    /// The acknowledgement of envelope `id`, once it arrives.
    pub async fn ack(&self, id: &str) -> Value {
        eventually(&format!("the ack of {id}"), || {
            self.acks.lock().unwrap().get(id).cloned()
        })
        .await
    }

    /// The acknowledgement of envelope `id` if it arrives within `within` (a connection that
    /// died with it never acknowledges it, and Slack would send it again).
    pub async fn ack_within(&self, id: &str, within: Duration) -> Option<Value> {
        let started = std::time::Instant::now();
        while started.elapsed() < within {
            if let Some(ack) = self.acks.lock().unwrap().get(id).cloned() {
                return Some(ack);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// Waits until `check` finds something in the fake's state.
    pub async fn until<T>(&self, what: &str, check: impl Fn(&Slack) -> Option<T>) -> T {
        eventually(what, || check(&self.state.lock().unwrap())).await
    }
}

/// Polls `check` for up to ten seconds (the system under test runs on real sockets).
pub async fn eventually<T>(what: &str, check: impl Fn() -> Option<T>) -> T {
    for _ in 0..1000 {
        if let Some(found) = check() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

type ApiState = (Arc<Mutex<Slack>>, String);

async fn web_api(
    State((state, ws_url)): State<ApiState>,
    Path(method): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // apps.connections.open takes the app-level token; every other method the bot token.
    let token = if method == "apps.connections.open" {
        "Bearer xapp-"
    } else {
        "Bearer xoxb-"
    };
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(token));
    let request: Value = if body.is_empty() {
        json!(query)
    } else {
        serde_json::from_slice(&body)
            .or_else(|_| {
                serde_urlencoded::from_bytes::<HashMap<String, String>>(&body).map(|f| json!(f))
            })
            .unwrap_or(Value::Null)
    };
    let mut slack = state.lock().unwrap();
    slack.calls.push((method.clone(), request.clone()));
    if !authorized {
        return ok_false("not_authed");
    }
    if slack.outage {
        return (StatusCode::SERVICE_UNAVAILABLE, "upstream connect error").into_response();
    }
    match method.as_str() {
        "apps.connections.open" => ok(json!({ "url": ws_url })),
        "chat.postMessage" => {
            let failure = slack.failures.pop_front();
            let retry_after = match failure {
                Some(Failure::RateLimited(seconds)) => Some(seconds.to_string()),
                Some(Failure::RateLimitedUntil(at)) => {
                    Some(at.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
                }
                Some(Failure::RateLimitedSaying(text)) => Some(text.to_string()),
                _ => None,
            };
            if let Some(retry_after) = retry_after {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [
                        ("retry-after", retry_after),
                        ("content-type", "application/json".into()),
                    ],
                    r#"{"ok":false,"error":"ratelimited"}"#,
                )
                    .into_response();
            }
            if let Some(Failure::Unavailable) = failure {
                return (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response();
            }
            slack.next_ts += 1;
            // Real Slack timestamps: seconds now, then a per-channel sequence.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let ts = format!("{now}.{:06}", slack.next_ts);
            slack.messages.push(Posted {
                ts: ts.clone(),
                request: request.clone(),
            });
            if let Some(Failure::LoseAnswer) = failure {
                return (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response();
            }
            ok(json!({
                "channel": request["channel"],
                "ts": ts,
                "message": { "ts": ts, "text": request["text"] },
            }))
        }
        "conversations.open" => {
            // Slack documents `users` as a comma-separated list; the JSON body may carry an array.
            let user = match &request["users"] {
                Value::Array(users) => users.first().and_then(Value::as_str).unwrap_or_default(),
                other => other.as_str().unwrap_or_default(),
            }
            .to_string();
            if !slack.users.contains_key(&user) {
                return ok_false("user_not_found");
            }
            slack.dms.push(user.clone());
            ok(json!({ "channel": { "id": format!("D{user}") } }))
        }
        "files.getUploadURLExternal" => {
            let length: usize = query
                .get("length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            if query.get("filename").is_none_or(String::is_empty) || length == 0 {
                return ok_false("invalid_arguments");
            }
            slack.next_file += 1;
            let file = format!("F{}", slack.next_file);
            let host = headers
                .get("host")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            ok(json!({
                "upload_url": format!("http://{host}/upload/{file}"),
                "file_id": file,
            }))
        }
        "files.completeUploadExternal" => {
            let Some(id) = request["files"][0]["id"].as_str() else {
                return ok_false("invalid_arguments");
            };
            if !slack.uploads.contains_key(id) {
                return ok_false("file_not_found");
            }
            slack.shared.push(request.clone());
            ok(json!({ "files": [{ "id": id, "title": request["files"][0]["title"] }] }))
        }
        "chat.update" => {
            slack.updates.push(request.clone());
            ok(json!({
                "channel": request["channel"],
                "ts": request["ts"],
                "text": request["text"],
                "message": { "text": request["text"] },
            }))
        }
        "chat.postEphemeral" => {
            slack.ephemerals.push(request.clone());
            ok(json!({ "message_ts": "1700000000.999999" }))
        }
        "views.open" => {
            slack.views.push(request.clone());
            let mut view = request["view"].clone();
            view["id"] = json!("V1");
            view["team_id"] = json!("T1");
            view["hash"] = json!("h1");
            ok(json!({ "view": view }))
        }
        "views.update" => {
            slack.view_updates.push(request.clone());
            let mut view = request["view"].clone();
            view["id"] = request["view_id"].clone();
            view["team_id"] = json!("T1");
            view["hash"] = json!("h2");
            ok(json!({ "view": view }))
        }
        "users.info" => {
            let id = query.get("user").cloned().unwrap_or_default();
            match slack.users.get(&id) {
                Some(name) => ok(json!({ "user": {
                    "id": id, "name": name.to_lowercase(), "real_name": name,
                    "profile": { "display_name": name, "real_name": name },
                }})),
                None => ok_false("user_not_found"),
            }
        }
        "usergroups.users.list" => {
            let group = query.get("usergroup").cloned().unwrap_or_default();
            match slack.groups.get(&group) {
                Some(users) => ok(json!({ "users": users })),
                None => ok_false("no_such_subteam"),
            }
        }
        "conversations.history" => {
            let with_metadata =
                query.get("include_all_metadata").map(String::as_str) == Some("true");
            let oldest = query.get("oldest").cloned().unwrap_or_default();
            let messages: Vec<Value> = slack
                .messages
                .iter()
                .rev()
                .filter(|m| m.thread_ts().is_none() && m.ts >= oldest)
                .map(|m| {
                    let mut message =
                        json!({ "type": "message", "ts": m.ts, "text": m.request["text"] });
                    if with_metadata {
                        message["metadata"] = m.request["metadata"].clone();
                    }
                    message
                })
                .collect();
            let mut messages = messages;
            messages.extend(slack.foreign.iter().cloned());
            ok(json!({ "messages": messages, "has_more": false }))
        }
        _ => ok_false("unknown_method"),
    }
}

/// The upload URL handed out by files.getUploadURLExternal: takes the raw bytes, answers in
/// plain text as Slack's does.
async fn upload(
    State((state, _)): State<ApiState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let length = body.len();
    state
        .lock()
        .unwrap()
        .uploads
        .insert(file, (content_type, body.to_vec()));
    (
        [("content-type", "text/plain; charset=utf-8")],
        format!("OK - {length}"),
    )
        .into_response()
}

fn ok(mut body: Value) -> Response {
    body["ok"] = json!(true);
    Json(body).into_response()
}

fn ok_false(error: &str) -> Response {
    Json(json!({ "ok": false, "error": error })).into_response()
}

async fn serve_socket(
    listener: tokio::net::TcpListener,
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Value>>>,
    acks: Arc<Mutex<HashMap<String, Value>>>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let queue = queue.clone();
        let acks = acks.clone();
        tokio::spawn(async move {
            let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                return;
            };
            let hello = json!({
                "type": "hello", "num_connections": 1,
                "debug_info": { "host": "fake", "build_number": 1, "approximate_connection_time": 3600 },
                "connection_info": { "app_id": "A1" },
            });
            if ws.send(Message::text(hello.to_string())).await.is_err() {
                return;
            }
            loop {
                tokio::select! {
                    envelope = async { queue.lock().await.recv().await } => {
                        let Some(envelope) = envelope else { return };
                        if ws.send(Message::text(envelope.to_string())).await.is_err() {
                            return;
                        }
                    }
                    frame = ws.next() => match frame {
                        Some(Ok(Message::Text(text))) => {
                            if let Ok(ack) = serde_json::from_str::<Value>(&text) {
                                if let Some(id) = ack["envelope_id"].as_str() {
                                    acks.lock().unwrap().insert(id.to_string(), ack.clone());
                                }
                            }
                        }
                        Some(Ok(_)) => {}
                        _ => return,
                    },
                }
            }
        });
    }
}
