//! The Mastodon source against a fake instance on 127.0.0.1 that pages with `min_id` the way
//! Mastodon does, serves recorded-shape fixtures, and can be told to fail.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use tokio::sync::Notify;

use earshot::app::poll;
use earshot::desk::{Caller, Desk};
use earshot::domain::{Cursor, Member, MemberRef, Status};
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::sources::mastodon::{Mastodon, Watch};
use earshot::sources::{Source, SourceError};
use earshot::store::Store;

const TOKEN: &str = "secret-token";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/mastodon/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A mention notification numbered `n`: notification id and status id both grow with `n`.
fn mention(n: u64, text: &str) -> Value {
    let mut item = fixture("notification.json");
    item["id"] = json!(format!("{}", 40_000_000 + n));
    item["status"]["id"] = json!(format!("{}", 110_000_000_000_000_000 + n));
    item["status"]["url"] = json!(format!("https://social.example/@zsc/{n}"));
    item["status"]["content"] = json!(format!("<p>@acme {text}</p>"));
    item
}

fn tag_status(n: u64, text: &str) -> Value {
    let mut item = fixture("tag_status.json");
    item["id"] = json!(format!("{}", 120_000_000_000_000_000 + n));
    item["content"] = json!(format!("<p>{text} <a href=\"#\">#acme</a></p>"));
    item
}

#[derive(Debug, Clone)]
struct Request {
    method: Method,
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: String,
}

/// A canned answer for the next request whose path starts with `path`.
struct Fault {
    path: &'static str,
    /// Matching requests to let through first.
    skip: usize,
    /// Do the work, then answer with the fault anyway (a reply lost on the way back).
    commit: bool,
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

struct Fake {
    notifications: Vec<Value>,
    tags: HashMap<String, Vec<Value>>,
    faults: VecDeque<Fault>,
    requests: Vec<Request>,
    /// Headers added to every answer (rate-limit headers).
    extra_headers: Vec<(&'static str, String)>,
    /// Status ids the instance knows (to reply to).
    known: Vec<String>,
    /// Posted statuses by idempotency key, as Mastodon keeps them for an hour.
    posted: HashMap<String, Value>,
    search: HashMap<String, Value>,
    max_chars: usize,
    /// Servers before Mastodon 4.0 (and several others) have no `/api/v2/instance`.
    no_v2_instance: bool,
    /// What `/api/v1/instance` answers (404 when `None`).
    v1_instance: Option<Value>,
}

#[derive(Clone)]
struct Server {
    url: String,
    fake: Arc<Mutex<Fake>>,
}

impl Server {
    async fn start() -> Server {
        let fake = Arc::new(Mutex::new(Fake {
            notifications: Vec::new(),
            tags: HashMap::new(),
            faults: VecDeque::new(),
            requests: Vec::new(),
            extra_headers: Vec::new(),
            known: Vec::new(),
            posted: HashMap::new(),
            search: HashMap::new(),
            max_chars: 500,
            no_v2_instance: false,
            v1_instance: None,
        }));
        let state = fake.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move { handle(&state, method, uri, headers, body) }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { url, fake }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Fake) -> T) -> T {
        f(&mut self.fake.lock().unwrap())
    }

    fn requests(&self, path: &str) -> Vec<Request> {
        self.with(|fake| {
            fake.requests
                .iter()
                .filter(|r| r.path.starts_with(path))
                .cloned()
                .collect()
        })
    }

    fn fail_next(&self, path: &'static str, status: u16, headers: Vec<(&'static str, String)>) {
        self.with(|fake| {
            fake.faults.push_back(Fault {
                path,
                skip: 0,
                commit: false,
                status,
                headers,
                body: json!({"error": format!("fault {status}")}).to_string(),
            })
        });
    }

    fn source(&self, watch: Vec<Watch>, clock: Arc<Mutex<DateTime<Utc>>>) -> Mastodon {
        Mastodon::new(
            "masto".into(),
            url::Url::parse(&self.url).unwrap(),
            TOKEN.into(),
            watch,
            Duration::from_secs(30),
            reqwest::Client::new(),
        )
        .with_clock(Arc::new(move || *clock.lock().unwrap()))
    }
}

fn handle(
    state: &Mutex<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut fake = state.lock().unwrap();
    let path = uri.path().to_string();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    fake.requests.push(Request {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        headers: headers.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let extra = fake.extra_headers.clone();
    let respond = |status: u16, body: String, more: Vec<(&'static str, String)>| {
        let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
        for (name, value) in extra.iter().chain(more.iter()) {
            response.headers_mut().insert(*name, value.parse().unwrap());
        }
        response
    };
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {TOKEN}"))
    {
        return respond(
            401,
            json!({"error": "The access token is invalid"}).to_string(),
            vec![],
        );
    }
    if let Some(at) = fake.faults.iter().position(|f| path.starts_with(f.path)) {
        if fake.faults[at].skip > 0 {
            fake.faults[at].skip -= 1;
        } else {
            let fault = fake.faults.remove(at).unwrap();
            if fault.commit {
                let _ = serve(&mut fake, &method, &path, &query, &headers, &body, &respond);
            }
            return respond(fault.status, fault.body, fault.headers);
        }
    }
    serve(&mut fake, &method, &path, &query, &headers, &body, &respond)
}

fn serve(
    fake: &mut Fake,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
    respond: &dyn Fn(u16, String, Vec<(&'static str, String)>) -> Response,
) -> Response {
    let limit = |default: usize| {
        query
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(default)
    };
    let ok = |value: Value| respond(200, value.to_string(), vec![]);
    match (method.as_str(), path) {
        ("GET", "/api/v1/accounts/verify_credentials") => {
            ok(json!({"id": "1", "username": "acme", "acct": "acme", "display_name": "Acme"}))
        }
        ("GET", "/api/v2/instance") if !fake.no_v2_instance => ok(
            json!({"domain": "mastodon.test", "configuration": {"statuses": {"max_characters": fake.max_chars}}}),
        ),
        ("GET", "/api/v1/instance") if fake.v1_instance.is_some() => {
            ok(fake.v1_instance.clone().unwrap())
        }
        ("GET", "/api/v1/notifications") => {
            assert_eq!(query.get("types[]").map(String::as_str), Some("mention"));
            let page = page(&fake.notifications, query.get("min_id"), limit(40).min(80));
            ok(Value::Array(page))
        }
        ("GET", tag) if tag.starts_with("/api/v1/timelines/tag/") => {
            let name = tag.trim_start_matches("/api/v1/timelines/tag/");
            let items = fake.tags.get(name).cloned().unwrap_or_default();
            ok(Value::Array(page(
                &items,
                query.get("min_id"),
                limit(20).min(40),
            )))
        }
        ("POST", "/api/v1/statuses") => {
            let key = headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            if let Some(earlier) = fake.posted.get(&key) {
                return ok(earlier.clone());
            }
            let request: Value = serde_json::from_slice(body).unwrap();
            let parent = request["in_reply_to_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if !fake.known.contains(&parent) {
                return respond(
                    404,
                    json!({"error": "Record not found"}).to_string(),
                    vec![],
                );
            }
            let id = format!("{}", 200_000 + fake.posted.len());
            let status = json!({
                "id": id,
                "url": format!("https://mastodon.test/@acme/{id}"),
                "in_reply_to_id": parent,
                "content": request["status"],
            });
            fake.posted.insert(key, status.clone());
            ok(status)
        }
        ("GET", "/api/v2/search") => {
            assert_eq!(query.get("resolve").map(String::as_str), Some("true"));
            let q = query.get("q").cloned().unwrap_or_default();
            let statuses = fake
                .search
                .get(&q)
                .cloned()
                .map(|s| vec![s])
                .unwrap_or_default();
            ok(json!({"accounts": [], "hashtags": [], "statuses": statuses}))
        }
        _ => respond(
            404,
            json!({"error": "Record not found"}).to_string(),
            vec![],
        ),
    }
}

/// Mastodon's `min_id` paging: the `limit` items just above `min_id` (the newest ones without
/// it), newest first.
fn page(items: &[Value], min_id: Option<&String>, limit: usize) -> Vec<Value> {
    let id = |item: &Value| {
        item["id"]
            .as_str()
            .map_or(0, |id| id.parse::<u128>().unwrap())
    };
    let mut sorted: Vec<Value> = items.to_vec();
    sorted.sort_by_key(id);
    let chosen: Vec<Value> = match min_id {
        Some(min) => {
            let min: u128 = min.parse().unwrap();
            sorted
                .into_iter()
                .filter(|item| id(item) > min)
                .take(limit)
                .collect()
        }
        None => {
            let skip = sorted.len().saturating_sub(limit);
            sorted.into_iter().skip(skip).collect()
        }
    };
    chosen.into_iter().rev().collect()
}

fn clock() -> Arc<Mutex<DateTime<Utc>>> {
    Arc::new(Mutex::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
    ))
}

fn rules() -> Rules {
    Rules::new(&["acme".to_string()], &[], &[])
}

#[tokio::test]
async fn mentions_walk_forward_page_by_page_to_an_empty_page() {
    let server = Server::start().await;
    server.with(|fake| fake.notifications.push(mention(0, "first")));
    let source = server.source(vec![Watch::Mentions], clock());

    let first = source.fetch(&Cursor::default()).await.unwrap();
    assert_eq!(
        first.mentions.len(),
        1,
        "a new source starts from the latest page"
    );
    assert_eq!(first.mentions[0].text, "@acme first");
    assert!(first.mentions[0].direct);

    server.with(|fake| {
        for n in 1..=170 {
            fake.notifications.push(mention(n, &format!("number {n}")));
        }
    });
    let second = source.fetch(&first.cursor).await.unwrap();
    let texts: Vec<String> = second.mentions.iter().map(|m| m.text.clone()).collect();
    let expected: Vec<String> = (1..=170).map(|n| format!("@acme number {n}")).collect();
    assert_eq!(texts, expected, "every mention once, oldest first");

    let min_ids: Vec<Option<String>> = server
        .requests("/api/v1/notifications")
        .iter()
        .map(|r| r.query.get("min_id").cloned())
        .collect();
    assert_eq!(
        min_ids,
        vec![
            None,
            Some("40000000".into()),
            Some("40000080".into()),
            Some("40000160".into()),
            Some("40000170".into()),
        ],
        "pages of 80 walked forward with min_id until an empty page"
    );
    let limits: Vec<String> = server
        .requests("/api/v1/notifications")
        .iter()
        .map(|r| r.query["limit"].clone())
        .collect();
    assert!(limits.iter().all(|l| l == "80"));

    let third = source.fetch(&second.cursor).await.unwrap();
    assert!(third.mentions.is_empty());
    assert_eq!(third.cursor, second.cursor);
}

#[tokio::test]
async fn hashtags_and_mentions_share_one_cursor_and_own_posts_are_skipped() {
    let server = Server::start().await;
    server.with(|fake| {
        fake.notifications.push(mention(1, "hi"));
        let mut own = tag_status(1, "our own announcement");
        own["account"] = json!({"id": "1", "acct": "acme", "display_name": "Acme"});
        let boost = {
            let mut boost = tag_status(2, "");
            boost["reblog"] = tag_status(0, "boosted");
            boost
        };
        fake.tags
            .insert("acme".into(), vec![tag_status(0, "lekker"), own, boost]);
    });
    let source = server.source(
        vec![Watch::Mentions, Watch::parse("#Acme").unwrap()],
        clock(),
    );
    let fetched = source.fetch(&Cursor::default()).await.unwrap();
    let texts: Vec<(&str, bool)> = fetched
        .mentions
        .iter()
        .map(|m| (m.text.as_str(), m.direct))
        .collect();
    assert_eq!(texts, vec![("@acme hi", true), ("lekker #acme", false)]);
    let tag = &fetched.mentions[1];
    assert_eq!(tag.author.handle, "kees");
    assert_eq!(tag.author.name, None, "an empty display name is no name");
    assert_eq!(tag.language.as_deref(), Some("nl"));
    assert_eq!(
        tag.link.as_deref(),
        Some("https://mastodon.test/@kees/103186126728896500")
    );
    let position: Value =
        serde_json::from_str(fetched.cursor.position.as_deref().unwrap()).unwrap();
    assert_eq!(
        position,
        json!({"mentions": "40000001", "#acme": "120000000000000002"})
    );

    let mention = &fetched.mentions[0];
    assert_eq!(mention.author.handle, "zsc@social.example");
    assert_eq!(mention.author.display(), "Zoë S. C. (@zsc@social.example)");
    assert_eq!(mention.key.id, "110000000000000001");
    assert_eq!(
        mention.created_at.to_rfc3339(),
        "2026-11-21T07:49:01.940+00:00"
    );
    assert_eq!(
        server.requests("/api/v1/timelines/tag/").len(),
        1,
        "first run: one page per stream"
    );
}

#[tokio::test]
async fn a_429_pauses_the_source_for_as_long_as_asked() {
    let server = Server::start().await;
    server.with(|fake| fake.notifications.push(mention(1, "hi")));
    let now = clock();
    let source = server.source(vec![Watch::Mentions], now.clone());
    source.fetch(&Cursor::default()).await.unwrap();

    server.fail_next(
        "/api/v1/notifications",
        429,
        vec![("retry-after", "30".into())],
    );
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Retry { after: Some(after), reason } if *after == Duration::from_secs(30) && reason.contains("429")),
        "{error:?}"
    );
    let asked = server.requests("/api/v1/notifications").len();
    *now.lock().unwrap() += chrono::Duration::seconds(20);
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(
        matches!(error, SourceError::Retry { after: Some(after), .. } if after == Duration::from_secs(10))
    );
    assert_eq!(
        server.requests("/api/v1/notifications").len(),
        asked,
        "no request while paused"
    );

    *now.lock().unwrap() += chrono::Duration::seconds(11);
    let fetched = source.fetch(&Cursor::default()).await.unwrap();
    assert_eq!(fetched.mentions.len(), 1, "back after the wait");
}

#[tokio::test]
async fn server_errors_retry_and_reset_headers_time_the_pause() {
    let server = Server::start().await;
    let now = clock();
    let reset = (*now.lock().unwrap() + chrono::Duration::seconds(90)).to_rfc3339();
    let source = server.source(vec![Watch::Mentions], now.clone());
    server.fail_next(
        "/api/v1/notifications",
        503,
        vec![("x-ratelimit-reset", reset)],
    );
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Retry { after: Some(after), reason } if *after == Duration::from_secs(90) && reason.contains("503")),
        "{error:?}"
    );

    // A 503 without any hint pauses for a minute.
    *now.lock().unwrap() += chrono::Duration::seconds(91);
    server.fail_next("/api/v1/notifications", 502, vec![]);
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(
        matches!(error, SourceError::Retry { after: Some(after), .. } if after == Duration::from_secs(60)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_nearly_spent_budget_stops_polls_but_lets_answers_through() {
    let server = Server::start().await;
    let now = clock();
    let reset = (*now.lock().unwrap() + chrono::Duration::minutes(4)).to_rfc3339();
    server.with(|fake| {
        fake.notifications.push(mention(1, "hi"));
        fake.known.push("110000000000000001".into());
    });
    let source = server.source(vec![Watch::Mentions], now.clone());
    let fetched = source.fetch(&Cursor::default()).await.unwrap();
    server.with(|fake| {
        fake.notifications.push(mention(2, "again"));
        fake.extra_headers = vec![
            ("x-ratelimit-limit", "300".into()),
            ("x-ratelimit-remaining", "8".into()),
            ("x-ratelimit-reset", reset),
        ];
    });
    let second = source.fetch(&fetched.cursor).await.unwrap();
    assert_eq!(second.mentions.len(), 1);
    let error = source.fetch(&second.cursor).await.unwrap_err();
    assert!(
        matches!(error, SourceError::Retry { after: Some(after), .. } if after == Duration::from_secs(240)),
        "{error:?}"
    );
    assert_eq!(
        server.requests("/api/v1/notifications").len(),
        2,
        "the page that spent the budget is kept; the walk stops there"
    );

    let posted = source
        .reply(&fetched.mentions[0], "Sorry!", "key-1")
        .await
        .unwrap();
    assert!(posted.link.is_some(), "answers still go out");
}

#[tokio::test]
async fn malformed_items_are_skipped_and_their_place_still_counts() {
    let server = Server::start().await;
    server.with(|fake| {
        fake.notifications.push(mention(1, "hi"));
        if let Value::Array(items) = fixture("malformed_page.json") {
            fake.notifications.extend(items);
        }
    });
    let source = server.source(vec![Watch::Mentions], clock());
    let first = source.fetch(&Cursor::default()).await.unwrap();
    // Newest page first: 900..906 and the older well-formed one.
    let relayed: Vec<(String, String)> = first
        .mentions
        .iter()
        .map(|m| (m.key.id.clone(), m.text.clone()))
        .collect();
    let mut expected = vec![
        ("5003".to_string(), String::new()),
        (
            "5004".to_string(),
            "@acme hello from a sparse server".to_string(),
        ),
        ("110000000000000001".to_string(), "@acme hi".to_string()),
    ];
    expected.sort();
    let mut relayed_sorted = relayed.clone();
    relayed_sorted.sort();
    assert_eq!(
        relayed_sorted, expected,
        "deleted, unreadable, direct and own posts are not relayed; the rest is"
    );
    assert!(first.mentions.iter().all(|m| m.created_at.timestamp() > 0));
    let position: Value = serde_json::from_str(first.cursor.position.as_deref().unwrap()).unwrap();
    assert_eq!(
        position["mentions"],
        json!("40000001"),
        "ids compare as numbers: 40000001 > 906"
    );

    // A body that is not JSON at all: a clear error, the cursor stays.
    server.with(|fake| {
        fake.faults.push_back(Fault {
            path: "/api/v1/notifications",
            skip: 0,
            commit: false,
            status: 200,
            headers: vec![],
            body: "<html>maintenance</html>".into(),
        })
    });
    let error = source.fetch(&first.cursor).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("mention notifications came back malformed"),
        "{error}"
    );
}

#[tokio::test]
async fn a_revoked_token_is_a_permanent_error() {
    let server = Server::start().await;
    let source = Mastodon::new(
        "masto".into(),
        url::Url::parse(&server.url).unwrap(),
        "wrong".into(),
        vec![Watch::Mentions],
        Duration::from_secs(30),
        reqwest::Client::new(),
    );
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Permanent(reason) if reason.contains("rejected the token (401): The access token is invalid")),
        "{error:?}"
    );
}

/// A store with one relayed Mastodon mention claimed by `member`, ready to answer.
async fn claimed_mention(source: Arc<Mastodon>) -> (Store, Desk, Outbox, Member) {
    let store = Store::temporary(vec![]).unwrap();
    assert_eq!(poll(&store, source.as_ref(), &rules()).await, 1);
    let wake = Arc::new(Notify::new());
    let desk = Desk::new(store.clone(), "/mentions".into(), wake.clone());
    let outbox = Outbox::new(store.clone(), vec![], vec![source as Arc<dyn Source>], wake);
    let member = Member::new("U1", "jane");
    let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());
    let reply = desk
        .handle(
            &Caller::new(member.clone(), "shell"),
            "claim 1",
            &resolve,
            Utc::now(),
        )
        .await;
    assert!(reply.ok, "{}", reply.text);
    (store, desk, outbox, member)
}

async fn answer(desk: &Desk, member: &Member, text: &str) {
    let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());
    let reply = desk
        .handle(
            &Caller::new(member.clone(), "shell"),
            &format!("answer 1 {text}"),
            &resolve,
            Utc::now(),
        )
        .await;
    assert!(reply.ok, "{}", reply.text);
}

#[tokio::test]
async fn an_answer_is_posted_once_even_when_retried() {
    let server = Server::start().await;
    server.with(|fake| {
        fake.notifications.push(mention(1, "my lids leak"));
        fake.known.push("110000000000000001".into());
    });
    let now = clock();
    let source = Arc::new(server.source(vec![Watch::Mentions], now.clone()));
    let (store, desk, outbox, member) = claimed_mention(source).await;
    answer(&desk, &member, "Sorry! A new lid is on its way.").await;

    // The first try reaches the instance, which posts it, but the answer is lost on the way back.
    server.with(|fake| {
        fake.faults.push_back(Fault {
            path: "/api/v1/statuses",
            skip: 0,
            commit: true,
            status: 502,
            headers: vec![],
            body: "Bad gateway".into(),
        })
    });
    let pass = outbox.drain(Utc::now()).await.unwrap();
    assert_eq!(pass.delivered, 0);
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Claimed);
    *now.lock().unwrap() += chrono::Duration::seconds(61);
    let later = Utc::now() + chrono::Duration::hours(1);
    let pass = outbox.drain(later).await.unwrap();
    assert_eq!(pass.delivered, 1);

    let posts = server.requests("/api/v1/statuses");
    assert_eq!(posts.len(), 2, "tried twice");
    let keys: Vec<_> = posts
        .iter()
        .map(|p| p.headers["idempotency-key"].clone())
        .collect();
    assert_eq!(
        keys[0], keys[1],
        "both tries carry the same Idempotency-Key"
    );
    for post in &posts {
        assert_eq!(post.method, Method::POST);
        assert_eq!(post.headers["authorization"], format!("Bearer {TOKEN}"));
        let body: Value = serde_json::from_str(&post.body).unwrap();
        assert_eq!(
            body,
            json!({"status": "@zsc@social.example Sorry! A new lid is on its way.", "in_reply_to_id": "110000000000000001"})
        );
    }
    assert_eq!(server.with(|fake| fake.posted.len()), 1, "posted once");
    let tracked = store.mention(1).unwrap();
    assert_eq!(tracked.state.status(), Status::Answered);
    assert!(
        format!("{:?}", tracked.state).contains("https://mastodon.test/@acme/200000"),
        "the card links the answer: {:?}",
        tracked.state
    );
}

#[tokio::test]
async fn an_answer_to_a_deleted_post_returns_to_its_author_and_stays_claimed() {
    let server = Server::start().await;
    server.with(|fake| fake.notifications.push(mention(1, "my lids leak")));
    let source = Arc::new(server.source(vec![Watch::Mentions], clock()));
    let (store, desk, outbox, member) = claimed_mention(source).await;
    answer(&desk, &member, "Sorry!").await;
    outbox.drain(Utc::now()).await.unwrap();

    let tracked = store.mention(1).unwrap();
    assert_eq!(
        tracked.state.status(),
        Status::Claimed,
        "{:?}",
        tracked.state
    );
    let history = store.history(1).unwrap();
    let last = history.last().unwrap().summary();
    assert!(last.contains("the post no longer exists"), "{last}");
    let searched = server.requests("/api/v2/search");
    assert_eq!(searched.len(), 1, "tried to resolve it first");
    assert_eq!(searched[0].query["q"], "https://social.example/@zsc/1");
    assert_eq!(store.outbox_len(), 0, "nothing left to retry");
}

#[tokio::test]
async fn a_post_the_instance_lost_is_resolved_to_its_new_id() {
    let server = Server::start().await;
    server.with(|fake| {
        fake.notifications.push(mention(1, "my lids leak"));
        fake.known.push("777".into());
        fake.search
            .insert("https://social.example/@zsc/1".into(), json!({"id": "777"}));
    });
    let source = server.source(vec![Watch::Mentions], clock());
    let fetched = source.fetch(&Cursor::default()).await.unwrap();
    let posted = source
        .reply(&fetched.mentions[0], "Hello", "key-9")
        .await
        .unwrap();
    assert_eq!(
        posted.link.as_deref(),
        Some("https://mastodon.test/@acme/200000")
    );
    let posts = server.requests("/api/v1/statuses");
    let parents: Vec<Value> = posts
        .iter()
        .map(|p| serde_json::from_str::<Value>(&p.body).unwrap()["in_reply_to_id"].clone())
        .collect();
    assert_eq!(parents, vec![json!("110000000000000001"), json!("777")]);
}

#[tokio::test]
async fn the_instance_limit_is_checked_with_the_mention_included() {
    let server = Server::start().await;
    server.with(|fake| {
        fake.notifications.push(mention(1, "hi"));
        fake.known.push("110000000000000001".into());
        fake.max_chars = 30;
    });
    let source = server.source(vec![Watch::Mentions], clock());
    let fetched = source.fetch(&Cursor::default()).await.unwrap();
    // "@zsc@social.example " is 20 characters.
    let error = source
        .reply(&fetched.mentions[0], "twelve chars", "k")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SourceError::Permanent(reason) if reason.contains("32 characters") && reason.contains("allows 30")),
        "{error:?}"
    );
    assert!(server.requests("/api/v1/statuses").is_empty());
    source
        .reply(&fetched.mentions[0], "ten chars!", "k")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_instance_without_v2_gives_its_limit_through_v1() {
    // (v1 description, the limit it names): Pleroma's and glitch-soc's `max_toot_chars`, as a
    // number or a string; Mastodon 3.x's `configuration.statuses.max_characters`; and nothing.
    let cases = [
        (json!({"uri": "old.test", "max_toot_chars": 40}), 40),
        (json!({"uri": "old.test", "max_toot_chars": "40"}), 40),
        (
            json!({"uri": "old.test", "urls": {"streaming_api": "wss://old.test"},
                "configuration": {"statuses": {"max_characters": 40, "max_media_attachments": 4}}}),
            40,
        ),
        (json!({"uri": "old.test", "version": "3.0.0"}), 500),
    ];
    for (v1, limit) in cases {
        let server = Server::start().await;
        server.with(|fake| {
            fake.notifications.push(mention(1, "hi"));
            fake.known.push("110000000000000001".into());
            fake.no_v2_instance = true;
            fake.v1_instance = Some(v1.clone());
        });
        let source = server.source(vec![Watch::Mentions], clock());
        let fetched = source.fetch(&Cursor::default()).await.unwrap();
        // "@zsc@social.example " is 20 characters.
        let long = "x".repeat(limit - 19);
        let error = source
            .reply(&fetched.mentions[0], &long, "k1")
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SourceError::Permanent(reason) if reason.contains(&format!("allows {limit}"))),
            "{v1}: {error:?}"
        );
        source
            .reply(&fetched.mentions[0], &"x".repeat(limit - 20), "k2")
            .await
            .unwrap_or_else(|error| panic!("{v1}: {error:?}"));
        assert_eq!(server.requests("/api/v2/instance").len(), 1, "{v1}");
        assert_eq!(
            server.requests("/api/v1/instance").len(),
            1,
            "read once: {v1}"
        );
    }
}

#[tokio::test]
async fn an_answer_is_sent_when_the_limit_cannot_be_read() {
    let server = Server::start().await;
    server.with(|fake| {
        fake.notifications.push(mention(1, "hi"));
        fake.known.push("110000000000000001".into());
        fake.no_v2_instance = true;
    });
    let source = server.source(vec![Watch::Mentions], clock());
    let fetched = source.fetch(&Cursor::default()).await.unwrap();
    // Neither description exists: the instance judges the answer itself.
    source
        .reply(&fetched.mentions[0], &"x".repeat(600), "k")
        .await
        .unwrap();
    assert_eq!(server.requests("/api/v1/statuses").len(), 1);
}

#[tokio::test]
async fn a_restart_mid_stream_leaves_no_gap_and_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start().await;
    let watch = || vec![Watch::Mentions, Watch::Hashtag("acme".into())];
    server.with(|fake| fake.notifications.push(mention(0, "before")));
    {
        let store = Store::open(dir.path(), vec![]).unwrap();
        let source = server.source(watch(), clock());
        assert_eq!(poll(&store, &source, &rules()).await, 1);
        server.with(|fake| {
            for n in 1..=100 {
                fake.notifications.push(mention(n, &format!("n{n}")));
            }
            fake.tags
                .insert("acme".into(), vec![tag_status(5, "tagged")]);
            // The second page of mentions fails: the first page is kept, the rest waits.
            fake.faults.push_back(Fault {
                path: "/api/v1/notifications",
                skip: 1,
                commit: false,
                status: 500,
                headers: vec![],
                body: "{}".into(),
            });
        });
        assert_eq!(poll(&store, &source, &rules()).await, 80, "the first page");
        // The process dies here.
    }
    let store = Store::open(dir.path(), vec![]).unwrap();
    let source = server.source(watch(), clock());
    assert_eq!(
        poll(&store, &source, &rules()).await,
        21,
        "the other 20 mentions and the tag"
    );
    assert_eq!(poll(&store, &source, &rules()).await, 0);

    let mut texts: Vec<String> = (1..=store.count().unwrap())
        .map(|n| store.mention(n).unwrap().mention.text)
        .collect();
    assert_eq!(texts.len(), 102);
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 102, "no duplicate");
    for n in 0..=100 {
        let text = if n == 0 {
            "@acme before".to_string()
        } else {
            format!("@acme n{n}")
        };
        assert!(texts.contains(&text), "no gap: {text}");
    }
    assert!(texts.contains(&"tagged #acme".to_string()));
}

#[tokio::test]
async fn a_reply_from_the_brand_in_the_thread_is_detected_as_an_answer() {
    let server = Server::start().await;
    let clock = Arc::new(Mutex::new(Utc::now()));
    let source = server.source(vec![Watch::Mentions], clock);
    let mention = |id: &str| earshot::domain::Mention {
        key: earshot::domain::MentionKey::new("masto", id),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: earshot::domain::Author::default(),
        text: "@acme help".into(),
        link: None,
        created_at: Utc::now(),
        matched: vec![],
        language: None,
        in_reply_to: None,
        direct: true,
        review: None,
    };
    let context = |descendants: Value| Fault {
        path: "/api/v1/statuses/555/context",
        skip: 0,
        commit: false,
        status: 200,
        headers: vec![],
        body: json!({"ancestors": [], "descendants": descendants}).to_string(),
    };
    // Someone else replied: not answered.
    server.with(|fake| {
        fake.faults.push_back(context(json!([
            {"id": "556", "account": {"id": "77", "acct": "bob"}, "url": "https://mastodon.test/@bob/556"}
        ])))
    });
    assert_eq!(
        source.answered_by_brand(&mention("555")).await.unwrap(),
        None
    );
    // The brand (account 1, from verify_credentials) replied outside earshot.
    server.with(|fake| {
        fake.faults.push_back(context(json!([
            {"id": "556", "account": {"id": "77", "acct": "bob"}},
            {"id": "557", "account": {"id": "1", "acct": "acme"}, "url": "https://mastodon.test/@acme/557"}
        ])))
    });
    assert_eq!(
        source
            .answered_by_brand(&mention("555"))
            .await
            .unwrap()
            .as_deref(),
        Some("reply by @acme on Mastodon: https://mastodon.test/@acme/557")
    );
    let asked = server.requests("/api/v1/statuses/555/context");
    assert_eq!(asked.len(), 2);
    // A deleted post: nothing to detect, no error.
    server.fail_next("/api/v1/statuses/999/context", 404, vec![]);
    assert_eq!(
        source.answered_by_brand(&mention("999")).await.unwrap(),
        None
    );
}
