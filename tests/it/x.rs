//! X against a local API v2 look-alike: since_id held across the pages of a pass, rate-limit
//! headers, failures, restarts, the weighted length check, answers at the HTTP level, the user
//! token renewed through the OAuth 2.0 token endpoint with rotating refresh tokens, and answers
//! made on X by the brand's account.

use crate::fake_net;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use earshot::answered::AnswerWatch;
use earshot::app::poll;
use earshot::domain::{
    Action, Cursor, ListFilter, Member, Mention, MentionKey, Refusal, State, Status,
};
use earshot::net::Secret;
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::sources::x::{Refresh, Settings, Watch, REFRESH_REFUSED, X};
use earshot::sources::{Source, SourceError};
use earshot::store::{Store, StoreError};
use fake_net::{Fake, Reply};

const MENTIONS: &str = "/2/users/9/mentions";
const SEARCH: &str = "/2/tweets/search/recent";
const OWN: &str = "/2/users/9/tweets";
const POST: &str = "/2/tweets";
const TOKEN: &str = "/2/oauth2/token";
const ANSWER: &str =
    "@bob Sorry! New lids ship Monday 🙏 https://acme.example/lids/2026/new-and-improved";

fn x(fake: &Fake, watch: &[&str], user_token: Option<&str>) -> X {
    X::new(
        "x".into(),
        Settings {
            bearer_token: Secret::new("app-token"),
            user_token: user_token.map(Secret::new),
            refresh: None,
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
    let all = store.list(ListFilter::All, Member::new("x", "x")).unwrap();
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
    assert_eq!(
        first.param("expansions"),
        Some("author_id,referenced_tweets.id,referenced_tweets.id.author_id")
    );
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
    assert_eq!(store.count().unwrap(), 6, "a post without text is skipped");
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
    let outbox = answer_queued(fake, &store, source).await;
    (store, outbox)
}

/// Polls the first mentions page, then jane claims #1 and answers it: the answer waits in the
/// outbox returned.
async fn answer_queued(fake: &Fake, store: &Store, source: Arc<X>) -> Outbox {
    fake.on("GET", MENTIONS, Reply::fixture("x/mentions_first.json"));
    assert_eq!(poll(store, source.as_ref(), &rules()).await, 2);
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
    Outbox::new(
        store.clone(),
        vec![],
        vec![source],
        Arc::new(tokio::sync::Notify::new()),
    )
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

/// A clock the test moves by hand: token expiry is read from it.
#[derive(Clone)]
struct Clock(Arc<Mutex<DateTime<Utc>>>);

impl Clock {
    fn new() -> Clock {
        Clock(Arc::new(Mutex::new(
            Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap(),
        )))
    }

    fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }

    fn source(&self) -> earshot::net::Clock {
        let now = self.0.clone();
        Arc::new(move || *now.lock().unwrap())
    }
}

/// An X source that renews its user token with `seed`, keeping the rotated one in `store`.
/// `secret`: a confidential client; without it, a public one.
fn refreshing(
    fake: &Fake,
    store: &Store,
    clock: &Clock,
    seed: &str,
    user_token: Option<&str>,
    secret: Option<&str>,
) -> X {
    X::new(
        "x".into(),
        Settings {
            bearer_token: Secret::new("app-token"),
            user_token: user_token.map(Secret::new),
            refresh: Some(Refresh {
                client_id: "client-1".into(),
                client_secret: secret.map(Secret::new),
                token: Secret::new(seed),
                token_url: format!("{}{TOKEN}", fake.url),
            }),
            user_id: "9".into(),
            watch: vec![Watch::Mentions],
            api_url: fake.url.clone(),
        },
        Duration::from_secs(60),
        reqwest::Client::new(),
    )
    .with_credentials(store.credentials("x"))
    .with_clock(clock.source())
}

/// What X's token endpoint returns for a refresh.
fn grant(access: &str, refresh: &str, expires_in: u64) -> Reply {
    Reply::json(
        serde_json::json!({
            "token_type": "bearer",
            "expires_in": expires_in,
            "access_token": access,
            "scope": "tweet.write users.read tweet.read offline.access",
            "refresh_token": refresh,
        })
        .to_string(),
    )
}

/// The two mentions of `x/mentions_first.json`, as the source reads them.
async fn mentions(fake: &Fake, source: &X) -> Vec<Mention> {
    fake.on("GET", MENTIONS, Reply::fixture("x/mentions_first.json"));
    let mentions = source.fetch(&Cursor::default()).await.unwrap().mentions;
    assert_eq!(mentions.len(), 2);
    mentions
}

/// Scripts one answer that X accepts: the check for an earlier try, then the post.
fn accepts_one_answer(fake: &Fake) {
    fake.on("GET", OWN, Reply::fixture("x/empty.json")).on(
        "POST",
        POST,
        Reply::fixture("x/created.json"),
    );
}

fn bearer(request: &fake_net::Request) -> Option<&str> {
    request.header("authorization")
}

#[tokio::test]
async fn the_user_token_is_renewed_before_it_expires_and_the_rotated_refresh_token_is_stored() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let clock = Clock::new();
    let source = refreshing(&fake, &store, &clock, "seed-1", None, None);
    let found = mentions(&fake, &source).await;

    // No access token yet: the first answer renews one first.
    fake.on("POST", TOKEN, grant("access-1", "refresh-1", 7200));
    accepts_one_answer(&fake);
    source.reply(&found[0], ANSWER, "answer-1").await.unwrap();
    let token = &fake.requests_to(TOKEN)[0];
    assert_eq!(token.method, "POST");
    assert_eq!(
        token.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        token.form(),
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", "seed-1"),
            ("client_id", "client-1"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect(),
        "a public client names itself in the body"
    );
    assert_eq!(token.header("authorization"), None);
    assert_eq!(bearer(&fake.requests_to(POST)[0]), Some("Bearer access-1"));
    let stored = store.credentials("x").load().unwrap().unwrap();
    assert_eq!(stored.refresh_token, "refresh-1");
    assert_eq!(stored.access_token.as_deref(), Some("access-1"));
    assert!(
        !format!("{stored:?}").contains("refresh-1") && !format!("{stored:?}").contains("access-1"),
        "tokens never print: {stored:?}"
    );

    // An hour later the token still has an hour to live: no renewal.
    clock.advance(chrono::Duration::hours(1));
    accepts_one_answer(&fake);
    source.reply(&found[1], ANSWER, "answer-2").await.unwrap();
    assert_eq!(fake.requests_to(TOKEN).len(), 1);
    assert_eq!(bearer(&fake.requests_to(POST)[1]), Some("Bearer access-1"));

    // Thirty seconds before it expires, it is renewed with the rotated refresh token.
    clock.advance(chrono::Duration::seconds(3600 - 30));
    fake.on("POST", TOKEN, grant("access-2", "refresh-2", 7200));
    accepts_one_answer(&fake);
    source
        .reply(&found[0], "another answer", "answer-3")
        .await
        .unwrap();
    let tokens = fake.requests_to(TOKEN);
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        tokens[1].form().get("refresh_token").map(String::as_str),
        Some("refresh-1")
    );
    assert_eq!(bearer(&fake.requests_to(POST)[2]), Some("Bearer access-2"));
    assert_eq!(
        store
            .credentials("x")
            .load()
            .unwrap()
            .unwrap()
            .refresh_token,
        "refresh-2"
    );
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn a_refused_user_token_is_renewed_once_and_the_answer_posts_once() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let clock = Clock::new();
    let source = Arc::new(refreshing(
        &fake,
        &store,
        &clock,
        "seed-1",
        Some("stale-token"),
        Some("secret-1"),
    ));
    let outbox = answer_queued(&fake, &store, source).await;
    fake.on("GET", OWN, Reply::fixture("x/empty.json"))
        .on(
            "POST",
            POST,
            Reply::status(401, r#"{"title":"Unauthorized","status":401}"#),
        )
        .on("POST", TOKEN, grant("access-1", "refresh-1", 7200))
        .on("POST", POST, Reply::fixture("x/created.json"));
    assert_eq!(outbox.drain(Utc::now()).await.unwrap().delivered, 1);

    let posts = fake.requests_to(POST);
    assert_eq!(posts.len(), 2, "one refused try, one post");
    assert_eq!(bearer(&posts[0]), Some("Bearer stale-token"));
    assert_eq!(bearer(&posts[1]), Some("Bearer access-1"));
    assert_eq!(posts[0].body, posts[1].body, "the same answer, once more");
    let token = &fake.requests_to(TOKEN)[0];
    assert_eq!(
        token.header("authorization"),
        Some("Basic Y2xpZW50LTE6c2VjcmV0LTE="),
        "a confidential client authenticates as client_id:client_secret"
    );
    let form = token.form();
    assert_eq!(
        form.get("grant_type").map(String::as_str),
        Some("refresh_token")
    );
    assert_eq!(
        form.get("refresh_token").map(String::as_str),
        Some("seed-1")
    );
    assert_eq!(form.get("client_id"), None, "not in the body as well");
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Answered { link: Some(link), .. } if link.ends_with("/1000000000000000999")
    ));
    assert_eq!(
        outbox.drain(Utc::now()).await.unwrap().delivered,
        0,
        "nothing left to post"
    );
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn answers_sent_at_once_renew_the_token_once() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let clock = Clock::new();
    let source = refreshing(&fake, &store, &clock, "seed-1", None, None);
    let found = mentions(&fake, &source).await;
    // X is slow to renew, so the second answer asks while the first renewal is under way.
    fake.on(
        "POST",
        TOKEN,
        grant("access-1", "refresh-1", 7200).after(Duration::from_millis(300)),
    );
    accepts_one_answer(&fake);
    accepts_one_answer(&fake);
    let (first, second) = tokio::join!(
        source.reply(&found[0], ANSWER, "answer-1"),
        source.reply(&found[1], ANSWER, "answer-2"),
    );
    first.unwrap();
    second.unwrap();
    assert_eq!(fake.requests_to(TOKEN).len(), 1, "one renewal for both");
    let posts = fake.requests_to(POST);
    assert_eq!(posts.len(), 2);
    assert!(
        posts
            .iter()
            .all(|post| bearer(post) == Some("Bearer access-1")),
        "{posts:?}"
    );
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn the_rotated_refresh_token_is_used_after_a_restart_until_the_config_names_a_new_one() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new();
    {
        let store = Store::open(dir.path(), vec![]).unwrap();
        let source = refreshing(&fake, &store, &clock, "seed-1", None, None);
        let found = mentions(&fake, &source).await;
        fake.on("POST", TOKEN, grant("access-1", "refresh-1", 7200));
        accepts_one_answer(&fake);
        source.reply(&found[0], ANSWER, "answer-1").await.unwrap();
    }

    // Restarted within the token's two hours: the stored access token is used as it is.
    let store = Store::open(dir.path(), vec![]).unwrap();
    let source = refreshing(&fake, &store, &clock, "seed-1", None, None);
    let found = mentions(&fake, &source).await;
    accepts_one_answer(&fake);
    source.reply(&found[1], ANSWER, "answer-2").await.unwrap();
    assert_eq!(fake.requests_to(TOKEN).len(), 1);
    assert_eq!(bearer(&fake.requests_to(POST)[1]), Some("Bearer access-1"));

    // Past its expiry, after another restart: renewed with the stored refresh token, not the
    // configured seed, which X voided at its first use.
    drop(source);
    drop(store);
    clock.advance(chrono::Duration::hours(3));
    let store = Store::open(dir.path(), vec![]).unwrap();
    let source = refreshing(&fake, &store, &clock, "seed-1", None, None);
    fake.on("POST", TOKEN, grant("access-2", "refresh-2", 7200));
    accepts_one_answer(&fake);
    source.reply(&found[0], ANSWER, "answer-3").await.unwrap();
    let tokens = fake.requests_to(TOKEN);
    assert_eq!(
        tokens[1].form().get("refresh_token").map(String::as_str),
        Some("refresh-1")
    );
    assert_eq!(bearer(&fake.requests_to(POST)[2]), Some("Bearer access-2"));

    // A person created a new refresh token and put it in the config: it wins over the stored.
    drop(source);
    let source = refreshing(&fake, &store, &clock, "seed-2", None, None);
    fake.on("POST", TOKEN, grant("access-3", "refresh-3", 7200));
    accepts_one_answer(&fake);
    source.reply(&found[1], ANSWER, "answer-4").await.unwrap();
    let tokens = fake.requests_to(TOKEN);
    assert_eq!(
        tokens[2].form().get("refresh_token").map(String::as_str),
        Some("seed-2")
    );
    assert_eq!(
        store
            .credentials("x")
            .load()
            .unwrap()
            .unwrap()
            .refresh_token,
        "refresh-3"
    );

    // And the token rotated from the new seed is the one used after the next restart.
    drop(source);
    clock.advance(chrono::Duration::hours(3));
    let source = refreshing(&fake, &store, &clock, "seed-2", None, None);
    fake.on("POST", TOKEN, grant("access-4", "refresh-4", 7200));
    accepts_one_answer(&fake);
    source.reply(&found[0], ANSWER, "answer-5").await.unwrap();
    assert_eq!(
        fake.requests_to(TOKEN)[3]
            .form()
            .get("refresh_token")
            .map(String::as_str),
        Some("refresh-3")
    );
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn a_refused_refresh_token_returns_the_answer_to_the_person() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let clock = Clock::new();
    let source = Arc::new(refreshing(&fake, &store, &clock, "seed-1", None, None));
    let outbox = answer_queued(&fake, &store, source).await;
    fake.on("GET", OWN, Reply::fixture("x/empty.json")).on(
        "POST",
        TOKEN,
        Reply::status(
            400,
            r#"{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}"#,
        )
        .header("content-type", "application/json"),
    );
    outbox.drain(Utc::now()).await.unwrap();
    let last = store.history(1).unwrap().pop().unwrap().summary();
    assert!(last.contains(REFRESH_REFUSED), "{last}");
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Claimed {
            answering: false,
            ..
        }
    ));
    assert!(fake.requests_to(POST).is_empty(), "nothing posted");
    assert_eq!(store.credentials("x").load().unwrap(), None);
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
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
    let all = store.list(ListFilter::All, Member::new("x", "x")).unwrap();
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
        "answered by earshot: answered outside earshot: reply by @acme on X: https://x.com/acme/status/2000000000000000120"
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
        network: earshot::sources::x::TRAITS.network(),
        author: earshot::domain::Author::default(),
        text: "@acme?".into(),
        link: None,
        created_at: Utc::now() - age,
        matched: vec![],
        language: None,
        in_reply_to: in_reply_to.map(str::to_string),
        direct: false,
        review: None,
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

/// A mentions page as X sends it with `expansions=referenced_tweets.id,...`: the brand's own
/// post (by user 9) retweeted and quoted, someone else's post quoted, a plain mention. The
/// texts keep X's escaping of `&`, `<`, `>` and their line breaks.
const SHARES: &str = r#"{"data":[
 {"id":"1000000000000000120","text":"RT @acme: Our new lids are here &amp; they don't leak","author_id":"201","referenced_tweets":[{"type":"retweeted","id":"1000000000000000110"}],"lang":"en"},
 {"id":"1000000000000000119","text":"finally @acme https://t.co/q1","author_id":"202","referenced_tweets":[{"type":"quoted","id":"1000000000000000110"}],"lang":"en"},
 {"id":"1000000000000000118","text":"@acme look what bob says https://t.co/q2","author_id":"203","referenced_tweets":[{"type":"quoted","id":"1000000000000000050"}],"lang":"en"},
 {"id":"1000000000000000117","text":"@acme my Vec&lt;Lid&gt; leaks &amp;amp; drips\nsecond line","author_id":"204","lang":"en"},
 {"id":"1000000000000000116","text":"RT @Acme: an older post X did not include","author_id":"205","referenced_tweets":[{"type":"retweeted","id":"1000000000000000020"}],"lang":"en"}
],"includes":{"users":[{"id":"201","username":"bob","name":"Bob"},{"id":"202","username":"carol","name":"Carol"},{"id":"203","username":"dan","name":"Dan"},{"id":"204","username":"erin","name":"Erin"},{"id":"9","username":"acme","name":"Acme"}],
 "tweets":[{"id":"1000000000000000110","text":"Our new lids are here &amp; they don't leak","author_id":"9"},{"id":"1000000000000000050","text":"acme lids leak","author_id":"201"}]},
"meta":{"newest_id":"1000000000000000120","result_count":4}}"#;

#[tokio::test]
async fn retweets_and_quotes_of_the_brands_own_posts_are_not_mentions() {
    let fake = Fake::start().await;
    let source = x(&fake, &["mentions"], None);
    fake.on("GET", MENTIONS, Reply::json(SHARES));
    let found = source.fetch(&Cursor::default()).await.unwrap().mentions;
    let ids: Vec<&str> = found.iter().map(|m| m.key.id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["1000000000000000118", "1000000000000000117"],
        "a quote of someone else's post and a plain mention are kept"
    );
    assert_eq!(
        found[1].text,
        "@acme my Vec<Lid> leaks &amp; drips\nsecond line"
    );
}
