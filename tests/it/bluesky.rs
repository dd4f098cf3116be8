//! The Bluesky source against a fake PDS on 127.0.0.1 speaking the XRPC shapes of the
//! lexicons (sessions, notifications, search, getPosts, getRecord, createRecord), with faults.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use earshot::app::poll;
use earshot::domain::Cursor;
use earshot::rules::Rules;
use earshot::sources::bluesky::{Bluesky, Watch};
use earshot::sources::{Source, SourceError};
use earshot::store::Store;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/bluesky/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Notification `n`, indexed `n` minutes after 12:00.
fn notification(n: i64, text: &str) -> Value {
    let mut item = fixture("notification.json");
    item["uri"] = json!(format!("at://did:plc:fan/app.bsky.feed.post/n{n}"));
    item["record"]["text"] = json!(text);
    item["indexedAt"] = json!(at(n).to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    item
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

#[derive(Debug, Clone)]
struct Request {
    path: String,
    query: Vec<(String, String)>,
    auth: String,
    body: Value,
}

struct Fake {
    /// Newest first, as the AppView returns them.
    notifications: Vec<Value>,
    search: Vec<Value>,
    posts: HashMap<String, Value>,
    records: HashMap<String, Value>,
    faults: VecDeque<(&'static str, u16, Value, bool)>,
    requests: Vec<Request>,
    logins: usize,
    /// The access token the PDS currently accepts.
    access: String,
}

#[derive(Clone)]
struct Server {
    url: String,
    fake: Arc<Mutex<Fake>>,
    /// The sources' clock.
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl Server {
    async fn start() -> Server {
        let fake = Arc::new(Mutex::new(Fake {
            notifications: vec![],
            search: vec![],
            posts: HashMap::new(),
            records: HashMap::new(),
            faults: VecDeque::new(),
            requests: vec![],
            logins: 0,
            access: String::new(),
        }));
        let state = fake.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move { handle(&state, uri, headers, body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server {
            url,
            fake,
            now: Arc::new(Mutex::new(at(60))),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Fake) -> T) -> T {
        f(&mut self.fake.lock().unwrap())
    }

    fn requests(&self, nsid: &str) -> Vec<Request> {
        self.with(|fake| {
            fake.requests
                .iter()
                .filter(|r| r.path == format!("/xrpc/{nsid}"))
                .cloned()
                .collect()
        })
    }

    fn source(&self, watch: Vec<Watch>) -> Bluesky {
        let now = self.now.clone();
        Bluesky::new(
            "sky".into(),
            url::Url::parse(&self.url).unwrap(),
            "acme.bsky.social".into(),
            "app-pass".into(),
            watch,
            Duration::from_secs(60),
            reqwest::Client::new(),
        )
        .with_clock(Arc::new(move || *now.lock().unwrap()))
    }
}

fn handle(state: &Mutex<Fake>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut fake = state.lock().unwrap();
    let path = uri.path().to_string();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("Bearer ")
        .to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    fake.requests.push(Request {
        path: path.clone(),
        query: query.clone(),
        auth: auth.clone(),
        body: body.clone(),
    });
    let nsid = path.trim_start_matches("/xrpc/").to_string();
    let json = |status: u16, value: Value| {
        (StatusCode::from_u16(status).unwrap(), value.to_string()).into_response()
    };
    let mut committed_fault = None;
    if let Some(i) = fake.faults.iter().position(|f| f.0 == nsid) {
        let (_, status, body, commit) = fake.faults.remove(i).unwrap();
        if !commit {
            let mut response = json(status, body);
            if status == 429 {
                let reset = at(61).timestamp().to_string();
                response
                    .headers_mut()
                    .insert("ratelimit-remaining", "0".parse().unwrap());
                response
                    .headers_mut()
                    .insert("ratelimit-reset", reset.parse().unwrap());
            }
            return response;
        }
        committed_fault = Some((status, body));
    }
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let session = |fake: &mut Fake, n: usize| {
        fake.access = format!("access-{n}");
        json!({"accessJwt": fake.access, "refreshJwt": format!("refresh-{n}"), "did": "did:plc:acme", "handle": "acme.bsky.social"})
    };
    let response = match nsid.as_str() {
        "com.atproto.server.createSession" => {
            assert_eq!(
                body,
                json!({"identifier": "acme.bsky.social", "password": "app-pass"})
            );
            fake.logins += 1;
            let n = fake.logins * 100;
            json(200, session(&mut fake, n))
        }
        "com.atproto.server.refreshSession" => {
            let n: usize = auth.trim_start_matches("refresh-").parse().unwrap();
            json(200, session(&mut fake, n + 1))
        }
        _ if auth != fake.access => json(
            400,
            json!({"error": "ExpiredToken", "message": "Token has expired"}),
        ),
        "app.bsky.notification.listNotifications" => {
            let reasons: Vec<String> = query
                .iter()
                .filter(|(k, _)| k == "reasons")
                .map(|(_, v)| v.clone())
                .collect();
            assert_eq!(reasons, ["mention", "reply", "quote"]);
            let start: usize = param("cursor").map_or(0, |c| c.parse().unwrap());
            let limit: usize = param("limit").unwrap().parse().unwrap();
            let page: Vec<Value> = fake
                .notifications
                .iter()
                .skip(start)
                .take(limit)
                .cloned()
                .collect();
            let cursor =
                (start + limit < fake.notifications.len()).then(|| (start + limit).to_string());
            json(200, json!({"notifications": page, "cursor": cursor}))
        }
        "app.bsky.feed.searchPosts" => {
            let since = param("since").map(|s| DateTime::parse_from_rfc3339(&s).unwrap());
            let posts: Vec<Value> = fake
                .search
                .iter()
                .filter(|p| {
                    since.is_none_or(|since| {
                        DateTime::parse_from_rfc3339(p["indexedAt"].as_str().unwrap()).unwrap()
                            >= since
                    })
                })
                .cloned()
                .collect();
            json(200, json!({"posts": posts}))
        }
        "app.bsky.feed.getPosts" => {
            let uri = param("uris").unwrap();
            let posts: Vec<Value> = fake.posts.get(&uri).cloned().into_iter().collect();
            json(200, json!({"posts": posts}))
        }
        "com.atproto.repo.getRecord" => {
            let rkey = param("rkey").unwrap();
            match fake.records.get(&rkey) {
                Some(record) => json(
                    200,
                    json!({"uri": format!("at://did:plc:acme/app.bsky.feed.post/{rkey}"), "value": record}),
                ),
                None => json(
                    400,
                    json!({"error": "RecordNotFound", "message": "Could not locate record"}),
                ),
            }
        }
        "com.atproto.repo.createRecord" => {
            let rkey = body["rkey"].as_str().unwrap().to_string();
            if fake.records.contains_key(&rkey) {
                json(
                    400,
                    json!({"error": "InvalidRequest", "message": "Record already exists"}),
                )
            } else {
                fake.records.insert(rkey.clone(), body["record"].clone());
                json(
                    200,
                    json!({"uri": format!("at://did:plc:acme/app.bsky.feed.post/{rkey}"), "cid": "bafyreply"}),
                )
            }
        }
        _ => json(501, json!({"error": "MethodNotImplemented"})),
    };
    match committed_fault {
        Some((status, body)) => json(status, body),
        None => response,
    }
}

fn rules() -> Rules {
    Rules::new(&["acme".to_string()], &[], &[])
}

#[tokio::test]
async fn logs_in_once_and_refreshes_an_expired_session() {
    let server = Server::start().await;
    server.with(|fake| fake.notifications = vec![notification(1, "@acme.bsky.social hi")]);
    let source = server.source(vec![Watch::Mentions]);
    let first = source.fetch(&Cursor::default()).await.unwrap();
    source.fetch(&first.cursor).await.unwrap();
    // The PDS expires the access token: one refresh, no new login.
    server.with(|fake| fake.access = "rotated".into());
    let error_free = source.fetch(&first.cursor).await;
    assert!(error_free.is_ok(), "{error_free:?}");
    source.fetch(&first.cursor).await.unwrap();

    assert_eq!(server.with(|fake| fake.logins), 1, "never logs in per poll");
    let refreshes = server.requests("com.atproto.server.refreshSession");
    assert_eq!(refreshes.len(), 1);
    assert_eq!(
        refreshes[0].auth, "refresh-100",
        "refreshed with the refresh token"
    );
    let auths: Vec<String> = server
        .requests("app.bsky.notification.listNotifications")
        .iter()
        .map(|r| r.auth.clone())
        .collect();
    assert_eq!(
        auths,
        [
            "access-100",
            "access-100",
            "access-100",
            "access-101",
            "access-101"
        ]
    );
}

#[tokio::test]
async fn notifications_page_back_to_the_last_seen_and_are_mentions() {
    let server = Server::start().await;
    server.with(|fake| fake.notifications = vec![notification(1, "@acme.bsky.social first")]);
    let source = server.source(vec![Watch::Mentions]);
    let first = source.fetch(&Cursor::default()).await.unwrap();
    assert_eq!(first.mentions.len(), 1);
    let mention = &first.mentions[0];
    assert!(mention.direct);
    assert_eq!(mention.key.id, "at://did:plc:fan/app.bsky.feed.post/n1");
    assert_eq!(
        mention.author.display(),
        "Coffee Fan (@coffeefan.bsky.social)"
    );
    assert_eq!(
        mention.link.as_deref(),
        Some("https://bsky.app/profile/coffeefan.bsky.social/post/n1")
    );
    assert_eq!(mention.language.as_deref(), Some("en"));

    server.with(|fake| {
        let mut newest_first: Vec<Value> = (2..=250)
            .rev()
            .map(|n| notification(n, &format!("n{n}")))
            .collect();
        let mut like = notification(251, "liked");
        like["reason"] = json!("like");
        let mut own = notification(252, "our own reply");
        own["author"]["did"] = json!("did:plc:acme");
        let mut broken = notification(253, "broken");
        broken.as_object_mut().unwrap().remove("author");
        newest_first.splice(0..0, [broken, own, like]);
        newest_first.push(notification(1, "@acme.bsky.social first"));
        newest_first.push(notification(0, "older than the cursor"));
        fake.notifications = newest_first;
    });
    let second = source.fetch(&first.cursor).await.unwrap();
    let texts: Vec<String> = second.mentions.iter().map(|m| m.text.clone()).collect();
    let mut expected: Vec<String> = (2..=250).map(|n| format!("n{n}")).collect();
    expected.push("@acme.bsky.social first".into());
    expected.rotate_right(1);
    assert_eq!(
        texts, expected,
        "oldest first, back to the last seen (inclusive), likes/own/broken skipped"
    );
    let cursors: Vec<Option<String>> = server
        .requests("app.bsky.notification.listNotifications")
        .iter()
        .map(|r| {
            r.query
                .iter()
                .find(|(k, _)| k == "cursor")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(
        cursors,
        [None, None, Some("100".into()), Some("200".into())]
    );
    let position: Value = serde_json::from_str(second.cursor.position.as_deref().unwrap()).unwrap();
    assert_eq!(
        position["mentions"],
        json!(at(252).to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    );
}

#[tokio::test]
async fn search_overlaps_its_window_and_the_store_drops_repeats() {
    let server = Server::start().await;
    let post = |n: i64, text: &str| {
        let mut post = fixture("post_view.json");
        post["uri"] = json!(format!("at://did:plc:fan/app.bsky.feed.post/s{n}"));
        post["record"]["text"] = json!(text);
        post["indexedAt"] = json!(at(n).to_rfc3339());
        post
    };
    server.with(|fake| fake.search = vec![post(10, "acme one")]);
    let store = Store::temporary(vec![]).unwrap();
    let source = server.source(vec![Watch::parse("search:acme").unwrap()]);
    assert_eq!(poll(&store, &source, &rules()).await, 1);
    server.with(|fake| fake.search = vec![post(12, "acme two"), post(10, "acme one")]);
    assert_eq!(
        poll(&store, &source, &rules()).await,
        1,
        "the repeat is dropped by uri"
    );
    let searches = server.requests("app.bsky.feed.searchPosts");
    let since = searches[1]
        .query
        .iter()
        .find(|(k, _)| k == "since")
        .unwrap()
        .1
        .clone();
    assert_eq!(
        since, "2026-11-21T12:05:00.000Z",
        "five minutes before the newest seen"
    );
    assert!(searches[1]
        .query
        .contains(&("sort".into(), "latest".into())));
    let mention = store.mention(2).unwrap().mention;
    assert!(!mention.direct);
    assert_eq!(
        mention.in_reply_to.as_deref(),
        Some("at://did:plc:other/app.bsky.feed.post/3l6parent"),
        "a reply in a thread carries its parent"
    );
}

#[tokio::test]
async fn a_reply_threads_under_the_post_mentions_its_author_and_posts_once() {
    let server = Server::start().await;
    let post = fixture("post_view.json");
    let uri = post["uri"].as_str().unwrap().to_string();
    server.with(|fake| {
        fake.search = vec![post.clone()];
        fake.posts.insert(uri.clone(), post.clone());
    });
    let source = server.source(vec![Watch::parse("search:acme").unwrap()]);
    let mention = source
        .fetch(&Cursor::default())
        .await
        .unwrap()
        .mentions
        .remove(0);

    // The PDS stores the record but the answer is lost: the retry must find it, not repost.
    server.with(|fake| {
        fake.faults.push_back((
            "com.atproto.repo.createRecord",
            502,
            json!({"error": "UpstreamFailure"}),
            true,
        ))
    });
    let error = source
        .reply(&mention, "Thanks!", "earshot-0000000000000042")
        .await
        .unwrap_err();
    assert!(matches!(error, SourceError::Retry { .. }), "{error:?}");
    *server.now.lock().unwrap() += chrono::Duration::seconds(61);
    let posted = source
        .reply(&mention, "Thanks!", "earshot-0000000000000042")
        .await
        .unwrap();

    let creates = server.requests("com.atproto.repo.createRecord");
    assert_eq!(
        creates.len(),
        1,
        "the retry found the record instead of posting again"
    );
    let rkey =
        earshot::sources::bluesky::record_key("earshot-0000000000000042", mention.created_at);
    assert_eq!(
        posted.link,
        Some(format!(
            "https://bsky.app/profile/acme.bsky.social/post/{rkey}"
        ))
    );
    let body = &creates[0].body;
    assert_eq!(body["repo"], "did:plc:acme");
    assert_eq!(body["collection"], "app.bsky.feed.post");
    assert_eq!(body["rkey"], json!(rkey));
    assert_eq!(creates[0].auth, "access-100");
    let record = &body["record"];
    assert_eq!(record["text"], "@coffeefan.bsky.social Thanks!");
    assert_eq!(
        record["reply"],
        json!({
            "root": {"uri": "at://did:plc:other/app.bsky.feed.post/3l6root", "cid": "bafyroot"},
            "parent": {"uri": uri, "cid": post["cid"]},
        })
    );
    assert_eq!(
        record["facets"][0]["index"],
        json!({"byteStart": 0, "byteEnd": 22})
    );
    assert_eq!(record["facets"][0]["features"][0]["did"], "did:plc:fan");
    assert_eq!(record["createdAt"], "2026-11-21T13:00:00.000Z");
}

#[tokio::test]
async fn a_deleted_post_or_a_too_long_answer_fails_for_good() {
    let server = Server::start().await;
    let post = fixture("post_view.json");
    server.with(|fake| fake.search = vec![post.clone()]);
    let source = server.source(vec![Watch::parse("search:acme").unwrap()]);
    let mention = source
        .fetch(&Cursor::default())
        .await
        .unwrap()
        .mentions
        .remove(0);
    let error = source.reply(&mention, "Thanks!", "k1").await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Permanent(reason) if reason.contains("no longer exists")),
        "{error:?}"
    );
    server.with(|fake| {
        fake.posts
            .insert(post["uri"].as_str().unwrap().into(), post.clone())
    });
    let error = source
        .reply(&mention, &"é".repeat(290), "k2")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, SourceError::Permanent(reason) if reason.contains("313 characters") && reason.contains("allows 300")),
        "{error:?}"
    );
    assert!(server.requests("com.atproto.repo.createRecord").is_empty());
}

#[tokio::test]
async fn rate_limits_pause_and_malformed_pages_are_errors() {
    let server = Server::start().await;
    let source = server.source(vec![Watch::Mentions]);
    server.with(|fake| {
        fake.faults.push_back((
            "app.bsky.notification.listNotifications",
            429,
            json!({"error": "RateLimitExceeded"}),
            false,
        ))
    });
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Retry { after: Some(after), .. } if *after == Duration::from_secs(60)),
        "waits until ratelimit-reset: {error:?}"
    );
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(matches!(error, SourceError::Retry { .. }));
    assert_eq!(
        server
            .requests("app.bsky.notification.listNotifications")
            .len(),
        1,
        "no request while paused"
    );

    let server = Server::start().await;
    let source = server.source(vec![Watch::Mentions]);
    server.with(|fake| {
        fake.faults.push_back((
            "app.bsky.notification.listNotifications",
            200,
            json!({"notifications": "nope"}),
            false,
        ))
    });
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("listNotifications came back malformed"),
        "{error}"
    );
}

#[tokio::test]
async fn a_wrong_app_password_is_a_clear_permanent_error() {
    let server = Server::start().await;
    server.with(|fake| {
        fake.faults.push_back((
            "com.atproto.server.createSession",
            401,
            json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
            false,
        ))
    });
    let source = server.source(vec![Watch::Mentions]);
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Permanent(reason) if reason.contains("Invalid identifier or password") && reason.contains("app_password")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_reply_by_the_brand_below_the_post_is_detected_as_an_answer() {
    let server = Server::start().await;
    let source = server.source(vec![Watch::Mentions]);
    let uri = "at://did:plc:fan/app.bsky.feed.post/3kfan";
    let mention = earshot::domain::Mention {
        key: earshot::domain::MentionKey::new("sky", uri),
        network: earshot::sources::bluesky::TRAITS.network(),
        author: earshot::domain::Author::default(),
        text: "@acme.bsky.social help".into(),
        link: None,
        created_at: Utc::now(),
        matched: vec![],
        language: None,
        in_reply_to: None,
        direct: true,
        review: None,
    };
    let reply = |did: &str, rkey: &str| {
        json!({"$type": "app.bsky.feed.defs#threadViewPost", "post": {
            "uri": format!("at://{did}/app.bsky.feed.post/{rkey}"), "cid": "bafyx",
            "author": {"did": did, "handle": "someone.test"},
            "record": {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2026-11-22T01:00:00Z"}}})
    };
    let thread = |replies: Vec<Value>| {
        json!({"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": {
            "uri": uri, "cid": "bafyfan", "author": {"did": "did:plc:fan", "handle": "fan.test"},
            "record": {"$type": "app.bsky.feed.post", "text": "help", "createdAt": "2026-11-22T00:00:00Z"}},
            "replies": replies}})
    };
    server.with(|fake| {
        fake.faults.push_back((
            "app.bsky.feed.getPostThread",
            200,
            thread(vec![reply("did:plc:bob", "3kbob"), json!({"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x", "notFound": true})]),
            false,
        ))
    });
    assert_eq!(
        source.answered_by_brand(&mention).await.unwrap(),
        None,
        "someone else's reply"
    );
    server.with(|fake| {
        fake.faults.push_back((
            "app.bsky.feed.getPostThread",
            200,
            thread(vec![
                reply("did:plc:bob", "3kbob"),
                reply("did:plc:acme", "3kacme"),
            ]),
            false,
        ))
    });
    assert_eq!(
        source.answered_by_brand(&mention).await.unwrap().as_deref(),
        Some("reply by @acme.bsky.social on Bluesky: https://bsky.app/profile/acme.bsky.social/post/3kacme")
    );
    let asked = server.requests("app.bsky.feed.getPostThread");
    assert_eq!(asked.len(), 2);

    // A post deleted since: the AppView answers 400 with `NotFound`. Nothing left to detect,
    // not an error to warn about every check for ever.
    server.with(|fake| {
        fake.faults.push_back((
            "app.bsky.feed.getPostThread",
            400,
            json!({"error": "NotFound", "message": format!("Post not found: {uri}")}),
            false,
        ))
    });
    assert_eq!(source.answered_by_brand(&mention).await.unwrap(), None);
    // Another 400 is still an error a person must see.
    server.with(|fake| {
        fake.faults.push_back((
            "app.bsky.feed.getPostThread",
            400,
            json!({"error": "InvalidRequest", "message": "uri must be an at-uri"}),
            false,
        ))
    });
    assert!(matches!(
        source.answered_by_brand(&mention).await,
        Err(SourceError::Permanent(_))
    ));
}
