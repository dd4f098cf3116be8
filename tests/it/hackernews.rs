//! Hacker News against a local Algolia look-alike: windows, overlap, pagination, failures,
//! restarts, the manual answer path, and answers made on HN by the brand's account.

use crate::fake_net;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use earshot::answered::AnswerWatch;
use earshot::app::poll;
use earshot::desk::{Caller, Desk};
use earshot::domain::{Cursor, Member, MemberRef, State, Status};
use earshot::rules::Rules;
use earshot::sources::hackernews::{HackerNews, Settings};
use earshot::sources::{Source, SourceError};
use earshot::store::Store;
use fake_net::{Fake, Reply};

const SEARCH: &str = "/api/v1/search_by_date";

fn source(fake: &Fake) -> HackerNews {
    with_account(fake, None)
}

fn with_account(fake: &Fake, account: Option<&str>) -> HackerNews {
    HackerNews::new(
        "hn".into(),
        Settings {
            query: "acme".into(),
            api_url: format!("{}/api/v1/", fake.url),
            account: account.map(str::to_string),
        },
        Duration::from_secs(120),
        reqwest::Client::new(),
    )
}

fn rules() -> Rules {
    Rules::new(&["acme".to_string()], &[], &[])
}

fn ids(store: &Store) -> Vec<String> {
    let all = store
        .list(earshot::domain::ListFilter::All, Member::new("x", "x"))
        .unwrap();
    all.into_iter().map(|t| t.mention.key.id).collect()
}

#[tokio::test]
async fn first_poll_reads_the_newest_page_then_windows_overlap_and_page() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let hn = source(&fake);

    fake.on("GET", SEARCH, Reply::fixture("hackernews/first.json"));
    assert_eq!(poll(&store, &hn, &rules()).await, 2);
    let first = &fake.requests()[0];
    assert_eq!(first.param("query"), Some("acme"));
    assert_eq!(first.param("tags"), Some("(story,comment)"));
    assert_eq!(first.param("hitsPerPage"), Some("100"));
    assert_eq!(first.param("page"), Some("0"));
    assert_eq!(
        first.param("numericFilters"),
        None,
        "the first poll starts from now"
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "only the newest page, though nbPages is 3"
    );
    assert_eq!(
        ids(&store),
        vec!["42", "41"],
        "deleted, id-less and off-topic hits are not relayed"
    );
    assert_eq!(
        store.cursor("hn").unwrap().position.as_deref(),
        Some("1763726400")
    );

    let comment = store.mention(1).unwrap().mention;
    assert_eq!(comment.text, "Has anyone tried Acme coffee? It's \"fine\"");
    assert_eq!(comment.author.handle, "pg");
    assert_eq!(comment.in_reply_to.as_deref(), Some("41"));
    assert_eq!(
        comment.link.as_deref(),
        Some("https://news.ycombinator.com/reply?id=42&goto=item%3Fid%3D41")
    );
    let story = store.mention(2).unwrap().mention;
    assert_eq!(
        story.text,
        "Ask HN: Is Acme coffee any good?\nThinking of switching & saving"
    );
    assert_eq!(
        story.link.as_deref(),
        Some("https://news.ycombinator.com/item?id=41")
    );

    // The next poll looks 10 minutes back, reads both pages, and drops the repeat of 42.
    fake.on(
        "GET",
        SEARCH,
        Reply::fixture("hackernews/window_page0.json"),
    );
    fake.on(
        "GET",
        SEARCH,
        Reply::fixture("hackernews/window_page1.json"),
    );
    assert_eq!(poll(&store, &hn, &rules()).await, 2);
    let window: Vec<_> = fake.requests()[1..].to_vec();
    assert_eq!(window.len(), 2);
    for (page, request) in window.iter().enumerate() {
        assert_eq!(
            request.param("numericFilters"),
            Some("created_at_i>=1763725800")
        );
        assert_eq!(request.param("page"), Some(page.to_string().as_str()));
    }
    assert_eq!(ids(&store), vec!["42", "41", "46", "45"]);
    assert_eq!(
        store.cursor("hn").unwrap().position.as_deref(),
        Some("1763727000")
    );
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn failures_leave_the_cursor_and_lose_nothing() {
    let fake = Fake::start().await;
    let hn = source(&fake);
    let cursor = Cursor {
        position: Some("1763726000".into()),
        ..Cursor::default()
    };

    fake.on(
        "GET",
        SEARCH,
        Reply::status(429, "slow down").header("retry-after", 30),
    );
    match hn.fetch(&cursor).await {
        Err(SourceError::Retry { after, .. }) => assert_eq!(after, Some(Duration::from_secs(30))),
        other => panic!("429 must be retried: {other:?}"),
    }
    fake.on(
        "GET",
        SEARCH,
        Reply::fixture("hackernews/window_page0.json"),
    );
    fake.on("GET", SEARCH, Reply::status(502, "bad gateway"));
    assert!(
        matches!(hn.fetch(&cursor).await, Err(SourceError::Retry { .. })),
        "a failed second page fails the pass, so the cursor stays"
    );
    fake.on("GET", SEARCH, Reply::json("<html>maintenance</html>"));
    let error = hn.fetch(&cursor).await.unwrap_err();
    assert!(error.to_string().contains("cannot read"), "{error}");
    fake.on("GET", SEARCH, Reply::json(r#"{"hits": "nope"}"#));
    assert!(hn.fetch(&cursor).await.is_err());

    fake.on("GET", SEARCH, Reply::fixture("hackernews/empty.json"));
    let fetched = hn.fetch(&cursor).await.unwrap();
    assert!(fetched.mentions.is_empty());
    assert_eq!(fetched.cursor, cursor, "nothing new: the cursor stays");
}

#[tokio::test]
async fn restart_mid_stream_has_no_gap_and_no_duplicate() {
    let fake = Fake::start().await;
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), vec![]).unwrap();
        fake.on("GET", SEARCH, Reply::fixture("hackernews/first.json"));
        assert_eq!(poll(&store, &source(&fake), &rules()).await, 2);
        // Stopped mid-stream: page 0 of the next window arrives, page 1 never does.
        fake.on(
            "GET",
            SEARCH,
            Reply::fixture("hackernews/window_page0.json"),
        );
        fake.on("GET", SEARCH, Reply::status(500, "oops"));
        assert_eq!(poll(&store, &source(&fake), &rules()).await, 0);
    }
    let store = Store::open(dir.path(), vec![]).unwrap();
    assert_eq!(
        store.cursor("hn").unwrap().position.as_deref(),
        Some("1763726400")
    );
    fake.on(
        "GET",
        SEARCH,
        Reply::fixture("hackernews/window_page0.json"),
    );
    fake.on(
        "GET",
        SEARCH,
        Reply::fixture("hackernews/window_page1.json"),
    );
    assert_eq!(poll(&store, &source(&fake), &rules()).await, 2);
    assert_eq!(ids(&store), vec!["42", "41", "46", "45"]);
    assert_eq!(
        fake.requests().last().unwrap().param("numericFilters"),
        Some("created_at_i>=1763725800"),
        "after the restart the window starts where the stored cursor says"
    );
}

#[tokio::test]
async fn answer_hands_out_the_reply_link_and_done_closes_the_mention() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    fake.on("GET", SEARCH, Reply::fixture("hackernews/first.json"));
    poll(&store, &source(&fake), &rules()).await;
    let desk = Desk::new(
        store.clone(),
        "/mentions".into(),
        Arc::new(tokio::sync::Notify::new()),
    );
    let jane = Member::new("jane", "jane");
    let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());

    let refused = desk
        .handle(
            &Caller::new(jane.clone(), "shell"),
            "answer 1 We roast it fresh!",
            &resolve,
            Utc::now(),
        )
        .await;
    assert!(!refused.ok);
    assert!(
        refused
            .text
            .contains("https://news.ycombinator.com/reply?id=42&goto=item%3Fid%3D41"),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("done 1 <link to your answer>"),
        "{}",
        refused.text
    );
    assert!(
        store.outbox().unwrap().is_empty(),
        "nothing is queued for a network without a write API"
    );

    let done = desk
        .handle(
            &Caller::new(jane.clone(), "shell"),
            "done 1 https://news.ycombinator.com/item?id=47",
            &resolve,
            Utc::now(),
        )
        .await;
    assert!(done.ok, "{}", done.text);
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Done { note: Some(note), .. } if note == "https://news.ycombinator.com/item?id=47"
    ));
    assert_eq!(fake.requests().len(), 1, "answering never calls Algolia");
}

#[tokio::test]
async fn a_direct_reply_by_the_brand_account_closes_the_mention_and_lookalikes_do_not() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    let hn = Arc::new(with_account(&fake, Some("acmehq")));
    fake.on("GET", SEARCH, Reply::fixture("hackernews/first.json"));
    assert_eq!(
        poll(&store, hn.as_ref(), &rules()).await,
        2,
        "#1 is comment 42, #2 story 41"
    );
    let watch = AnswerWatch::new(store.clone(), vec![hn.clone()]);

    // Below 41 the brand (acmehq) replied; below 42 only AcmeHQ, acmehq_fan, a deleted reply,
    // and acmehq deeper down, answering someone else.
    fake.on(
        "GET",
        "/api/v1/items/41",
        Reply::fixture("hackernews/item_41.json"),
    )
    .on(
        "GET",
        "/api/v1/items/42",
        Reply::fixture("hackernews/item_42.json"),
    );
    assert_eq!(watch.tick(Utc::now()).await.unwrap(), 1);
    assert_eq!(store.mention(2).unwrap().state.status(), Status::Answered);
    assert_eq!(
        store.history(2).unwrap().pop().unwrap().summary(),
        "answered by earshot: answered outside earshot: reply by acmehq on Hacker News: https://news.ycombinator.com/item?id=47"
    );
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Open);
    for id in ["41", "42"] {
        let asked = fake.requests_to(&format!("/api/v1/items/{id}"));
        assert_eq!(asked.len(), 1, "{id}");
        assert_eq!(asked[0].method, "GET");
        assert!(asked[0].query.is_empty(), "{:?}", asked[0].query);
        assert_eq!(
            asked[0].header("authorization"),
            None,
            "Algolia takes no credentials"
        );
    }

    // The next check reads only what is still owed; a deleted item is not an error.
    fake.on(
        "GET",
        "/api/v1/items/42",
        Reply::status(404, r#"{"status":404,"error":"Not Found"}"#),
    );
    assert_eq!(watch.tick(Utc::now()).await.unwrap(), 0);
    assert_eq!(fake.requests_to("/api/v1/items/41").len(), 1);
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Open);
    assert!(fake.unused().is_empty(), "{:?}", fake.unused());
}

#[tokio::test]
async fn answered_detection_fails_cleanly_on_bad_items_and_stays_off_without_an_account() {
    let fake = Fake::start().await;
    let store = Store::temporary(vec![]).unwrap();
    fake.on("GET", SEARCH, Reply::fixture("hackernews/first.json"));
    poll(&store, &source(&fake), &rules()).await;
    let mention = store.mention(1).unwrap().mention;

    let hn = with_account(&fake, Some("acmehq"));
    fake.on(
        "GET",
        "/api/v1/items/42",
        Reply::json("<html>maintenance</html>"),
    );
    let error = hn.answered_by_brand(&mention).await.unwrap_err();
    assert!(error.to_string().contains("cannot read"), "{error}");
    fake.on(
        "GET",
        "/api/v1/items/42",
        Reply::json(r#"{"id": 42, "children": "none"}"#),
    );
    assert!(hn.answered_by_brand(&mention).await.is_err());
    fake.on(
        "GET",
        "/api/v1/items/42",
        Reply::json(r#"{"id": 42, "children": [7, null]}"#),
    );
    assert!(hn.answered_by_brand(&mention).await.is_err());
    fake.on("GET", "/api/v1/items/42", Reply::status(503, "busy"));
    assert!(matches!(
        hn.answered_by_brand(&mention).await,
        Err(SourceError::Retry { .. })
    ));
    fake.on("GET", "/api/v1/items/42", Reply::json(r#"{"id": 42}"#));
    assert_eq!(
        hn.answered_by_brand(&mention).await.unwrap(),
        None,
        "an item without replies"
    );

    let before = fake.requests().len();
    let mut odd = mention.clone();
    odd.key.id = "42/../../search_by_date".into();
    assert!(matches!(
        hn.answered_by_brand(&odd).await,
        Err(SourceError::Permanent(_))
    ));
    assert_eq!(
        source(&fake).answered_by_brand(&mention).await.unwrap(),
        None
    );
    assert_eq!(
        fake.requests().len(),
        before,
        "nothing asked for an id that is no HN id, nor without `account` (no brand to look for)"
    );
}
