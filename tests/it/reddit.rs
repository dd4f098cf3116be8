//! Reddit against a local OAuth + API look-alike: login caching, listings, paging to the seen
//! fullname, rate-limit headers, failures, restarts, answers checked at the HTTP level, and
//! answers made on Reddit by the brand's account.

use crate::fake_net;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use earshot::answered::AnswerWatch;
use earshot::app::poll;
use earshot::domain::{Action, Cursor, ListFilter, Member, Mention, MentionKey, State, Status};
use earshot::net::Secret;
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::sources::reddit::{Reddit, Settings, Watch};
use earshot::sources::{Source, SourceError};
use earshot::store::Store;
use fake_net::{Fake, Reply};

const TOKEN: &str = "/api/v1/access_token";
const SEARCH: &str = "/search";
const NEW: &str = "/r/acmecoffee/new";
const COMMENTS: &str = "/r/acmecoffee/comments";
const INBOX: &str = "/message/inbox";
const AGENT: &str = "linux:earshot-test:0.1 (by /u/acmehq)";

fn reddit(fake: &Fake, watch: &[&str]) -> Reddit {
    Reddit::new(
        "reddit".into(),
        Settings {
            client_id: "cid".into(),
            client_secret: Secret::new("csecret"),
            username: "acmehq".into(),
            password: Secret::new("pw"),
            user_agent: AGENT.into(),
            watch: watch.iter().map(|w| Watch::parse(w).unwrap()).collect(),
            api_url: fake.url.clone(),
            token_url: format!("{}{TOKEN}", fake.url),
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

fn first_poll_script(fake: &Fake) {
    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"))
        .on("GET", SEARCH, Reply::fixture("reddit/search.json"))
        .on("GET", NEW, Reply::fixture("reddit/sub_new.json"))
        .on("GET", COMMENTS, Reply::fixture("reddit/sub_comments.json"))
        .on("GET", INBOX, Reply::fixture("reddit/inbox.json"));
}

#[tokio::test]
async fn logs_in_once_reads_every_watch_and_pages_down_to_the_seen_fullname() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let source = reddit(&fake, &["search:acme", "r/acmecoffee", "mentions"]);

    first_poll_script(&fake);
    assert_eq!(poll(&store, &source, &rules()).await, 4);
    assert_eq!(
        ids(&store),
        vec!["t3_s3", "t1_c2", "t1_m2", "t1_m1"],
        "deleted posts, the brand's own post, private messages and id-less items are not relayed"
    );

    let login = &fake.requests_to(TOKEN)[0];
    assert_eq!(
        login.header("authorization"),
        Some("Basic Y2lkOmNzZWNyZXQ=")
    );
    assert_eq!(login.header("user-agent"), Some(AGENT));
    let form = login.form();
    assert_eq!(form["grant_type"], "password");
    assert_eq!(form["username"], "acmehq");
    assert_eq!(form["password"], "pw");
    let search = &fake.requests_to(SEARCH)[0];
    for (key, value) in [
        ("q", "acme"),
        ("sort", "new"),
        ("type", "link"),
        ("limit", "100"),
        ("raw_json", "1"),
    ] {
        assert_eq!(search.param(key), Some(value), "{key}");
    }
    assert_eq!(fake.requests_to(INBOX)[0].param("mark"), Some("false"));

    let reply = store.mention(3).unwrap().mention;
    assert_eq!(reply.text, "thanks u/acmehq, acme fixed it");
    assert_eq!(
        reply.in_reply_to.as_deref(),
        Some("t1_a1"),
        "a reply to the brand's answer links to it"
    );
    assert_eq!(
        reply.link.as_deref(),
        Some("https://www.reddit.com/r/coffee/comments/s3/acme_lids/m2/?context=3")
    );
    assert_eq!(
        store.mention(1).unwrap().mention.text,
        "Acme & the new lids\nThey **leak**."
    );

    // Second poll: r/acmecoffee/new has three new posts over two pages, then the seen t3_n1.
    fake.on("GET", SEARCH, Reply::fixture("reddit/empty.json"))
        .on("GET", NEW, Reply::fixture("reddit/sub_new_page1.json"))
        .on("GET", NEW, Reply::fixture("reddit/sub_new_page2.json"))
        .on("GET", COMMENTS, Reply::fixture("reddit/empty.json"))
        .on("GET", INBOX, Reply::fixture("reddit/empty.json"));
    assert_eq!(poll(&store, &source, &rules()).await, 3);
    let pages = fake.requests_to(NEW);
    assert_eq!(
        pages.len(),
        3,
        "one page on the first poll, two on the second, none after the seen one"
    );
    assert_eq!(pages[2].param("after"), Some("t3_n3"));
    assert_eq!(
        ids(&store)[4..],
        ["t3_n4", "t3_n3", "t3_n2"],
        "t3_n0 is older than the seen post"
    );

    assert_eq!(
        fake.requests_to(TOKEN).len(),
        1,
        "the token is cached, not fetched per poll"
    );
    for request in fake.requests().iter().filter(|r| r.path != TOKEN) {
        assert_eq!(
            request.header("authorization"),
            Some("Bearer tok-1"),
            "{}",
            request.path
        );
        assert_eq!(
            request.header("user-agent"),
            Some(AGENT),
            "{}",
            request.path
        );
    }
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn rate_limit_headers_429_5xx_and_an_expired_token() {
    let fake = Fake::start().await;
    let source = reddit(&fake, &["search:acme"]);
    let cursor = Cursor::default();

    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"));
    fake.on(
        "GET",
        SEARCH,
        Reply::status(429, "")
            .header("x-ratelimit-reset", 7)
            .header("x-ratelimit-remaining", 0),
    );
    match source.fetch(&cursor).await {
        Err(SourceError::Retry { after, .. }) => assert_eq!(after, Some(Duration::from_secs(7))),
        other => panic!("429 must be retried after the reset: {other:?}"),
    }
    let before = fake.requests().len();
    assert!(
        matches!(
            source.fetch(&cursor).await,
            Err(SourceError::Retry { after: Some(_), .. })
        ),
        "with nothing left in the window, earshot waits"
    );
    assert_eq!(
        fake.requests().len(),
        before,
        "no request while the budget is spent"
    );

    let source = reddit(&fake, &["search:acme"]);
    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"));
    fake.on("GET", SEARCH, Reply::status(503, "down"));
    assert!(matches!(
        source.fetch(&cursor).await,
        Err(SourceError::Retry { .. })
    ));

    // Reddit revoked the token early: one new login, then the same request again.
    fake.on("GET", SEARCH, Reply::status(401, ""));
    fake.on(
        "POST",
        TOKEN,
        Reply::json(r#"{"access_token":"tok-2","expires_in":3600}"#),
    );
    fake.on(
        "GET",
        SEARCH,
        Reply::fixture("reddit/search.json")
            .header("x-ratelimit-remaining", 3)
            .header("x-ratelimit-used", 597)
            .header("x-ratelimit-reset", 300),
    );
    let fetched = source.fetch(&cursor).await.unwrap();
    assert_eq!(fetched.mentions.len(), 1);
    assert_eq!(
        fake.requests().last().unwrap().header("authorization"),
        Some("Bearer tok-2")
    );
    match source.fetch(&fetched.cursor).await {
        Err(SourceError::Retry {
            after: Some(after), ..
        }) => {
            assert!(
                after > Duration::from_secs(290) && after <= Duration::from_secs(300),
                "{after:?}"
            )
        }
        other => panic!("3 left is below the reserve: {other:?}"),
    }
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn bad_logins_and_malformed_listings_are_clear_errors() {
    let fake = Fake::start().await;
    let source = reddit(&fake, &["search:acme"]);
    fake.on("POST", TOKEN, Reply::json(r#"{"error": "invalid_grant"}"#));
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(matches!(error, SourceError::Permanent(_)));
    assert!(error.to_string().contains("invalid_grant"), "{error}");

    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"));
    fake.on(
        "GET",
        SEARCH,
        Reply::json("<html>we took reddit down</html>"),
    );
    let error = source.fetch(&Cursor::default()).await.unwrap_err();
    assert!(error.to_string().contains("cannot read"), "{error}");
    fake.on("GET", SEARCH, Reply::json(r#"{"kind": "Listing"}"#));
    let fetched = source.fetch(&Cursor::default()).await.unwrap();
    assert!(
        fetched.mentions.is_empty(),
        "a listing without data is an empty listing"
    );
}

#[tokio::test]
async fn restart_mid_stream_has_no_gap_and_no_duplicate() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    let watch = ["search:acme", "r/acmecoffee"];
    {
        let store = Store::open(dir.path(), vec![]).unwrap();
        let source = reddit(&fake, &watch);
        fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"))
            .on("GET", SEARCH, Reply::fixture("reddit/search.json"))
            .on("GET", NEW, Reply::fixture("reddit/sub_new.json"))
            .on("GET", COMMENTS, Reply::fixture("reddit/sub_comments.json"));
        assert_eq!(poll(&store, &source, &rules()).await, 2);
        // The search is read, then the subreddit fails: the search counts, the subreddit waits.
        fake.on("GET", SEARCH, Reply::fixture("reddit/search2.json"))
            .on("GET", NEW, Reply::status(500, "oops"));
        assert_eq!(poll(&store, &source, &rules()).await, 1);
    }
    let store = Store::open(dir.path(), vec![]).unwrap();
    let source = reddit(&fake, &watch);
    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"))
        .on("GET", SEARCH, Reply::fixture("reddit/search2.json"))
        .on("GET", NEW, Reply::fixture("reddit/sub_new_page1.json"))
        .on("GET", NEW, Reply::fixture("reddit/sub_new_page2.json"))
        .on("GET", COMMENTS, Reply::fixture("reddit/empty.json"));
    assert_eq!(poll(&store, &source, &rules()).await, 3);
    assert_eq!(
        ids(&store),
        vec!["t3_s3", "t1_c2", "t3_s4", "t3_n4", "t3_n3", "t3_n2"]
    );
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

/// A store holding the inbox's two mentions (#2 is t1_m1), with #2 claimed and answered.
async fn answered(fake: &Fake) -> (Store, Outbox) {
    let store = Store::temporary(vec![]).unwrap();
    let source = Arc::new(reddit(fake, &["mentions"]));
    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"))
        .on("GET", INBOX, Reply::fixture("reddit/inbox.json"));
    assert_eq!(poll(&store, source.as_ref(), &rules()).await, 2);
    let jane = Member::new("jane", "jane");
    store
        .apply(2, &jane, &Action::Claim, Utc::now())
        .await
        .unwrap();
    let answer = Action::Answer {
        text: "Yes, 9 to 5!".into(),
    };
    store.apply(2, &jane, &answer, Utc::now()).await.unwrap();
    let outbox = Outbox::new(
        store.clone(),
        vec![],
        vec![source],
        Arc::new(tokio::sync::Notify::new()),
    );
    (store, outbox)
}

const OWN: &str = "/user/acmehq/comments";

#[tokio::test]
async fn answer_posts_a_comment_with_api_type_json() {
    let fake = Fake::start().await;
    let (store, outbox) = answered(&fake).await;
    fake.on("GET", OWN, Reply::fixture("reddit/empty.json")).on(
        "POST",
        "/api/comment",
        Reply::fixture("reddit/comment_ok.json"),
    );
    assert_eq!(outbox.drain(Utc::now()).await.unwrap().delivered, 1);

    let post = &fake.requests_to("/api/comment")[0];
    assert_eq!(post.method, "POST");
    assert_eq!(post.header("authorization"), Some("Bearer tok-1"));
    assert_eq!(post.header("user-agent"), Some(AGENT));
    let form = post.form();
    assert_eq!(form["api_type"], "json");
    assert_eq!(form["thing_id"], "t1_m1");
    assert_eq!(form["text"], "Yes, 9 to 5!");
    assert!(matches!(
        store.mention(2).unwrap().state,
        State::Answered { link: Some(link), .. } if link == "https://www.reddit.com/r/coffee/comments/s3/acme_lids/r1/"
    ));
    assert!(store.outbox().unwrap().is_empty());
}

#[tokio::test]
async fn errors_inside_a_200_are_retried_or_returned_to_the_person() {
    let fake = Fake::start().await;
    let (store, outbox) = answered(&fake).await;
    let now = Utc::now();
    fake.on("GET", OWN, Reply::fixture("reddit/empty.json")).on(
        "POST",
        "/api/comment",
        Reply::fixture("reddit/comment_ratelimit.json"),
    );
    assert_eq!(outbox.drain(now).await.unwrap().delivered, 0);
    let entries = store.outbox().unwrap();
    assert_eq!(entries.len(), 1);
    let wait = entries[0].1.not_before - now;
    assert_eq!(wait.num_seconds(), 422, "RATELIMIT's wait, rounded up");
    assert!(entries[0]
        .1
        .last_error
        .as_deref()
        .unwrap()
        .contains("Take a break"));
    assert!(matches!(
        store.mention(2).unwrap().state,
        State::Claimed {
            answering: true,
            ..
        }
    ));

    fake.on("GET", OWN, Reply::fixture("reddit/empty.json")).on(
        "POST",
        "/api/comment",
        Reply::fixture("reddit/comment_deleted.json"),
    );
    outbox
        .drain(now + chrono::Duration::seconds(500))
        .await
        .unwrap();
    assert!(matches!(
        store.mention(2).unwrap().state,
        State::Claimed {
            answering: false,
            ..
        }
    ));
    let history = store.history(2).unwrap();
    let last = history.last().unwrap();
    assert!(
        last.summary().contains("DELETED_COMMENT"),
        "{}",
        last.summary()
    );
    assert!(store.outbox().unwrap().is_empty());
}

#[tokio::test]
async fn a_retry_after_a_crash_finds_the_posted_answer_instead_of_posting_twice() {
    let fake = Fake::start().await;
    let (store, outbox) = answered(&fake).await;
    fake.on(
        "GET",
        OWN,
        Reply::fixture("reddit/own_comments_with_answer.json"),
    );
    assert_eq!(outbox.drain(Utc::now()).await.unwrap().delivered, 1);
    assert!(
        fake.requests_to("/api/comment").is_empty(),
        "no second comment"
    );
    assert_eq!(fake.requests_to(OWN)[0].param("sort"), Some("new"));
    assert!(matches!(
        store.mention(2).unwrap().state,
        State::Answered { link: Some(link), .. } if link.ends_with("/acme_lids/r1/")
    ));
}

const THREAD: &str = "/comments/s3";

#[tokio::test]
async fn a_reply_by_the_brand_below_a_mention_closes_it_and_lookalikes_do_not() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let source = Arc::new(reddit(&fake, &["search:acme", "mentions"]));
    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"))
        .on("GET", SEARCH, Reply::fixture("reddit/search.json"))
        .on("GET", INBOX, Reply::fixture("reddit/inbox.json"));
    assert_eq!(poll(&store, source.as_ref(), &rules()).await, 3);
    assert_eq!(ids(&store), ["t3_s3", "t1_m2", "t1_m1"]);
    let watch = AnswerWatch::new(store.clone(), vec![source.clone()]);

    // Oldest number first: the post, then the comments m2 and m1, all in post s3.
    fake.on("GET", THREAD, Reply::fixture("reddit/thread_post.json"))
        .on("GET", THREAD, Reply::fixture("reddit/thread_m2.json"))
        .on("GET", THREAD, Reply::fixture("reddit/thread_m1.json"));
    assert_eq!(watch.tick(Utc::now()).await.unwrap(), 1);
    assert_eq!(store.mention(2).unwrap().state.status(), Status::Answered);
    assert_eq!(
        store.history(2).unwrap().pop().unwrap().summary(),
        "answered by earshot: answered outside earshot: reply by u/acmehq on Reddit: https://www.reddit.com/r/coffee/comments/s3/acme_lids/r9/",
        "AcmeHQ is the brand: Reddit usernames ignore case"
    );
    for (number, why) in [
        (1, "acmehq_support on the post is someone else"),
        (3, "acmehq_fan, a deleted reply and a `more` stub below m1"),
    ] {
        assert_eq!(
            store.mention(number).unwrap().state.status(),
            Status::Open,
            "{why}"
        );
    }

    let asked = fake.requests_to(THREAD);
    assert_eq!(asked.len(), 3);
    let expected = [(None, "1"), (Some("m2"), "2"), (Some("m1"), "2")];
    for (request, (comment, depth)) in asked.iter().zip(expected) {
        assert_eq!(request.method, "GET");
        assert_eq!(request.param("comment"), comment);
        assert_eq!(request.param("depth"), Some(depth));
        assert_eq!(request.param("limit"), Some("100"));
        assert_eq!(request.param("raw_json"), Some("1"));
        assert_eq!(request.header("authorization"), Some("Bearer tok-1"));
        assert_eq!(request.header("user-agent"), Some(AGENT));
    }
    assert_eq!(
        fake.requests_to(TOKEN).len(),
        1,
        "the cached token, no new login"
    );

    // Only what is still owed is read again.
    fake.on("GET", THREAD, Reply::fixture("reddit/thread_post.json"))
        .on("GET", THREAD, Reply::fixture("reddit/thread_m1.json"));
    assert_eq!(watch.tick(Utc::now()).await.unwrap(), 0);
    let again = &fake.requests_to(THREAD)[3..];
    assert_eq!(again.len(), 2);
    assert_eq!(again[1].param("comment"), Some("m1"));
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

fn comment(id: &str, link: Option<&str>, parent: Option<&str>) -> Mention {
    Mention {
        key: MentionKey::new("reddit", id),
        network: earshot::sources::reddit::TRAITS.network(),
        author: earshot::domain::Author::default(),
        text: "acme?".into(),
        link: link.map(str::to_string),
        created_at: Utc::now(),
        matched: vec![],
        language: None,
        in_reply_to: parent.map(str::to_string),
        direct: false,
        review: None,
    }
}

#[tokio::test]
async fn threads_that_are_gone_odd_or_rate_limited_never_panic() {
    let fake = Fake::start().await;
    let source = reddit(&fake, &["mentions"]);
    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"));
    let m1 = comment(
        "t1_m1",
        Some("https://www.reddit.com/r/coffee/comments/s3/acme_lids/m1/?context=3"),
        Some("t1_a1"),
    );

    fake.on(
        "GET",
        THREAD,
        Reply::json("<html>we took reddit down</html>"),
    );
    let error = source.answered_by_brand(&m1).await.unwrap_err();
    assert!(error.to_string().contains("cannot read"), "{error}");
    fake.on(
        "GET",
        THREAD,
        Reply::json(r#"{"kind": "Listing", "data": {"children": []}}"#),
    );
    assert!(
        source.answered_by_brand(&m1).await.is_err(),
        "an object, not the pair of listings"
    );
    fake.on("GET", THREAD, Reply::json(r#"[{"kind": "Listing"}]"#));
    let error = source.answered_by_brand(&m1).await.unwrap_err();
    assert!(
        error.to_string().contains("without the comment tree"),
        "{error}"
    );
    fake.on("GET", THREAD, Reply::status(503, "down"));
    assert!(matches!(
        source.answered_by_brand(&m1).await,
        Err(SourceError::Retry { .. })
    ));
    fake.on(
        "GET",
        THREAD,
        Reply::json(r#"[{}, {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {"name": "t1_m1", "replies": 42}}, {"kind": "t1"}, 7]}}]"#),
    );
    assert!(
        source.answered_by_brand(&m1).await.is_err(),
        "a child that is not a thing"
    );
    fake.on(
        "GET",
        THREAD,
        Reply::json(r#"[{}, {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {"name": "t1_m1", "replies": 42}}, {"kind": "t1"}]}}]"#),
    );
    let error = source.answered_by_brand(&m1).await.unwrap_err();
    assert!(error.to_string().contains("replies"), "{error}");
    fake.on(
        "GET",
        THREAD,
        Reply::json(r#"[{}, {"kind": "Listing", "data": {"children": [{"kind": "t1"}, {"kind": "t1", "data": {"name": "t1_m1", "replies": {"kind": "Listing", "data": {"children": [{"kind": "t1"}, {"kind": "t1", "data": {"author": null}}]}}}}]}}]"#),
    );
    assert_eq!(
        source.answered_by_brand(&m1).await.unwrap(),
        None,
        "replies without data or author are no reply"
    );

    // The mention was deleted: Reddit keeps a "[deleted]" husk with no replies; or the whole
    // post went with its subreddit.
    fake.on(
        "GET",
        THREAD,
        Reply::json(r#"[{}, {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {"name": "t1_m1", "author": "[deleted]", "body": "[deleted]", "replies": ""}}]}}]"#),
    );
    assert_eq!(source.answered_by_brand(&m1).await.unwrap(), None);
    fake.on(
        "GET",
        THREAD,
        Reply::json(r#"[{}, {"kind": "Listing", "data": {"children": []}}]"#),
    );
    assert_eq!(
        source.answered_by_brand(&m1).await.unwrap(),
        None,
        "not in the tree any more"
    );
    fake.on(
        "GET",
        THREAD,
        Reply::status(404, r#"{"message": "Not Found", "error": 404}"#),
    );
    assert_eq!(source.answered_by_brand(&m1).await.unwrap(), None);

    // Which post a comment is in comes from its link, else from a post parent.
    let before = fake.requests().len();
    let nowhere = comment(
        "t1_m9",
        Some("https://www.reddit.com/message/messages/x"),
        Some("t1_a1"),
    );
    assert!(matches!(
        source.answered_by_brand(&nowhere).await,
        Err(SourceError::Permanent(_))
    ));
    let sneaky = comment("t1_m9/../../api/comment", None, Some("t3_s3"));
    assert!(matches!(
        source.answered_by_brand(&sneaky).await,
        Err(SourceError::Permanent(_))
    ));
    assert_eq!(
        fake.requests().len(),
        before,
        "nothing asked for ids that name no thread"
    );
    fake.on(
        "GET",
        THREAD,
        Reply::fixture("reddit/thread_m1.json")
            .header("x-ratelimit-remaining", 2)
            .header("x-ratelimit-reset", 300),
    );
    let top_level = comment("t1_m1", None, Some("t3_s3"));
    assert_eq!(source.answered_by_brand(&top_level).await.unwrap(), None);
    assert_eq!(fake.requests().last().unwrap().param("comment"), Some("m1"));

    // Reddit said the window is nearly spent: checks wait like polls do, asking nothing.
    let before = fake.requests().len();
    assert!(matches!(
        source.answered_by_brand(&m1).await,
        Err(SourceError::Retry { after: Some(_), .. })
    ));
    assert_eq!(fake.requests().len(), before);
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn every_failure_class_is_survived_and_retried_within_the_cap() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let source = reddit(&fake, &["search:acme", "mentions"]);
    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"));
    let hour = Duration::from_secs(3600);
    let future = (Utc::now() + chrono::Duration::seconds(120))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    // Both listings refused, one way after another: the poll fails, the cursor stays, and the
    // wait the server named is at most an hour whatever it said.
    let refusals: Vec<(u16, &str, Option<Duration>)> = vec![
        (429, "99999999999999", Some(hour)),
        (429, "18446744073709551615", Some(hour)),
        (503, "-5", None),
        (429, "soon", None),
        (503, &future, Some(Duration::from_secs(120))),
    ];
    for (status, retry_after, bounded) in refusals {
        for _ in 0..2 {
            fake.on(
                "GET",
                SEARCH,
                Reply::status(status, "").header("retry-after", retry_after),
            )
            .on(
                "GET",
                INBOX,
                Reply::status(status, "").header("retry-after", retry_after),
            );
        }
        match source.fetch(&Cursor::default()).await {
            Err(SourceError::Retry { after, .. }) => match bounded {
                Some(expected) => {
                    let after = after.unwrap();
                    assert!(
                        after <= expected && after + Duration::from_secs(5) >= expected,
                        "{retry_after}: {after:?}"
                    )
                }
                None => assert_eq!(after, None, "{retry_after}"),
            },
            other => panic!("{status} {retry_after}: {other:?}"),
        }
        assert_eq!(
            poll_now(&store, &source).await,
            0,
            "a failed poll stores nothing"
        );
        let health = store.source_health("reddit").unwrap();
        assert!(
            health.failures > 0 && health.last_error.is_some(),
            "{health:?}"
        );
    }
    // One listing refused for good, the other read: what was read is kept, the refusal reported.
    fake.on("GET", SEARCH, Reply::status(403, "forbidden")).on(
        "GET",
        INBOX,
        Reply::fixture("reddit/inbox.json"),
    );
    let fetched = source.fetch(&Cursor::default()).await.unwrap();
    assert!(!fetched.mentions.is_empty(), "the inbox still counts");
    assert_eq!(fetched.problems.len(), 1, "{:?}", fetched.problems);
    assert!(
        fetched.problems[0].starts_with("search:acme: "),
        "{:?}",
        fetched.problems
    );
    let position = fetched.cursor.position.clone().unwrap();
    assert!(
        position.contains("mentions") && !position.contains("search"),
        "{position}"
    );
    // Everything back: the next poll reads both.
    fake.on("GET", SEARCH, Reply::fixture("reddit/search.json"))
        .on("GET", INBOX, Reply::fixture("reddit/inbox.json"));
    assert!(poll_now(&store, &source).await > 0, "the bot kept going");
}

#[tokio::test]
async fn an_unreadable_cursor_is_reported_and_not_silently_reset() {
    let fake = Fake::start().await;
    let source = reddit(&fake, &["mentions"]);
    fake.on("POST", TOKEN, Reply::fixture("reddit/token.json"))
        .on("GET", INBOX, Reply::fixture("reddit/inbox.json"));
    let corrupt = Cursor {
        position: Some(r#"{"mentions": "not a mark"}"#.into()),
        ..Cursor::default()
    };
    let fetched = source.fetch(&corrupt).await.unwrap();
    assert_eq!(fetched.problems.len(), 1);
    assert!(
        fetched.problems[0].contains("position of `mentions` is unreadable"),
        "{:?}",
        fetched.problems
    );
}

async fn poll_now(store: &Store, source: &Reddit) -> usize {
    poll(store, source, &rules()).await
}

/// Reddit's answer for a quarantined subreddit: the comment exists, the answer names none.
const CREATED_UNSEEN: &str = r#"{"json": {"errors": [], "data": {"things": []}}}"#;

#[tokio::test]
async fn an_answer_reddit_creates_without_returning_it_is_read_back() {
    let fake = Fake::start().await;
    let (store, outbox) = answered(&fake).await;
    // Before posting: not there yet. After Reddit's empty "ok": the brand's comment, which
    // (like every comment from before 2017 and removed ones) has no permalink, only link_id.
    fake.on("GET", OWN, Reply::fixture("reddit/empty.json"))
        .on("POST", "/api/comment", Reply::json(CREATED_UNSEEN))
        .on(
            "GET",
            OWN,
            Reply::json(
                r#"{"kind":"Listing","data":{"after":null,"children":[
 {"kind":"t1","data":{"id":"r7","name":"t1_r7","parent_id":"t1_m1","link_id":"t3_s3","body":"Yes, 9 to 5!","permalink":null,"created_utc":1763770600.0}}]}}"#,
            ),
        );
    assert_eq!(outbox.drain(Utc::now()).await.unwrap().delivered, 1);
    assert_eq!(fake.requests_to("/api/comment").len(), 1, "posted once");
    assert_eq!(
        fake.requests_to(OWN).len(),
        2,
        "looked before, read back after"
    );
    assert!(
        matches!(
            store.mention(2).unwrap().state,
            State::Answered { link: Some(link), .. } if link == "https://www.reddit.com/comments/s3/_/r7/"
        ),
        "{:?}",
        store.mention(2).unwrap().state
    );
    assert!(fake.unused().is_empty());
}
