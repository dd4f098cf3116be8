//! Meta's webhooks (`[webhooks.meta]`, `/meta/webhooks`) served on 127.0.0.1 in front of the
//! real Facebook and Instagram sources, the rules and a temporary store, with the fake Graph API
//! of `meta.rs`'s shapes behind them: the handshake, signatures over the raw body (HMAC-SHA256
//! under the app secret), a feed comment pushed and then polled (one card), an Instagram
//! @mention pushed, answered at `/{ig-user-id}/mentions` once.

use crate::fake_net;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use earshot::app::{poll, Pushes};
use earshot::config::MetaWebhooks;
use earshot::domain::{Action, ListFilter, Member, Status};
use earshot::net::Secret;
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::sources::{facebook, instagram, Source};
use earshot::store::{Effect, Store};
use earshot::webhooks::meta::{self, signature};
use fake_net::{Fake, Reply};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};

const PAGE: &str = "1000";
const USER: &str = "1784";
const APP_SECRET: &str = "app-secret";
const VERIFY_TOKEN: &str = "verify-me";

fn rules() -> Rules {
    Rules::new(&["acme".to_string()], &["vacature".to_string()], &[])
}

fn ago(minutes: i64) -> String {
    (Utc::now() - chrono::Duration::minutes(minutes))
        .format("%Y-%m-%dT%H:%M:%S+0000")
        .to_string()
}

/// A Page, an Instagram account, a store with one chat, and the endpoint in front of them.
struct Rig {
    graph: Fake,
    store: Store,
    facebook: Arc<facebook::Facebook>,
    instagram: Arc<instagram::Instagram>,
    url: String,
    http: reqwest::Client,
    _stop: watch::Sender<bool>,
}

impl Rig {
    async fn start() -> Rig {
        Rig::with_client(reqwest::Client::new()).await
    }

    /// The Instagram source answers through `http`.
    async fn with_client(http: reqwest::Client) -> Rig {
        let graph = Fake::start().await;
        let store = Store::temporary(vec!["shell".into()]).unwrap();
        let facebook = Arc::new(facebook::Facebook::new(
            "facebook".into(),
            facebook::Settings {
                page_id: PAGE.into(),
                token: Secret::new("EAAPage"),
                app_secret: Some(Secret::new(APP_SECRET)),
                watch: facebook::Watch::ALL.to_vec(),
                graph_url: graph.url.clone(),
            },
            Duration::from_secs(120),
            reqwest::Client::new(),
        ));
        let instagram = Arc::new(instagram::Instagram::new(
            "instagram".into(),
            instagram::Settings {
                user_id: USER.into(),
                token: Secret::new("IGQ"),
                app_secret: None,
                watch: instagram::Watch::ALL.to_vec(),
                graph_url: graph.url.clone(),
            },
            Duration::from_secs(120),
            http,
        ));
        let sources: Vec<(Arc<dyn Source>, Rules)> =
            vec![(facebook.clone(), rules()), (instagram.clone(), rules())];
        let pushes = Arc::new(Pushes::new(
            store.clone(),
            &sources,
            Arc::new(Notify::new()),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}{}", listener.local_addr().unwrap(), meta::PATH);
        let settings = MetaWebhooks {
            listen: listener.local_addr().unwrap(),
            verify_token: Secret::new(VERIFY_TOKEN),
            app_secret: Secret::new(APP_SECRET),
        };
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(meta::serve(listener, settings, pushes, stopped));
        Rig {
            graph,
            store,
            facebook,
            instagram,
            url,
            http: reqwest::Client::new(),
            _stop: stop,
        }
    }

    /// POSTs `body` signed with `signature` (`None`: unsigned); the status and the body.
    async fn post(&self, body: &str, signature: Option<String>) -> (u16, String) {
        let mut request = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        )
    }

    /// POSTs `body` signed as Meta signs it.
    async fn push(&self, body: &Value) -> (u16, String) {
        let text = body.to_string();
        let signed = signature::sign(&Secret::new(APP_SECRET), text.as_bytes());
        self.post(&text, Some(signed)).await
    }

    fn ids(&self) -> Vec<String> {
        let all = self
            .store
            .list(ListFilter::All, Member::new("x", "x"))
            .unwrap();
        let mut ids: Vec<String> = all.into_iter().map(|t| t.mention.key.id).collect();
        ids.sort();
        ids
    }

    /// Cards queued for the chat.
    fn cards(&self) -> usize {
        self.store
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|(_, entry)| matches!(entry.effect, Effect::Post { .. }))
            .count()
    }
}

fn feed(value: Value) -> Value {
    json!({"object": "page", "entry": [{
        "id": PAGE,
        "time": Utc::now().timestamp(),
        "changes": [{"field": "feed", "value": value}],
    }]})
}

fn jane_comment(verb: &str) -> Value {
    json!({
        "item": "comment", "verb": verb,
        "comment_id": "1000_1_c1", "post_id": "1000_1", "parent_id": "1000_1",
        "from": {"id": "u1", "name": "Jane Doe"},
        "message": "my lid leaks",
        "created_time": (Utc::now() - chrono::Duration::minutes(2)).timestamp(),
    })
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_only_for_the_verify_token() {
    let rig = Rig::start().await;
    let handshake = |mode: &str, token: &str| {
        rig.http.get(&rig.url).query(&[
            ("hub.mode", mode),
            ("hub.verify_token", token),
            ("hub.challenge", "1158201444"),
        ])
    };
    let ok = handshake("subscribe", VERIFY_TOKEN).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(
        ok.text().await.unwrap(),
        "1158201444",
        "the challenge, as plain text"
    );
    for (mode, token) in [
        ("subscribe", "guess"),
        ("subscribe", ""),
        ("unsubscribe", VERIFY_TOKEN),
    ] {
        let refused = handshake(mode, token).send().await.unwrap();
        assert_eq!(refused.status(), 403, "{mode} {token}");
        assert!(!refused.text().await.unwrap().contains("1158201444"));
    }
    let no_challenge = rig
        .http
        .get(&rig.url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_challenge.status(), 400);
}

#[tokio::test]
async fn forged_and_unsigned_notifications_are_refused_and_change_nothing() {
    let rig = Rig::start().await;
    let body = feed(jane_comment("add")).to_string();
    let (status, text) = rig.post(&body, None).await;
    assert_eq!(
        (status, text.as_str()),
        (403, "the request has no X-Hub-Signature-256 header")
    );
    let by_another = signature::sign(&Secret::new("not-the-app-secret"), body.as_bytes());
    let over_another_body = signature::sign(&Secret::new(APP_SECRET), b"{}");
    for forged in [
        by_another,
        over_another_body,
        "sha256=".into(),
        "sha1=abc".into(),
    ] {
        let (status, text) = rig.post(&body, Some(forged.clone())).await;
        assert_eq!(status, 403, "{forged}");
        assert!(text.contains("does not match"), "{text}");
    }
    assert!(rig.ids().is_empty(), "nothing stored");
    assert_eq!(rig.store.outbox().unwrap().len(), 0);
    assert!(rig.graph.requests().is_empty(), "nothing read on its word");
}

#[tokio::test]
async fn a_signed_body_that_is_no_notification_gets_400_with_the_reason() {
    let rig = Rig::start().await;
    for body in ["not json", r#"{"object":"page"}"#, r#"{"entry":[]}"#] {
        let signed = signature::sign(&Secret::new(APP_SECRET), body.as_bytes());
        let (status, reason) = rig.post(body, Some(signed)).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            reason.starts_with("not a Meta webhook notification") && reason.len() < 300,
            "{reason}"
        );
    }
    // Objects earshot follows no source for are acknowledged, so Meta does not resend them.
    let (status, _) = rig
        .push(&json!({"object": "user", "entry": [{"id": "1", "changes": [{"field": "email"}]}]}))
        .await;
    assert_eq!(status, 200);
    assert!(rig.ids().is_empty());
}

#[tokio::test]
async fn a_pushed_feed_comment_is_one_card_and_the_poll_finds_no_second() {
    let rig = Rig::start().await;
    assert_eq!(rig.push(&feed(jane_comment("add"))).await.0, 200);
    assert_eq!(rig.ids(), ["1000_1_c1"]);
    assert_eq!(rig.cards(), 1);
    assert!(
        rig.graph.requests().is_empty(),
        "the payload had all a card needs"
    );
    let tracked = rig.store.mention(1).unwrap();
    assert_eq!(tracked.mention.author.display(), "Jane Doe");
    assert_eq!(tracked.mention.text, "my lid leaks");
    assert_eq!(tracked.mention.in_reply_to.as_deref(), Some("1000_1"));
    assert_eq!(
        tracked.mention.link.as_deref(),
        Some("https://www.facebook.com/1000_1_c1")
    );

    // Meta sends it again, and sends an edit of it: still one.
    assert_eq!(rig.push(&feed(jane_comment("add"))).await.0, 200);
    assert_eq!(rig.push(&feed(jane_comment("edited"))).await.0, 200);
    // The Page's own comment, a reaction and a removal are no mentions.
    let mut own = jane_comment("add");
    own["comment_id"] = json!("1000_1_c2");
    own["from"] = json!({"id": PAGE, "name": "Acme Coffee"});
    let reaction =
        json!({"item": "reaction", "verb": "add", "post_id": "1000_1", "reaction_type": "like"});
    let removed = json!({"item": "comment", "verb": "remove", "comment_id": "1000_1_c3", "post_id": "1000_1"});
    for value in [own, reaction, removed] {
        assert_eq!(rig.push(&feed(value)).await.0, 200);
    }
    assert_eq!(rig.ids(), ["1000_1_c1"]);

    // The poll reads the same comment later: the dedup key is the same, so no second card.
    let comment = json!({
        "id": "1000_1_c1", "message": "my lid leaks", "created_time": ago(2),
        "from": {"id": "u1", "name": "Jane Doe"},
        "permalink_url": "https://www.facebook.com/1000_1_c1",
    });
    rig.graph
        .on(
            "GET",
            "/1000/posts",
            Reply::json(
                json!({"data": [{"id": "1000_1", "comments": {"data": [comment]}}]}).to_string(),
            ),
        )
        .on("GET", "/1000/visitor_posts", Reply::json(r#"{"data":[]}"#))
        .on("GET", "/1000/tagged", Reply::json(r#"{"data":[]}"#));
    assert_eq!(poll(&rig.store, rig.facebook.as_ref(), &rules()).await, 0);
    assert_eq!(rig.ids(), ["1000_1_c1"]);
    assert_eq!(
        rig.cards(),
        1,
        "one card for a push and a poll of one comment"
    );

    // A photo comment comes without its text: it is read from Graph, then stored.
    rig.graph.on(
        "GET",
        "/1000_1_c4",
        Reply::json(
            json!({"id": "1000_1_c4", "message": "look at this lid", "created_time": ago(1),
                   "from": {"id": "u4", "name": "Ann"}, "parent": {"id": "1000_1"},
                   "permalink_url": "https://www.facebook.com/1000_1_c4"})
            .to_string(),
        ),
    );
    let photo = json!({"item": "comment", "verb": "add", "comment_id": "1000_1_c4", "post_id": "1000_1",
                       "from": {"id": "u4", "name": "Ann"}, "photo": "https://scontent.example/x.jpg"});
    assert_eq!(rig.push(&feed(photo)).await.0, 200);
    assert_eq!(rig.ids(), ["1000_1_c1", "1000_1_c4"]);
    assert_eq!(
        rig.store.mention(2).unwrap().mention.text,
        "look at this lid"
    );
    assert!(rig.graph.unused().is_empty(), "{:?}", rig.graph.unused());
}

fn mentions(value: Value) -> Value {
    json!({"object": "instagram", "entry": [{
        "id": USER,
        "time": Utc::now().timestamp(),
        "changes": [{"field": "mentions", "value": value}],
    }]})
}

#[tokio::test]
async fn an_instagram_mention_is_relayed_and_answered_at_mentions_once() {
    let rig = Rig::start().await;
    let mentioned = json!({"mentioned_comment": {
        "id": "1790", "text": "@acmecoffee my order never came", "timestamp": ago(3), "username": "carl",
        "media": {"id": "960", "username": "dana"},
    }, "id": USER});
    // Graph is down at first: Meta is asked to send it again, and nothing is stored.
    rig.graph.on("GET", "/1784", Reply::status(503, "busy")).on(
        "GET",
        "/1784",
        Reply::json(mentioned.to_string()),
    );
    let push = mentions(json!({"media_id": "960", "comment_id": "1790"}));
    assert_eq!(rig.push(&push).await.0, 503);
    assert!(rig.ids().is_empty());
    assert_eq!(rig.push(&push).await.0, 200);
    assert_eq!(rig.ids(), ["960_1790"]);
    let read = &rig.graph.requests_to("/1784")[1];
    assert_eq!(
        read.param("fields"),
        Some("mentioned_comment.comment_id(1790){id,text,timestamp,username,media{id,username}}"),
        "read by field expansion on the account"
    );
    let tracked = rig.store.mention(1).unwrap();
    assert_eq!(tracked.mention.author.display(), "@carl");
    assert_eq!(
        tracked.mention.link.as_deref(),
        Some("https://www.instagram.com/dana/"),
        "Meta gives no link to the post: the profile of the account whose post it is"
    );
    assert_eq!(tracked.mention.text, "@acmecoffee my order never came");
    assert_eq!(rig.cards(), 1);

    // Over Instagram's length limit: refused before it is queued.
    let jane = Member::new("jane", "jane");
    let store = &rig.store;
    store
        .apply(1, &jane, &Action::Claim, Utc::now())
        .await
        .unwrap();
    let long = Action::Answer {
        text: "x".repeat(2_201),
    };
    assert!(store.apply(1, &jane, &long, Utc::now()).await.is_err());
    assert!(!store
        .outbox()
        .unwrap()
        .iter()
        .any(|(_, entry)| matches!(entry.effect, Effect::Reply { .. })));
    let answer = Action::Answer {
        text: "So sorry Carl, we are sending it again today.".into(),
    };
    store.apply(1, &jane, &answer, Utc::now()).await.unwrap();

    // A first attempt has nothing to look for: posted to /{ig-user-id}/mentions.
    rig.graph
        .on("POST", "/1784/mentions", Reply::json(r#"{"id":"1799"}"#));
    let outbox = Outbox::new(
        store.clone(),
        vec![],
        vec![rig.instagram.clone()],
        Arc::new(Notify::new()),
    );
    let now = Utc::now();
    assert!(outbox.drain(now).await.unwrap().delivered >= 1);
    outbox
        .drain(now + chrono::Duration::minutes(30))
        .await
        .unwrap();
    let posts: Vec<_> = rig
        .graph
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1, "posted once");
    assert_eq!(posts[0].path, "/1784/mentions");
    let form = posts[0].form();
    assert_eq!(form["media_id"], "960");
    assert_eq!(form["comment_id"], "1790");
    assert_eq!(
        form["message"],
        "So sorry Carl, we are sending it again today."
    );
    assert!(rig.graph.requests_to("/1790/replies").is_empty());
    assert_eq!(rig.graph.requests_to("/1784").len(), 2, "no read-back");
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Answered);
    assert_eq!(store.answered_with("instagram", "1799").unwrap(), Some(1));

    // A caption mention: the media is read the same way and answered with media_id alone.
    rig.graph.on(
        "GET",
        "/1784",
        Reply::json(json!({"mentioned_media": {"id": "970", "caption": "Breakfast at @acmecoffee", "timestamp": ago(1), "username": "dana"}, "id": USER}).to_string()),
    );
    assert_eq!(rig.push(&mentions(json!({"media_id": "970"}))).await.0, 200);
    assert_eq!(rig.ids(), ["960_1790", "970"]);
    let caption = rig.store.mention(2).unwrap().mention;
    assert_eq!(caption.in_reply_to, None);
    assert_eq!(
        caption.link.as_deref(),
        Some("https://www.instagram.com/dana/")
    );
}

#[tokio::test]
async fn an_answer_to_a_mention_whose_response_was_lost_is_read_back_not_posted_again() {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let rig = Rig::with_client(http).await;
    rig.graph.on(
        "GET",
        "/1784",
        Reply::json(json!({"mentioned_media": {"id": "970", "caption": "Breakfast at @acmecoffee", "timestamp": ago(1), "username": "dana"}}).to_string()),
    );
    assert_eq!(rig.push(&mentions(json!({"media_id": "970"}))).await.0, 200);
    let jane = Member::new("jane", "jane");
    rig.store
        .apply(1, &jane, &Action::Claim, Utc::now())
        .await
        .unwrap();
    let text = "Thank you Dana, see you tomorrow!";
    let answer = Action::Answer { text: text.into() };
    rig.store
        .apply(1, &jane, &answer, Utc::now())
        .await
        .unwrap();
    let outbox = Outbox::new(
        rig.store.clone(),
        vec![],
        vec![rig.instagram.clone()],
        Arc::new(Notify::new()),
    );
    // The first try goes through, but its response never arrives.
    rig.graph.on(
        "POST",
        "/1784/mentions",
        Reply::json(r#"{"id":"1801"}"#).after(Duration::from_secs(2)),
    );
    let now = Utc::now();
    assert_eq!(outbox.drain(now).await.unwrap().delivered, 0);
    assert_eq!(
        rig.graph.requests_to("/1784").len(),
        1,
        "a first try reads nothing back"
    );
    // The retry reads the comments under the caption back and finds the account's answer.
    let there = json!({"username": "acmecoffee", "mentioned_media": {"comments": {"data": [
        {"id": "1800", "text": text, "username": "dana"},
        {"id": "1801", "text": text, "username": "acmecoffee"},
    ]}}});
    rig.graph.on("GET", "/1784", Reply::json(there.to_string()));
    let later = now + chrono::Duration::minutes(30);
    assert_eq!(outbox.drain(later).await.unwrap().delivered, 1);
    let read_back = &rig.graph.requests_to("/1784")[1];
    assert_eq!(
        read_back.param("fields"),
        Some("username,mentioned_media.media_id(970){comments.limit(50){id,text,username}}"),
        "mentioned_media's documented `comments`"
    );
    let posts = rig
        .graph
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST")
        .count();
    assert_eq!(posts, 1, "posted once");
    assert_eq!(
        rig.store.answered_with("instagram", "1801").unwrap(),
        Some(1)
    );
    assert_eq!(
        rig.store.mention(1).unwrap().state.status(),
        Status::Answered
    );
}

/// A comment mention on someone else's post, claimed and answered by jane: #1.
async fn answered_comment_mention(rig: &Rig, text: &str) -> Outbox {
    rig.graph.on(
        "GET",
        "/1784",
        Reply::json(json!({"mentioned_comment": {"id": "1790", "text": "@acmecoffee my order never came", "timestamp": ago(3), "username": "carl", "media": {"id": "960", "username": "dana"}}}).to_string()),
    );
    let push = mentions(json!({"media_id": "960", "comment_id": "1790"}));
    assert_eq!(rig.push(&push).await.0, 200);
    let jane = Member::new("jane", "jane");
    rig.store
        .apply(1, &jane, &Action::Claim, Utc::now())
        .await
        .unwrap();
    let answer = Action::Answer { text: text.into() };
    rig.store
        .apply(1, &jane, &answer, Utc::now())
        .await
        .unwrap();
    Outbox::new(
        rig.store.clone(),
        vec![],
        vec![rig.instagram.clone()],
        Arc::new(Notify::new()),
    )
}

const GONE: &str = r#"{"error":{"message":"Unsupported get request. Object with ID '1790' does not exist, cannot be loaded due to missing permissions, or does not support this operation","type":"GraphMethodException","code":100,"error_subcode":33}}"#;

#[tokio::test]
async fn a_comment_mention_whose_answer_went_unconfirmed_goes_back_to_the_person_not_posted_twice()
{
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let rig = Rig::with_client(http).await;
    let outbox = answered_comment_mention(&rig, "So sorry Carl, it leaves today.").await;
    rig.graph.on(
        "POST",
        "/1784/mentions",
        Reply::json(r#"{"id":"1799"}"#).after(Duration::from_secs(2)),
    );
    let now = Utc::now();
    assert_eq!(outbox.drain(now).await.unwrap().delivered, 0);
    // The retry: the replies of a comment on someone else's post cannot be read.
    rig.graph
        .on("GET", "/1790/replies", Reply::status(400, GONE))
        .on("POST", "/1784/mentions", Reply::json(r#"{"id":"1800"}"#));
    let later = now + chrono::Duration::minutes(30);
    outbox.drain(later).await.unwrap();
    let posts = rig
        .graph
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST")
        .count();
    assert_eq!(posts, 1, "never posted a second time unseen");
    assert_eq!(rig.graph.requests_to("/1790/replies").len(), 1);
    let tracked = rig.store.mention(1).unwrap();
    assert_ne!(tracked.state.status(), Status::Answered);
    let told = rig.store.history(1).unwrap().pop().unwrap().summary();
    assert!(
        told.contains("never learnt whether it was posted")
            && told.contains("(https://www.instagram.com/dana/)")
            && told.contains("does not post it a second time unseen"),
        "{told}"
    );
    assert!(rig
        .store
        .outbox()
        .unwrap()
        .iter()
        .all(|(_, entry)| !matches!(entry.effect, Effect::Reply { .. })));
}

#[tokio::test]
async fn a_comment_mention_on_the_accounts_own_post_is_read_back_under_the_comment() {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let rig = Rig::with_client(http).await;
    let text = "So sorry Carl, it leaves today.";
    let outbox = answered_comment_mention(&rig, text).await;
    rig.graph.on(
        "POST",
        "/1784/mentions",
        Reply::json(r#"{"id":"1799"}"#).after(Duration::from_secs(2)),
    );
    let now = Utc::now();
    assert_eq!(outbox.drain(now).await.unwrap().delivered, 0);
    let replies = json!({"data": [
        {"id": "1799", "text": text, "timestamp": ago(0), "username": "acmecoffee", "from": {"id": USER, "username": "acmecoffee"}},
    ]});
    rig.graph
        .on("GET", "/1790/replies", Reply::json(replies.to_string()));
    let later = now + chrono::Duration::minutes(30);
    assert_eq!(outbox.drain(later).await.unwrap().delivered, 1);
    assert_eq!(
        rig.store.answered_with("instagram", "1799").unwrap(),
        Some(1)
    );
    assert_eq!(
        rig.store.mention(1).unwrap().state.status(),
        Status::Answered
    );
    assert_eq!(
        rig.graph
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_reply_by_the_account_under_a_mention_closes_it_as_answered() {
    use earshot::answered::AnswerWatch;
    let rig = Rig::start().await;
    rig.graph
        .on(
            "GET",
            "/1784",
            Reply::json(json!({"mentioned_media": {"id": "970", "caption": "Breakfast at @acmecoffee", "timestamp": ago(5), "username": "dana"}}).to_string()),
        )
        .on(
            "GET",
            "/1784",
            Reply::json(json!({"mentioned_comment": {"id": "1790", "text": "@acmecoffee where is my order", "timestamp": ago(3), "username": "carl", "media": {"id": "960", "username": "erin"}}}).to_string()),
        );
    assert_eq!(rig.push(&mentions(json!({"media_id": "970"}))).await.0, 200);
    let push = mentions(json!({"media_id": "960", "comment_id": "1790"}));
    assert_eq!(rig.push(&push).await.0, 200);
    assert_eq!(rig.ids(), ["960_1790", "970"]);

    // Someone answered the caption in the Instagram app; the comment elsewhere cannot be read.
    let under_caption = json!({"username": "acmecoffee", "mentioned_media": {"comments": {"data": [
        {"id": "1802", "text": "me too!", "username": "finn"},
        {"id": "1803", "text": "Thank you Dana!", "username": "acmecoffee"},
    ]}}});
    rig.graph
        .on("GET", "/1784", Reply::json(under_caption.to_string()))
        .on("GET", "/1790/replies", Reply::status(400, GONE));
    let watch = AnswerWatch::new(rig.store.clone(), vec![rig.instagram.clone()]);
    assert_eq!(watch.tick(Utc::now()).await.unwrap(), 1);
    let caption = rig.store.mention(1).unwrap();
    assert_eq!(caption.mention.key.id, "970");
    assert_eq!(caption.state.status(), Status::Answered);
    let note = rig.store.history(1).unwrap().pop().unwrap().summary();
    assert!(
        note.ends_with("reply by @acmecoffee on Instagram: https://www.instagram.com/dana/"),
        "{note}"
    );
    assert_eq!(
        rig.store.mention(2).unwrap().state.status(),
        Status::Open,
        "cannot tell: left as it is"
    );
    assert!(rig.graph.unused().is_empty(), "{:?}", rig.graph.unused());
}

#[tokio::test]
async fn a_webhook_failure_stays_in_the_health_report_until_a_later_notification_is_read() {
    use earshot::domain::health;
    let rig = Rig::start().await;
    let problems = |store: &Store| -> Vec<String> {
        store
            .all_source_health()
            .unwrap()
            .iter()
            .filter_map(|(name, health)| health.problem(name, Utc::now()))
            .collect()
    };
    // A change earshot cannot read: acknowledged (sending it again cannot help) and reported.
    let bad = mentions(json!({"media_id": "not-an-id"}));
    assert_eq!(rig.push(&bad).await.0, 200);
    let reported = problems(&rig.store);
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(
        reported[0].starts_with("instagram's webhook is failing (1 notification(s) in a row")
            && reported[0]
                .contains("`not-an-id` in an Instagram change's `media_id` is not a Graph id"),
        "{reported:?}"
    );
    // The next poll works: it does not hide the webhook's failure.
    rig.graph
        .on("GET", "/1784/media", Reply::json(r#"{"data":[]}"#))
        .on("GET", "/1784/tags", Reply::json(r#"{"data":[]}"#));
    poll(&rig.store, rig.instagram.as_ref(), &rules()).await;
    assert_eq!(rig.store.source_health("instagram").unwrap().failures, 0);
    assert_eq!(problems(&rig.store), reported);
    // A later notification that is read resolves it.
    rig.graph.on(
        "GET",
        "/1784",
        Reply::json(json!({"mentioned_media": {"id": "970", "caption": "Breakfast at @acmecoffee", "timestamp": ago(1), "username": "dana"}}).to_string()),
    );
    assert_eq!(rig.push(&mentions(json!({"media_id": "970"}))).await.0, 200);
    assert!(problems(&rig.store).is_empty());
    assert_eq!(
        rig.store
            .source_health(&health::pushed("instagram"))
            .unwrap()
            .failures,
        0
    );
}

#[tokio::test]
async fn a_pushed_instagram_comment_and_its_poll_are_one_card() {
    let rig = Rig::start().await;
    rig.graph.on(
        "GET",
        "/900",
        Reply::json(r#"{"permalink":"https://www.instagram.com/p/ABC/","id":"900"}"#),
    );
    let push = json!({"object": "instagram", "entry": [{"id": USER, "time": Utc::now().timestamp(), "changes": [{
        "field": "comments",
        "value": {"id": "501", "text": "does it come in green?", "from": {"id": "u1", "username": "jane"},
                  "media": {"id": "900", "media_product_type": "FEED"}},
    }]}]});
    assert_eq!(rig.push(&push).await.0, 200);
    assert_eq!(rig.ids(), ["501"]);
    let tracked = rig.store.mention(1).unwrap();
    assert_eq!(
        tracked.mention.link.as_deref(),
        Some("https://www.instagram.com/p/ABC/")
    );
    assert_eq!(tracked.mention.in_reply_to.as_deref(), Some("900"));

    let media = json!({"data": [{"id": "900", "permalink": "https://www.instagram.com/p/ABC/", "comments": {"data": [
        {"id": "501", "text": "does it come in green?", "timestamp": ago(2), "username": "jane", "from": {"id": "u1", "username": "jane"}},
    ]}}]});
    rig.graph
        .on("GET", "/1784/media", Reply::json(media.to_string()))
        .on("GET", "/1784/tags", Reply::json(r#"{"data":[]}"#));
    assert_eq!(poll(&rig.store, rig.instagram.as_ref(), &rules()).await, 0);
    assert_eq!(rig.cards(), 1);
}

/// The real binary: `[webhooks.meta]` in the config serves the endpoint beside the polls, and a
/// pushed comment reaches the chat as a card.
#[tokio::test(flavor = "multi_thread")]
async fn earshot_run_serves_the_webhooks_it_is_configured_with() {
    use std::io::BufRead;
    let graph = Fake::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let setup = crate::common::Setup::new(&format!(
        "[[sources]]\nkind = \"facebook\"\npage_id = \"{PAGE}\"\ntoken = \"EAAPage\"\nwatch = [\"comments\"]\nevery = \"1h\"\ngraph_url = \"{}\"\n\n[webhooks.meta]\nlisten = \"127.0.0.1:{port}\"\nverify_token = \"{VERIFY_TOKEN}\"\napp_secret = \"{APP_SECRET}\"\n",
        graph.url
    ));
    // The first poll finds nothing.
    graph.on("GET", "/1000/posts", Reply::json(r#"{"data":[]}"#));
    let mut child = setup.command(&["run"]).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let url = format!("http://127.0.0.1:{port}{}", meta::PATH);
    let http = reqwest::Client::new();
    let mut verified = false;
    for _ in 0..200 {
        let handshake = http
            .get(&url)
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", VERIFY_TOKEN),
                ("hub.challenge", "42"),
            ])
            .send()
            .await;
        if let Ok(response) = handshake {
            verified = response.status() == 200 && response.text().await.unwrap() == "42";
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = feed(jane_comment("add")).to_string();
    let signed = signature::sign(&Secret::new(APP_SECRET), body.as_bytes());
    let pushed = http
        .post(&url)
        .header("x-hub-signature-256", signed)
        .body(body)
        .send()
        .await
        .map(|response| response.status().as_u16());
    let mut card = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while card.is_none() && std::time::Instant::now() < deadline {
        match seen.recv_timeout(Duration::from_millis(200)) {
            Ok(line) if line.starts_with("┌─ #1") => card = Some(line),
            _ => {}
        }
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(verified, "the handshake: {stderr}");
    assert_eq!(pushed.ok(), Some(200), "{stderr}");
    assert!(card.is_some(), "the pushed comment is card #1: {stderr}");
    assert!(stderr.contains("serving Meta's webhooks"), "{stderr}");
}
