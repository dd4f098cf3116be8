//! The Mastodon source's streaming API against a fake instance on 127.0.0.1 whose streaming
//! host is a server of its own: the token, the subscriptions, payloads parsed twice, frames
//! that are not mentions, broken frames, and a dropped connection.

use crate::fake_stream;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{watch, Notify};

use earshot::app::follow;
use earshot::domain::{ListFilter, Member};
use earshot::rules::Rules;
use earshot::sources::mastodon::{Mastodon, Watch};
use earshot::sources::Source;
use earshot::store::Store;
use fake_stream::{mastodon_frame, mastodon_status, MastodonStreaming};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_mentions_and_hashtag_posts_are_stored_and_every_connection_backfills() {
    let tagged = mastodon_status(
        "200",
        "9",
        "fan",
        "<p>New <a href=\"https://example.social/tags/acme\">#acme</a> mugs!</p>",
    );
    let untagged_word = mastodon_status("201", "9", "fan", "<p>nothing relevant</p>");
    let mention = mastodon_status(
        "202",
        "8",
        "pal@other.social",
        "<p><span class=\"h-card\">@acmehq</span> where is my order?</p>",
    );
    let own = mastodon_status("203", "1", "acmehq", "<p>acme news from us</p>");
    let first = vec![
        mastodon_frame(&["hashtag", "acme"], "update", &tagged),
        "{\"event\":\"update\",\"payload\":\"{broken".to_string(),
        mastodon_frame(&["hashtag", "acme"], "update", &untagged_word),
        mastodon_frame(
            &["user:notification"],
            "notification",
            &json!({"id": "50", "type": "favourite", "account": {"id": "8", "acct": "pal"}, "status": own}),
        ),
        mastodon_frame(&["hashtag", "acme"], "update", &own),
        mastodon_frame(&["hashtag", "acme"], "delete", &json!("199")),
    ];
    let second = vec![
        // Sent again after the reconnect: stored once.
        mastodon_frame(&["hashtag", "acme"], "update", &tagged),
        mastodon_frame(
            &["user:notification"],
            "notification",
            &json!({"id": "51", "type": "mention", "account": {"id": "8", "acct": "pal@other.social"}, "status": mention}),
        ),
    ];
    let fake = MastodonStreaming::start(vec![first, second], 2).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), vec![]).unwrap();
    let source: Arc<dyn Source> = Arc::new(
        Mastodon::new(
            "masto".into(),
            url::Url::parse(&fake.instance).unwrap(),
            "tok-123".into(),
            vec![Watch::Mentions, Watch::Hashtag("acme".into())],
            Duration::from_secs(30),
            reqwest::Client::new(),
        )
        .with_stream(true),
    );
    assert!(source.streams());
    let (stop, stopped) = watch::channel(false);
    let backfill = Arc::new(Notify::new());
    let backfills = Arc::new(AtomicUsize::new(0));
    let counter = backfills.clone();
    let asked = backfill.clone();
    tokio::spawn(async move {
        loop {
            asked.notified().await;
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let task = tokio::spawn(follow(
        store.clone(),
        source,
        Rules::new(&["acme".into()], &[], &["acmehq".into()]),
        backfill,
        Arc::new(Notify::new()),
        stopped,
    ));
    let relayed = || -> Vec<(String, String, bool)> {
        store
            .list(ListFilter::All, Member::new("you", "you"))
            .unwrap()
            .into_iter()
            .map(|t| {
                (
                    t.mention.key.id.clone(),
                    t.mention.text.clone(),
                    t.mention.direct,
                )
            })
            .collect()
    };
    for _ in 0..1000 {
        let connections = fake.connections();
        let subscribed =
            connections.len() >= 3 && connections.iter().all(|c| c.subscriptions.len() == 2);
        if backfills.load(Ordering::SeqCst) >= 3 && relayed().len() >= 2 && subscribed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap();

    assert_eq!(
        relayed(),
        vec![
            ("200".to_string(), "New #acme mugs!".to_string(), false),
            (
                "202".to_string(),
                "@acmehq where is my order?".to_string(),
                true
            ),
        ]
    );
    let connections = fake.connections();
    assert_eq!(
        connections.len(),
        3,
        "reconnected after each drop: {connections:?}"
    );
    for connection in &connections {
        assert_eq!(connection.path, "/api/v1/streaming");
        assert_eq!(connection.authorization.as_deref(), Some("Bearer tok-123"));
        assert_eq!(
            connection.subscriptions,
            vec![
                json!({"type": "subscribe", "stream": "user:notification"}),
                json!({"type": "subscribe", "stream": "hashtag", "tag": "acme"}),
            ]
        );
    }
    assert_eq!(
        backfills.load(Ordering::SeqCst),
        connections.len(),
        "one REST backfill per connection"
    );
}
