//! X against a local API v2 look-alike: since_id held across the pages of a pass, rate-limit
//! headers, failures, restarts, the weighted length check, answers at the HTTP level, and
//! answers made on X by the brand's account.

mod fake_net;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use earshot::answered::AnswerWatch;
use earshot::app::poll;
use earshot::domain::{
    Action, Cursor, ListFilter, Member, Mention, MentionKey, Refusal, State, Status,
};
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::sources::http::Secret;
use earshot::sources::x::{Settings, Watch, X};
use earshot::sources::{Source, SourceError};
use earshot::store::{Store, StoreError};
use fake_net::{Fake, Reply};

const MENTIONS: &str = "/2/users/9/mentions";
const SEARCH: &str = "/2/tweets/search/recent";
const OWN: &str = "/2/users/9/tweets";
const POST: &str = "/2/tweets";
const ANSWER: &str =
    "@bob Sorry! New lids ship Monday 🙏 https://acme.example/lids/2026/new-and-improved";

fn x(fake: &Fake, watch: &[&str], user_token: Option<&str>) -> X {
    X::new(
        "x".into(),
        Settings {
            bearer_token: Secret::new("app-token"),
            user_token: user_token.map(Secret::new),
            user_id: "9".into(),
            watch: watch.iter().map(|w| Watch::parse(w).unwrap()).collect(),
            api_url: fake.url.clone(),
        },
        Duration::from_secs(60),
        reqwest::Client::new(),
    )
}

fn rules() -> Rules {
    Rules::new(&["acme".to_string()], &[], &[])
}

fn ids(store: &Store) -> Vec<String> {
    let all = store.list(ListFilter::All, &Member::new("x", "x")).unwrap();
    all.into_iter().map(|t| t.mention.key.id).collect()
}

const FIRST: [&str; 3] = [
    "1000000000000000100",
    "1000000000000000090",
    "1000000000000000200",
];

#[tokio::test]
async fn since_id_stays_fixed_across_the_pages_of_a_pass_and_moves_after_the_last() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let source = x(&fake, &["mentions", "search:acme"], None);

    fake.on("GET", MENTIONS, Reply::fixture("x/mentions_first.json"))
        .on("GET", SEARCH, Reply::fixture("x/search_first.json"));
    assert_eq!(poll(&store, &source, &rules()).await, 3);
    assert_eq!(
        ids(&store),
        FIRST,
        "the brand's own post and the id-less one are not relayed"
    );
    let first = &fake.requests_to(MENTIONS)[0];
    assert_eq!(first.param("since_id"), None);
    assert_eq!(first.param("max_results"), Some("100"));
    assert_eq!(first.param("expansions"), Some("author_id"));
    assert_eq!(first.header("authorization"), Some("Bearer app-token"));
    assert_eq!(
        fake.requests_to(SEARCH)[0].param("query"),
        Some("acme -is:retweet")
    );
    let bob = store.mention(1).unwrap().mention;
    assert_eq!(bob.text, "@acme your lids leak & spill");
    assert_eq!(bob.author.display(), "Bob (@bob)");
    assert_eq!(
        bob.link.as_deref(),
        Some("https://x.com/bob/status/1000000000000000100")
    );
    let reply = store.mention(2).unwrap().mention;
    assert_eq!(
        reply.in_reply_to.as_deref(),
        Some("1000000000000000080"),
        "linked to the brand's answer"
    );

    fake.on("GET", MENTIONS, Reply::fixture("x/mentions_page1.json"))
        .on("GET", MENTIONS, Reply::fixture("x/mentions_page2.json"))
        .on("GET", SEARCH, Reply::fixture("x/empty.json"));
    assert_eq!(poll(&store, &source, &rules()).await, 3);
    let pass = &fake.requests_to(MENTIONS)[1..];
    assert_eq!(pass.len(), 2);
    assert!(pass
        .iter()
        .all(|r| r.param("since_id") == Some("1000000000000000100")));
    assert_eq!(pass[0].param("pagination_token"), None);
    assert_eq!(pass[1].param("pagination_token"), Some("page2token"));
    assert_eq!(
        fake.requests_to(SEARCH)[1].param("since_id"),
        Some("1000000000000000200")
    );
    let position = store.cursor("x").unwrap().position.unwrap();
    assert!(
        position.contains("\"mentions\":\"1000000000000000105\""),
        "{position}"
    );

    let gone = store.mention(5).unwrap().mention;
    assert_eq!(gone.key.id, "1000000000000000104");
    assert_eq!(
        gone.link.as_deref(),
        Some("https://x.com/i/web/status/1000000000000000104"),
        "an author X could not find"
    );
    let undated = store.mention(6).unwrap().mention;
    assert_eq!(
        undated.created_at.timestamp(),
        1527253553,
        "the time a snowflake id holds (2018-05-25)"
    );
    assert_eq!(store.count(), 6, "a post without text is skipped");
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn restart_after_a_failed_page_has_no_gap_and_no_duplicate() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let watch = ["mentions", "search:acme"];
    {
        let store = Store::open(dir.path(), vec![]).unwrap();
        let source = x(&fake, &watch, None);
        fake.on("GET", MENTIONS, Reply::fixture("x/mentions_first.json"))
            .on("GET", SEARCH, Reply::fixture("x/search_first.json"));
        assert_eq!(poll(&store, &source, &rules()).await, 3);
        fake.on("GET", MENTIONS, Reply::fixture("x/mentions_page1.json"))
            .on("GET", MENTIONS, Reply::status(503, "over capacity"));
        assert_eq!(
            poll(&store, &source, &rules()).await,
            0,
            "half a pass stores nothing"
        );
    }
    let store = Store::open(dir.path(), vec![]).unwrap();
    let source = x(&fake, &watch, None);
    fake.on("GET", MENTIONS, Reply::fixture("x/mentions_page1.json"))
        .on("GET", MENTIONS, Reply::fixture("x/mentions_page2.json"))
        .on("GET", SEARCH, Reply::fixture("x/empty.json"));
    assert_eq!(poll(&store, &source, &rules()).await, 3);
    let mut all = ids(&store);
    assert_eq!(all.len(), 6);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6, "no duplicates");
    let after_restart = fake.requests_to(MENTIONS);
    assert_eq!(
        after_restart[3].param("since_id"),
        Some("1000000000000000100")
    );
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn rate_limit_headers_429_and_malformed_bodies() {
    let fake = Fake::start().await;
    let source = x(&fake, &["mentions"], None);
    let cursor = Cursor::default();
    let in_secs = |secs: i64| Utc::now().timestamp() + secs;

    fake.on(
        "GET",
        MENTIONS,
        Reply::status(429, r#"{"title":"Too Many Requests"}"#)
            .header("x-rate-limit-reset", in_secs(30)),
    );
    match source.fetch(&cursor).await {
        Err(SourceError::Retry {
            after: Some(after), ..
        }) => {
            assert!(
                after > Duration::from_secs(25) && after <= Duration::from_secs(30),
                "{after:?}"
            )
        }
        other => panic!("429 waits for the reset: {other:?}"),
    }
    fake.on("GET", MENTIONS, Reply::status(500, ""))
        .on("GET", MENTIONS, Reply::json("not json"));
    assert!(matches!(
        source.fetch(&cursor).await,
        Err(SourceError::Retry { .. })
    ));
    let error = source.fetch(&cursor).await.unwrap_err();
    assert!(error.to_string().contains("cannot read"), "{error}");

    fake.on(
        "GET",
        MENTIONS,
        Reply::fixture("x/mentions_first.json")
            .header("x-rate-limit-limit", 180)
            .header("x-rate-limit-remaining", 1)
            .header("x-rate-limit-reset", in_secs(120)),
    );
    assert_eq!(source.fetch(&cursor).await.unwrap().mentions.len(), 2);
    let before = fake.requests().len();
    assert!(matches!(
        source.fetch(&cursor).await,
        Err(SourceError::Retry { after: Some(_), .. })
    ));
    assert_eq!(
        fake.requests().len(),
        before,
        "no request while the window is spent"
    );
}

async fn answering(fake: &Fake, user_token: Option<&str>) -> (Store, Outbox) {
    let store = Store::temporary(vec![]).unwrap();
    let source = Arc::new(x(fake, &["mentions"], user_token));
    fake.on("GET", MENTIONS, Reply::fixture("x/mentions_first.json"));
    assert_eq!(poll(&store, source.as_ref(), &rules()).await, 2);
    let jane = Member::new("jane", "jane");
    store
        .apply(1, &jane, &Action::Claim, Utc::now())
        .await
        .unwrap();
    store
        .apply(
            1,
            &jane,
            &Action::Answer {
                text: ANSWER.into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    let outbox = Outbox::new(
        store.clone(),
        vec![],
        vec![source],
        Arc::new(tokio::sync::Notify::new()),
    );
    (store, outbox)
}

#[tokio::test]
async fn answer_posts_a_reply_with_the_user_token() {
    let fake = Fake::start().await;
    let (store, outbox) = answering(&fake, Some("user-token")).await;
    fake.on("GET", OWN, Reply::fixture("x/empty.json")).on(
        "POST",
        POST,
        Reply::fixture("x/created.json").header("x-rate-limit-remaining", 99),
    );
    assert_eq!(outbox.drain(Utc::now()).await.unwrap().delivered, 1);

    let check = &fake.requests_to(OWN)[0];
    assert_eq!(check.header("authorization"), Some("Bearer app-token"));
    let post = fake.requests_to(POST).pop().unwrap();
    assert_eq!(post.method, "POST");
    assert_eq!(post.header("authorization"), Some("Bearer user-token"));
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(
        post.json(),
        serde_json::json!({"text": ANSWER, "reply": {"in_reply_to_tweet_id": "1000000000000000100"}})
    );
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Answered { link: Some(link), .. } if link == "https://x.com/i/web/status/1000000000000000999"
    ));
}

#[tokio::test]
async fn a_deleted_parent_or_a_missing_user_token_returns_the_answer_to_the_person() {
    let fake = Fake::start().await;
    let (store, outbox) = answering(&fake, Some("user-token")).await;
    fake.on("GET", OWN, Reply::fixture("x/empty.json")).on(
        "POST",
        POST,
        Reply::status(403, "").header("content-type", "application/json"),
    );
    // An empty 403 body still fails for good; then the real detail from a deleted parent.
    outbox.drain(Utc::now()).await.unwrap();
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Claimed {
            answering: false,
            ..
        }
    ));
    let jane = Member::new("jane", "jane");
    store
        .apply(
            1,
            &jane,
            &Action::Answer {
                text: ANSWER.into(),
            },
            Utc::now(),
        )
        .await
        .unwrap();
    fake.on("GET", OWN, Reply::fixture("x/empty.json")).on(
        "POST",
        POST,
        Reply::status(403, fake_net::fixture("x/deleted_parent.json")),
    );
    outbox.drain(Utc::now()).await.unwrap();
    let last = store.history(1).unwrap().pop().unwrap().summary();
    assert!(last.contains("deleted or not visible"), "{last}");
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Claimed {
            answering: false,
            ..
        }
    ));

    let fake = Fake::start().await;
    let (store, outbox) = answering(&fake, None).await;
    outbox.drain(Utc::now()).await.unwrap();
    let last = store.history(1).unwrap().pop().unwrap().summary();
    assert!(last.contains("user_token"), "{last}");
    assert!(fake.requests_to(POST).is_empty());
}

#[tokio::test]
async fn a_retry_after_a_crash_finds_the_posted_reply_instead_of_posting_twice() {
    let fake = Fake::start().await;
    let (store, outbox) = answering(&fake, Some("user-token")).await;
    fake.on("GET", OWN, Reply::fixture("x/own_with_answer.json"));
    assert_eq!(outbox.drain(Utc::now()).await.unwrap().delivered, 1);
    assert!(fake.requests_to(POST).is_empty(), "no second post");
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Answered { link: Some(link), .. } if link.ends_with("/1000000000000000999")
    ));
}

#[tokio::test]
async fn answers_are_measured_the_way_x_counts() {
    let fake = Fake::start().await;
    let (store, _) = answering(&fake, Some("user-token")).await;
    let jane = Member::new("jane", "jane");
    let too_long = "語".repeat(141);
    match store
        .apply(2, &jane, &Action::Answer { text: too_long }, Utc::now())
        .await
    {
        Err(StoreError::Refused(
            refusal @ Refusal::TooLong {
                len: 282, max: 280, ..
            },
        )) => {
            assert!(
                refusal.to_string().contains("X takes at most 280"),
                "{refusal}"
            )
        }
        other => panic!("141 CJK characters weigh 282: {other:?}"),
    }
    let fits = format!(
        "{} https://acme.example/{}",
        "a".repeat(256),
        "long-path/".repeat(30)
    );
    assert!(
        store
            .apply(2, &jane, &Action::Answer { text: fits }, Utc::now())
            .await
            .is_ok(),
        "a link weighs 23"
    );
}

const ROOT: &str = "2000000000000000100";
const REPLY: &str = "2000000000000000090";
const OLD: &str = "2000000000000000010";
const LOOKUP: &str = "/2/tweets/2000000000000000090";

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Mentions as X sends them: a post starting its own conversation, a reply deep in another, and
/// one older than recent search reaches. Times are relative to now, for the 7-day window.
fn recent_mentions() -> Reply {
    let now = Utc::now();
    let hours = |h: i64| stamp(now - chrono::Duration::hours(h));
    Reply::json(
        serde_json::json!({
            "data": [
                {"id": ROOT, "text": "@acme my lid cracked", "author_id": "201",
                 "created_at": hours(1), "conversation_id": ROOT, "lang": "en"},
                {"id": REPLY, "text": "@acme is the Monday shipment late?", "author_id": "202",
                 "created_at": hours(2), "conversation_id": "2000000000000000040",
                 "in_reply_to_user_id": "204",
                 "referenced_tweets": [{"type": "replied_to", "id": "2000000000000000050"}]},
                {"id": OLD, "text": "@acme hello?", "author_id": "203",
                 "created_at": hours(8 * 24), "conversation_id": OLD}
            ],
            "includes": {"users": [
                {"id": "201", "username": "bob", "name": "Bob"},
                {"id": "202", "username": "carol", "name": "Carol"},
                {"id": "203", "username": "dan", "name": "Dan"}
            ]},
            "meta": {"newest_id": ROOT, "oldest_id": OLD, "result_count": 3}
        })
        .to_string(),
    )
}

fn number_of(store: &Store, id: &str) -> u64 {
    let all = store.list(ListFilter::All, &Member::new("x", "x")).unwrap();
    all.into_iter()
        .find(|t| t.mention.key.id == id)
        .unwrap()
        .number
}

#[tokio::test]
async fn a_reply_by_the_brand_in_the_conversation_closes_the_mention_it_answers() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let source = Arc::new(x(&fake, &["mentions"], None));
    fake.on("GET", MENTIONS, recent_mentions());
    assert_eq!(poll(&store, source.as_ref(), &rules()).await, 3);
    let (root, reply, old) = (
        number_of(&store, ROOT),
        number_of(&store, REPLY),
        number_of(&store, OLD),
    );
    let watch = AnswerWatch::new(store.clone(), vec![source.clone()]);

    // Search results in the order the mentions are checked (by number): below the root post
    // only acme_ (another account) and the brand answering acme_; below the reply, the brand's
    // answer to it. The reply's conversation is looked up first.
    let mut searches = [
        (root, "x/replies_others.json"),
        (reply, "x/replies_answered.json"),
    ];
    searches.sort();
    for (_, fixture) in &searches {
        fake.on("GET", SEARCH, Reply::fixture(fixture));
    }
    fake.on("GET", LOOKUP, Reply::fixture("x/conversation.json"));
    assert_eq!(watch.tick(Utc::now()).await.unwrap(), 1);
    assert_eq!(
        store.mention(reply).unwrap().state.status(),
        Status::Answered
    );
    assert_eq!(
        store.history(reply).unwrap().pop().unwrap().summary(),
        "answered by @earshot: answered outside earshot: reply by @acme on X: https://x.com/acme/status/2000000000000000120"
    );
    assert_eq!(store.mention(root).unwrap().state.status(), Status::Open);
    assert_eq!(
        store.mention(old).unwrap().state.status(),
        Status::Open,
        "too old for recent search: not checked, not closed"
    );

    let lookup = fake.requests_to(LOOKUP);
    assert_eq!(lookup.len(), 1);
    assert_eq!(lookup[0].param("tweet.fields"), Some("conversation_id"));
    assert_eq!(lookup[0].header("authorization"), Some("Bearer app-token"));
    let asked = fake.requests_to(SEARCH);
    assert_eq!(asked.len(), 2, "nothing asked for the old mention");
    let queries: Vec<&str> = asked.iter().map(|r| r.param("query").unwrap()).collect();
    let mut expected = [
        (root, "conversation_id:2000000000000000100 from:9 is:reply"),
        (reply, "conversation_id:2000000000000000040 from:9 is:reply"),
    ];
    expected.sort();
    assert_eq!(
        queries,
        expected.iter().map(|(_, q)| *q).collect::<Vec<_>>()
    );
    for request in &asked {
        assert_eq!(request.header("authorization"), Some("Bearer app-token"));
        assert_eq!(request.param("max_results"), Some("100"));
        assert_eq!(
            request.param("tweet.fields"),
            Some("in_reply_to_user_id,referenced_tweets,author_id,created_at")
        );
        assert_eq!(request.param("expansions"), Some("author_id"));
    }

    // Only the root is still owed and checked; nobody answered it since.
    fake.on("GET", SEARCH, Reply::fixture("x/empty.json"));
    assert_eq!(watch.tick(Utc::now()).await.unwrap(), 0);
    assert_eq!(fake.requests_to(SEARCH).len(), 3);
    assert_eq!(fake.requests_to(LOOKUP).len(), 1);
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

fn post(id: &str, in_reply_to: Option<&str>, age: chrono::Duration) -> Mention {
    Mention {
        key: MentionKey::new("x", id),
        network: earshot::domain::Network::X,
        author: earshot::domain::Author::default(),
        text: "@acme?".into(),
        link: None,
        created_at: Utc::now() - age,
        matched: vec![],
        language: None,
        in_reply_to: in_reply_to.map(str::to_string),
        direct: false,
    }
}

#[tokio::test]
async fn answered_detection_survives_gone_posts_bad_bodies_and_spent_windows() {
    let fake = Fake::start().await;
    let source = x(&fake, &["mentions"], None);
    let hour = chrono::Duration::hours(1);
    let reply = post(REPLY, Some("2000000000000000050"), hour);
    let root = post(ROOT, None, hour);

    // The reply was deleted: X says so inside a 200; nothing is searched.
    fake.on("GET", LOOKUP, Reply::fixture("x/post_gone.json"));
    assert_eq!(source.answered_by_brand(&reply).await.unwrap(), None);
    fake.on("GET", LOOKUP, Reply::status(404, ""));
    assert_eq!(source.answered_by_brand(&reply).await.unwrap(), None);
    assert!(fake.requests_to(SEARCH).is_empty());
    fake.on(
        "GET",
        LOOKUP,
        Reply::json(r#"{"data": {"id": "2000000000000000090"}}"#),
    );
    let error = source.answered_by_brand(&reply).await.unwrap_err();
    assert!(error.to_string().contains("conversation_id"), "{error}");
    fake.on("GET", LOOKUP, Reply::json("{}"));
    assert!(source.answered_by_brand(&reply).await.is_err());

    // Its conversation, once known, is not looked up again.
    fake.on("GET", LOOKUP, Reply::fixture("x/conversation.json"))
        .on("GET", SEARCH, Reply::fixture("x/empty.json"))
        .on("GET", SEARCH, Reply::fixture("x/replies_answered.json"));
    assert_eq!(source.answered_by_brand(&reply).await.unwrap(), None);
    assert!(source.answered_by_brand(&reply).await.unwrap().is_some());
    assert_eq!(fake.requests_to(LOOKUP).len(), 5);

    fake.on("GET", SEARCH, Reply::json("not json"))
        .on("GET", SEARCH, Reply::json(r#"{"data": "none"}"#))
        .on(
            "GET",
            SEARCH,
            Reply::json(r#"{"data": [{"id": 5, "author_id": 9, "referenced_tweets": "x"}, 7]}"#),
        )
        .on("GET", SEARCH, Reply::status(503, "over capacity"));
    let error = source.answered_by_brand(&root).await.unwrap_err();
    assert!(error.to_string().contains("cannot read"), "{error}");
    assert!(source.answered_by_brand(&root).await.is_err());
    assert_eq!(
        source.answered_by_brand(&root).await.unwrap(),
        None,
        "posts of the wrong shape are no reply"
    );
    assert!(matches!(
        source.answered_by_brand(&root).await,
        Err(SourceError::Retry { .. })
    ));

    let before = fake.requests().len();
    let old = post(OLD, None, chrono::Duration::days(8));
    assert_eq!(source.answered_by_brand(&old).await.unwrap(), None);
    let odd = post("1/../../2/tweets", None, hour);
    assert!(matches!(
        source.answered_by_brand(&odd).await,
        Err(SourceError::Permanent(_))
    ));
    assert_eq!(fake.requests().len(), before, "nothing asked for either");

    // The search window is spent: checks wait for its reset without asking.
    let in_secs = |secs: i64| Utc::now().timestamp() + secs;
    fake.on(
        "GET",
        SEARCH,
        Reply::fixture("x/empty.json")
            .header("x-rate-limit-remaining", 1)
            .header("x-rate-limit-reset", in_secs(600)),
    );
    assert_eq!(source.answered_by_brand(&root).await.unwrap(), None);
    let before = fake.requests().len();
    match source.answered_by_brand(&root).await {
        Err(SourceError::Retry {
            after: Some(after), ..
        }) => {
            assert!(after > Duration::from_secs(590), "{after:?}")
        }
        other => panic!("a spent window waits for its reset: {other:?}"),
    }
    assert_eq!(fake.requests().len(), before);
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}
