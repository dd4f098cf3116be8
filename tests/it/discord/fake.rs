//! A fake Discord on 127.0.0.1: the REST routes earshot uses (with enforce_nonce, threads and
//! Discord's error bodies) and the gateway (discovery, Hello, Identify, READY, heartbeats,
//! dispatches), recording every request for the tests to inspect.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::{broadcast, Notify};

pub const TOKEN: &str = "test-token";
pub const APPLICATION: &str = "2000";
pub const BOT: &str = "1000";
pub const CHANNEL: &str = "9000";
/// A second channel in the server, for routes.
pub const SUPPORT: &str = "9100";
pub const GUILD: &str = "7000";
/// Short, so a test sees serenity heartbeat and the fake acknowledge.
const HEARTBEAT_MS: u64 = 200;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Request>,
    /// Message id -> the message as Discord would return it.
    messages: HashMap<String, Value>,
    /// Nonce -> message id, for enforce_nonce.
    nonces: HashMap<String, String>,
    /// Threads, by id (= the id of the message they hang on).
    threads: Vec<String>,
    next_id: u64,
    /// Canned failures: (method, path prefix, status, body), used once each, in order.
    failures: VecDeque<(String, String, u16, Value)>,
    identified: bool,
    heartbeats: usize,
    /// Direct-message channels opened, by recipient.
    dms: HashMap<String, String>,
    /// Files received with messages: (channel, file name, content type, bytes).
    files: Vec<Upload>,
}

/// A file attached to a message (multipart `files[n]`).
#[derive(Debug, Clone)]
pub struct Upload {
    pub channel: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
    dispatch: broadcast::Sender<(String, Value)>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let fake = FakeDiscord {
            url: format!("http://{address}"),
            inner: Arc::new(Mutex::new(Inner {
                next_id: 100_000,
                ..Inner::default()
            })),
            changed: Arc::new(Notify::new()),
            dispatch: broadcast::channel(16).0,
        };
        let app = Router::new()
            .route("/gateway", get(gateway))
            .route("/api/v10/{*path}", any(rest))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Every REST request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    pub fn message(&self, id: &str) -> Option<Value> {
        self.inner.lock().unwrap().messages.get(id).cloned()
    }

    /// The direct-message channel opened with `user`, if any.
    pub fn dm(&self, user: &str) -> Option<String> {
        self.inner.lock().unwrap().dms.get(user).cloned()
    }

    pub fn uploads(&self) -> Vec<Upload> {
        self.inner.lock().unwrap().files.clone()
    }

    pub fn heartbeats(&self) -> usize {
        self.inner.lock().unwrap().heartbeats
    }

    /// The next `method` request under `path` fails with `status` and Discord's `body`.
    pub fn fail_next(&self, method: &str, path: &str, status: u16, body: Value) {
        self.inner
            .lock()
            .unwrap()
            .failures
            .push_back((method.into(), path.into(), status, body));
    }

    /// Waits (a few seconds at most) until `check` holds.
    pub async fn until<T>(&self, what: &str, check: impl Fn(&FakeDiscord) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let changed = self.changed.notified();
            if let Some(found) = check(self) {
                return found;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!(
                    "timed out waiting for {what}; requests: {:#?}",
                    self.requests()
                );
            }
        }
    }

    /// Waits for an interaction callback to `interaction` and returns its body.
    pub async fn callback(&self, interaction: &str) -> Value {
        let path = format!("/interactions/{interaction}/tok-{interaction}/callback");
        self.until(&format!("the callback to {interaction}"), |fake| {
            fake.requests_to("POST", &path)
                .first()
                .map(|r| r.body.clone())
        })
        .await
    }

    pub async fn wait_identified(&self) {
        self.until("the gateway Identify", |fake| {
            fake.inner.lock().unwrap().identified.then_some(())
        })
        .await;
    }

    /// Sends `event` over the gateway to the connected bot.
    pub fn dispatch(&self, event: &str, data: Value) {
        self.dispatch.send((event.to_string(), data)).unwrap();
    }

    fn record(&self, request: Request) {
        self.inner.lock().unwrap().requests.push(request);
        self.changed.notify_waiters();
    }
}

async fn rest(
    State(fake): State<FakeDiscord>,
    method: Method,
    uri: Uri,
    Path(_): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches("/api/v10").to_string();
    let boundary = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("multipart/form-data; boundary="))
        .map(str::to_string);
    let (body, files) = match boundary {
        // A message with files: `payload_json` is the message, `files[n]` the attachments.
        Some(boundary) => {
            let mut payload = Value::Null;
            let mut files = Vec::new();
            for part in multipart(&body, &boundary) {
                if part.name == "payload_json" {
                    payload = serde_json::from_slice(&part.bytes).unwrap_or(Value::Null);
                } else if part.name.starts_with("files[") {
                    files.push(Upload {
                        channel: path.split('/').nth(2).unwrap_or_default().to_string(),
                        file_name: part.file_name.unwrap_or_default(),
                        content_type: part.content_type.unwrap_or_default(),
                        bytes: part.bytes,
                    });
                }
            }
            (payload, files)
        }
        None => (
            serde_json::from_slice(&body).unwrap_or(Value::Null),
            Vec::new(),
        ),
    };
    let request = Request {
        method: method.to_string(),
        path: path.clone(),
        body: body.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let response = answer(&fake, &request);
    if response.status().is_success() {
        fake.inner.lock().unwrap().files.extend(files);
    }
    fake.record(request);
    response
}

fn answer(fake: &FakeDiscord, request: &Request) -> Response {
    let mut inner = fake.inner.lock().unwrap();
    let canned = inner.failures.iter().position(|(method, prefix, ..)| {
        *method == request.method && request.path.starts_with(prefix.as_str())
    });
    if let Some(at) = canned {
        let (_, _, status, body) = inner.failures.remove(at).unwrap();
        let mut response =
            (StatusCode::from_u16(status).unwrap(), Json(body.clone())).into_response();
        if let Some(seconds) = body.get("retry_after").and_then(Value::as_f64) {
            response.headers_mut().insert(
                "retry-after",
                (seconds.ceil() as u64).to_string().parse().unwrap(),
            );
        }
        return response;
    }
    if request.authorization.as_deref() != Some(&format!("Bot {TOKEN}"))
        && !request.path.starts_with("/interactions/")
        && !request.path.starts_with("/webhooks/")
    {
        return discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized");
    }
    let parts: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    match (request.method.as_str(), parts.as_slice()) {
        ("GET", ["gateway"]) => {
            let url = fake.url.replace("http://", "ws://");
            Json(json!({ "url": format!("{url}/gateway") })).into_response()
        }
        ("GET", ["applications", "@me"]) => {
            Json(json!({ "id": APPLICATION, "name": "earshot", "bot_public": true }))
                .into_response()
        }
        ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => {
            Json(request.body.clone()).into_response()
        }
        ("POST", ["users", "@me", "channels"]) => {
            let Some(recipient) = request.body["recipient_id"].as_str().map(str::to_string) else {
                return discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
            };
            let id = match inner.dms.get(&recipient) {
                Some(id) => id.clone(),
                None => {
                    inner.next_id += 1;
                    let id = inner.next_id.to_string();
                    inner.dms.insert(recipient.clone(), id.clone());
                    id
                }
            };
            Json(json!({
                "id": id, "type": 1, "last_message_id": null, "flags": 0,
                "recipients": [{ "id": recipient, "username": "member", "discriminator": "0", "global_name": null, "avatar": null }]
            }))
            .into_response()
        }
        ("POST", ["channels", channel, "messages"]) => {
            let known = *channel == CHANNEL
                || *channel == SUPPORT
                || inner.threads.iter().any(|t| t == channel)
                || inner.dms.values().any(|dm| dm == channel);
            if !known {
                return discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
            }
            if request.body["enforce_nonce"] == json!(true) {
                if let Some(id) = request.body["nonce"]
                    .as_str()
                    .and_then(|n| inner.nonces.get(n))
                {
                    let existing = inner.messages[id].clone();
                    return Json(existing).into_response();
                }
            }
            inner.next_id += 1;
            let id = inner.next_id.to_string();
            let message = message(&id, channel, &request.body);
            if let Some(nonce) = request.body["nonce"].as_str() {
                inner.nonces.insert(nonce.to_string(), id.clone());
            }
            inner.messages.insert(id, message.clone());
            Json(message).into_response()
        }
        ("PATCH", ["channels", _, "messages", id]) => {
            let Some(stored) = inner.messages.get_mut(*id) else {
                return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
            };
            for (key, value) in request.body.as_object().into_iter().flatten() {
                stored[key] = value.clone();
            }
            stored["edited_timestamp"] = json!("2026-11-22T10:05:00.000000+00:00");
            Json(stored.clone()).into_response()
        }
        ("POST", ["channels", channel, "messages", id, "threads"]) => {
            if inner.threads.iter().any(|t| t == id) {
                return discord_error(
                    StatusCode::BAD_REQUEST,
                    160004,
                    "A thread has already been created for this message",
                );
            }
            inner.threads.push(id.to_string());
            Json(json!({
                "id": id, "type": 11, "guild_id": GUILD, "parent_id": channel,
                "name": request.body["name"], "owner_id": BOT,
                "thread_metadata": {"archived": false, "auto_archive_duration": 10080, "archive_timestamp": "2026-11-22T10:00:00.000000+00:00", "locked": false},
                "message_count": 0, "member_count": 1, "rate_limit_per_user": 0
            }))
            .into_response()
        }
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        ("PATCH", ["webhooks", _, _, "messages", "@original"]) => {
            Json(message("1", CHANNEL, &request.body)).into_response()
        }
        _ => discord_error(StatusCode::NOT_FOUND, 0, "404: Not Found"),
    }
}

struct Part {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// The parts of a `multipart/form-data` body (RFC 7578), binary-safe.
fn multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |haystack: &[u8], needle: &[u8]| {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    };
    let mut parts = Vec::new();
    let Some(first) = find(body, &delimiter) else {
        return parts;
    };
    let mut rest = &body[first + delimiter.len()..];
    while let Some(end) = find(rest, &delimiter) {
        // Each part: CRLF, headers, a blank line, the content, CRLF before the next delimiter.
        let part = &rest[2..end - 2];
        rest = &rest[end + delimiter.len()..];
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let param = |name: &str| {
            let start = head.find(&format!("{name}=\""))? + name.len() + 2;
            let len = head[start..].find('"')?;
            Some(head[start..start + len].to_string())
        };
        let content_type = head.lines().find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        });
        parts.push(Part {
            name: param(" name").unwrap_or_default(),
            file_name: param("filename"),
            content_type,
            bytes: part[split + 4..].to_vec(),
        });
    }
    parts
}

fn discord_error(status: StatusCode, code: i64, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

/// A complete message object, as Discord returns it.
pub fn message(id: &str, channel: &str, sent: &Value) -> Value {
    json!({
        "id": id,
        "channel_id": channel,
        "guild_id": GUILD,
        "author": { "id": BOT, "username": "earshot", "discriminator": "0", "global_name": null, "avatar": null, "bot": true },
        "content": sent.get("content").cloned().unwrap_or(json!("")),
        "timestamp": "2026-11-22T10:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": sent.get("embeds").cloned().unwrap_or(json!([])),
        "components": sent.get("components").cloned().unwrap_or(json!([])),
        "nonce": sent.get("nonce").cloned().unwrap_or(Value::Null),
        "pinned": false,
        "type": 0,
        "flags": 0
    })
}

async fn gateway(State(fake): State<FakeDiscord>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| session(fake, socket))
}

/// One gateway session: Hello, wait for Identify, READY, then heartbeat acks and dispatches.
async fn session(fake: FakeDiscord, mut socket: WebSocket) {
    let hello =
        json!({ "op": 10, "d": { "heartbeat_interval": HEARTBEAT_MS }, "s": null, "t": null });
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut dispatches = fake.dispatch.subscribe();
    let mut sequence = 0u64;
    loop {
        tokio::select! {
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { return };
                let text = match frame {
                    Message::Text(text) => text.to_string(),
                    Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Message::Close(_) => return,
                    _ => continue,
                };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                match payload["op"].as_u64() {
                    Some(1) => {
                        fake.inner.lock().unwrap().heartbeats += 1;
                        fake.changed.notify_waiters();
                        let ack = json!({ "op": 11, "d": null, "s": null, "t": null });
                        if socket.send(Message::Text(ack.to_string().into())).await.is_err() {
                            return;
                        }
                    }
                    Some(2) => {
                        assert_eq!(payload["d"]["token"], json!(format!("Bot {TOKEN}")), "Identify carries the token");
                        sequence += 1;
                        let ready = json!({
                            "op": 0, "s": sequence, "t": "READY",
                            "d": {
                                "v": 10,
                                "user": { "id": BOT, "username": "earshot", "discriminator": "0", "global_name": null, "avatar": null, "bot": true },
                                "guilds": [],
                                "session_id": "session-1",
                                "resume_gateway_url": fake.url.replace("http://", "ws://") + "/gateway",
                                "application": { "id": APPLICATION, "flags": 0 }
                            }
                        });
                        if socket.send(Message::Text(ready.to_string().into())).await.is_err() {
                            return;
                        }
                        fake.inner.lock().unwrap().identified = true;
                        fake.changed.notify_waiters();
                    }
                    _ => {}
                }
            }
            event = dispatches.recv() => {
                let Ok((event, data)) = event else { return };
                sequence += 1;
                let frame = json!({ "op": 0, "s": sequence, "t": event, "d": data });
                if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Someone on the server, as interactions carry them.
#[derive(Clone)]
pub struct Person {
    pub id: &'static str,
    pub name: &'static str,
    pub roles: Vec<&'static str>,
}

impl Person {
    fn member(&self) -> Value {
        json!({
            "user": { "id": self.id, "username": self.name, "discriminator": "0", "global_name": self.name, "avatar": null },
            "nick": null, "avatar": null, "roles": self.roles,
            "joined_at": "2025-01-01T00:00:00.000000+00:00", "premium_since": null,
            "deaf": false, "mute": false, "flags": 0, "pending": false,
            "permissions": "2248473465835073", "communication_disabled_until": null
        })
    }
}

/// A complete INTERACTION_CREATE payload (serenity drops incomplete ones silently).
fn interaction(id: &str, kind: u8, who: &Person, data: Value) -> Value {
    json!({
        "id": id,
        "application_id": APPLICATION,
        "type": kind,
        "token": format!("tok-{id}"),
        "version": 1,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "channel": { "id": CHANNEL, "type": 0, "guild_id": GUILD, "name": "mentions" },
        "member": who.member(),
        "data": data,
        "locale": "en-US",
        "guild_locale": "en-US",
        "app_permissions": "2248473465835073",
        "entitlements": [],
        "authorizing_integration_owners": { "0": GUILD },
        "context": 0,
        "attachment_size_limit": 8388608
    })
}

pub fn slash(id: &str, who: &Person, sub: &str, options: Value) -> Value {
    interaction(
        id,
        2,
        who,
        json!({
            "id": "3000", "name": "mentions", "type": 1, "guild_id": GUILD,
            "options": [{ "name": sub, "type": 1, "options": options }]
        }),
    )
}

pub fn autocomplete(id: &str, who: &Person, sub: &str, typed: &str) -> Value {
    interaction(
        id,
        4,
        who,
        json!({
            "id": "3000", "name": "mentions", "type": 1, "guild_id": GUILD,
            "options": [{ "name": sub, "type": 1, "options": [{ "name": "number", "type": 4, "value": typed, "focused": true }] }]
        }),
    )
}

pub fn click(id: &str, who: &Person, custom_id: &str, message: &Value) -> Value {
    let mut payload = interaction(
        id,
        3,
        who,
        json!({ "custom_id": custom_id, "component_type": 2 }),
    );
    payload["message"] = message.clone();
    payload
}

pub fn submit(id: &str, who: &Person, custom_id: &str, text: &str) -> Value {
    interaction(
        id,
        5,
        who,
        json!({
            "custom_id": custom_id,
            "components": [{ "type": 1, "components": [{ "type": 4, "custom_id": "text", "value": text }] }]
        }),
    )
}

pub fn ping(id: &str) -> Value {
    json!({
        "id": id, "application_id": APPLICATION, "type": 1, "token": format!("tok-{id}"), "version": 1,
        "entitlements": [], "authorizing_integration_owners": {}, "attachment_size_limit": 8388608
    })
}
