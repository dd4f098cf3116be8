//! The Bluesky source's Jetstream watch against a fake Jetstream on 127.0.0.1 that replays
//! recorded-shape frames (posts, likes, follows, deletes, identity and account events, and
//! some broken ones) from the cursor a client asks for, and drops the first connection; and a
//! fake PDS whose getProfiles turns the authors' DIDs into handles, or fails to.

use crate::fake_stream;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::{watch, Notify};

use earshot::app::{follow, stream_cursor_name};
use earshot::domain::{ListFilter, Member};
use earshot::rules::Rules;
use earshot::sources::bluesky::{Bluesky, Watch};
use earshot::sources::Source;
use earshot::store::Store;
use fake_stream::{JetFrame, Jetstream, Pds, Profiles};

const ME: &str = "did:plc:acme";
/// 2024-09-09T19:46:02Z in microseconds; frames are a second apart from here.
const T0: u64 = 1_725_911_162_000_000;

fn at(second: u64) -> u64 {
    T0 + second * 1_000_000
}

fn post(second: u64, did: &str, rkey: &str, text: &str) -> JetFrame {
    JetFrame::event(
        at(second),
        json!({
            "did": did, "time_us": at(second), "kind": "commit",
            "commit": {"rev": "3l3qo2vutsw2b", "operation": "create", "collection": "app.bsky.feed.post",
                "rkey": rkey, "cid": format!("bafy{rkey}"),
                "record": {"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z",
                    "langs": ["en"], "text": text}}
        }),
    )
}

fn like(second: u64) -> JetFrame {
    JetFrame::event(
        at(second),
        json!({
            "did": "did:plc:liker", "time_us": at(second), "kind": "commit",
            "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.feed.like", "rkey": format!("l{second}"),
                "cid": "bafylike", "record": {"$type": "app.bsky.feed.like", "createdAt": "2024-09-09T19:46:02.102Z",
                    "subject": {"cid": "bafyx", "uri": "at://did:plc:fan/app.bsky.feed.post/acme"}}}
        }),
    )
}

fn follow_event(second: u64) -> JetFrame {
    JetFrame::event(
        at(second),
        json!({
            "did": "did:plc:follower", "time_us": at(second), "kind": "commit",
            "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.graph.follow", "rkey": format!("f{second}"),
                "cid": "bafyfollow", "record": {"$type": "app.bsky.graph.follow", "subject": ME, "createdAt": "2024-09-09T19:46:02.102Z"}}
        }),
    )
}

fn identity(second: u64) -> JetFrame {
    JetFrame::event(
        at(second),
        json!({
            "did": "did:plc:fan", "time_us": at(second), "kind": "identity",
            "identity": {"did": "did:plc:fan", "handle": "fan.test", "seq": 1, "time": "2024-09-09T19:46:02.102Z"}
        }),
    )
}

fn account(second: u64) -> JetFrame {
    JetFrame::event(
        at(second),
        json!({
            "did": "did:plc:gone", "time_us": at(second), "kind": "account",
            "account": {"active": false, "did": "did:plc:gone", "seq": 2, "status": "deactivated", "time": "2024-09-09T19:46:02.102Z"}
        }),
    )
}

fn delete(second: u64, rkey: &str) -> JetFrame {
    JetFrame::event(
        at(second),
        json!({
            "did": "did:plc:fan", "time_us": at(second), "kind": "commit",
            "commit": {"rev": "r", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": rkey}
        }),
    )
}

/// Waits (in real time: sockets are real) until `done` holds, for at most 10 s.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out");
}

fn relayed(store: &Store) -> Vec<(u64, String, String)> {
    store
        .list(ListFilter::All, Member::new("you", "you"))
        .unwrap()
        .into_iter()
        .map(|tracked| {
            (
                tracked.number,
                tracked.mention.key.id.clone(),
                tracked.mention.text.clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firehose_posts_are_matched_stored_with_their_cursor_and_resumed_after_a_drop() {
    let frames = vec![
        post(0, "did:plc:fan", "a0", "Acme coffee is back!"),
        like(1),
        post(2, "did:plc:other", "b2", "nothing to see here"),
        follow_event(3),
        JetFrame::raw("{\"did\":\"did:plc:x\",\"time_us\":"), // cut off mid-frame
        post(4, ME, "own4", "acme: our own post is never relayed"),
        identity(5),
        JetFrame::raw("{\"did\":\"did:plc:x\",\"time_us\":1,\"kind\":\"commit\",\"commit\":{\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"r\",\"record\":{\"text\":42}}}"),
        post(6, "did:plc:fan", "a6", "Who else loves ACME?"),
        account(7),
        delete(8, "a0"),
        post(9, "did:plc:fan", "a9", "acme vacature: dropped by the exclusions"),
        like(10),
        // The first connection ends here; a reconnect replays from 10 - 5 seconds.
        post(11, "did:plc:fan", "a11", "acme again, after the reconnect"),
        follow_event(12),
        post(13, "did:plc:late", "a13", "Ácmé, written fancy"),
    ];
    let jet = Jetstream::start(frames, 13).await;
    let pds = fake_stream::start_pds(ME).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), vec![]).unwrap();
    let source: Arc<dyn Source> = Arc::new(
        Bluesky::new(
            "sky".into(),
            url::Url::parse(&pds).unwrap(),
            "acme.bsky.social".into(),
            "app-pass".into(),
            vec![Watch::Mentions, Watch::Jetstream],
            Duration::from_secs(60),
            reqwest::Client::new(),
        )
        .with_jetstream(url::Url::parse(&format!("{}/subscribe", jet.url)).unwrap()),
    );
    assert!(source.streams());
    let rules = Rules::new(&["acme".into()], &["vacature".into()], &[]);
    let (stop, stopped) = watch::channel(false);
    let backfill = Arc::new(Notify::new());
    let task = tokio::spawn(follow(
        store.clone(),
        source,
        rules,
        backfill.clone(),
        Arc::new(Notify::new()),
        stopped,
    ));

    until(|| jet.connections().len() >= 2 && relayed(&store).len() >= 4).await;
    // Let the second connection's replay settle: nothing more may arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    task.await.unwrap();

    let uri = |rkey: &str, did: &str| format!("at://{did}/app.bsky.feed.post/{rkey}");
    assert_eq!(
        relayed(&store),
        vec![
            (1, uri("a0", "did:plc:fan"), "Acme coffee is back!".into()),
            (2, uri("a6", "did:plc:fan"), "Who else loves ACME?".into()),
            (
                3,
                uri("a11", "did:plc:fan"),
                "acme again, after the reconnect".into()
            ),
            (4, uri("a13", "did:plc:late"), "Ácmé, written fancy".into()),
        ],
        "each matching post of others once, in order, across the drop"
    );
    let connections = jet.connections();
    assert_eq!(connections.len(), 2, "{connections:?}");
    assert_eq!(
        connections[0],
        vec![(
            "wantedCollections".to_string(),
            "app.bsky.feed.post".to_string()
        )]
    );
    assert_eq!(
        connections[1],
        vec![
            (
                "wantedCollections".to_string(),
                "app.bsky.feed.post".to_string()
            ),
            ("cursor".to_string(), (at(10) - 5_000_000).to_string()),
        ],
        "the reconnect rewinds 5 s before the last event read"
    );
    let cursor = store.cursor(&stream_cursor_name("sky")).unwrap();
    assert_eq!(cursor.position, Some(at(13).to_string()));
    assert_eq!(
        store.cursor("sky").unwrap().position,
        None,
        "the polls' cursor is left to the poller"
    );
    // Each connection asked the poller for a REST backfill.
    tokio::time::timeout(Duration::from_secs(1), backfill.notified())
        .await
        .expect("a backfill was asked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_stored_cursor() {
    let frames = vec![
        post(0, "did:plc:fan", "a0", "acme one"),
        post(20, "did:plc:fan", "a20", "acme two"),
        like(21),
    ];
    let jet = Jetstream::start(frames, usize::MAX).await;
    let pds = fake_stream::start_pds(ME).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), vec![]).unwrap();
    // Stored by an earlier run: everything up to second 18 was read.
    store
        .save_cursor(
            &stream_cursor_name("sky"),
            &earshot::domain::Cursor {
                position: Some(at(18).to_string()),
                ..Default::default()
            },
        )
        .unwrap();
    let source: Arc<dyn Source> = Arc::new(
        Bluesky::new(
            "sky".into(),
            url::Url::parse(&pds).unwrap(),
            "acme.bsky.social".into(),
            "app-pass".into(),
            vec![Watch::Jetstream],
            Duration::from_secs(60),
            reqwest::Client::new(),
        )
        .with_jetstream(url::Url::parse(&format!("{}/subscribe", jet.url)).unwrap()),
    );
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(follow(
        store.clone(),
        source,
        Rules::new(&["acme".into()], &[], &[]),
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
        stopped,
    ));
    until(|| {
        store
            .cursor(&stream_cursor_name("sky"))
            .unwrap()
            .position
            .as_deref()
            == Some(&at(21).to_string())
    })
    .await;
    stop.send(true).unwrap();
    task.await.unwrap();
    let texts: Vec<String> = relayed(&store)
        .into_iter()
        .map(|(_, _, text)| text)
        .collect();
    assert_eq!(texts, vec!["acme two".to_string()]);
    assert_eq!(
        jet.connections()[0][1],
        ("cursor".to_string(), (at(18) - 5_000_000).to_string())
    );
}

/// A Bluesky source with a Jetstream watch against `jet` and `pds`.
fn streaming(jet: &Jetstream, pds: &Pds) -> Arc<dyn Source> {
    Arc::new(
        Bluesky::new(
            "sky".into(),
            url::Url::parse(&pds.url).unwrap(),
            "acme.bsky.social".into(),
            "app-pass".into(),
            vec![Watch::Jetstream],
            Duration::from_secs(60),
            reqwest::Client::new(),
        )
        .with_jetstream(url::Url::parse(&format!("{}/subscribe", jet.url)).unwrap()),
    )
}

/// Each stored mention's author: handle, display name and profile link.
fn authors(store: &Store) -> Vec<(String, Option<String>, Option<String>)> {
    store
        .list(ListFilter::All, Member::new("you", "you"))
        .unwrap()
        .into_iter()
        .map(|tracked| {
            let author = tracked.mention.author;
            (author.handle, author.name, author.profile)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_name_authors_by_handle_looked_up_once_for_the_posts_the_rules_kept() {
    let frames = vec![
        post(0, "did:plc:fan", "a0", "Acme coffee is back!"),
        post(1, "did:plc:quiet", "q1", "nothing to see here"),
        post(
            2,
            "did:plc:gone",
            "g2",
            "acme, from an account the AppView no longer has",
        ),
        post(3, "did:plc:support", "s3", "acme support here: DM us"),
        post(4, "did:plc:late", "l4", "Acme late"),
        like(30),
        // The first connection ends here; the reconnect replays from second 25.
        post(40, "did:plc:fan", "a40", "acme again"),
        like(41),
    ];
    let jet = Jetstream::start(frames, 6).await;
    let pds = Pds::start(
        ME,
        Profiles::Serve(vec![
            json!({"did": "did:plc:fan", "handle": "fan.bsky.social", "displayName": "Fan Person"}),
            json!({"did": "did:plc:late", "handle": "late.test"}),
            json!({"did": "did:plc:support", "handle": "acme-support.bsky.social", "displayName": "Acme Support"}),
            json!({"did": "did:plc:quiet", "handle": "quiet.test"}),
        ]),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), vec![]).unwrap();
    // The brand's other account is known by handle only: it is recognised once resolved.
    let rules = Rules::new(&["acme".into()], &[], &["acme-support.bsky.social".into()]);
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(follow(
        store.clone(),
        streaming(&jet, &pds),
        rules,
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
        stopped,
    ));
    until(|| relayed(&store).len() >= 4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(true).unwrap();
    task.await.unwrap();

    let profile = |handle: &str| Some(format!("https://bsky.app/profile/{handle}"));
    assert_eq!(
        authors(&store),
        vec![
            (
                "fan.bsky.social".to_string(),
                Some("Fan Person".to_string()),
                profile("fan.bsky.social")
            ),
            (
                "did:plc:gone".to_string(),
                None,
                profile("did:plc:gone")
            ),
            ("late.test".to_string(), None, profile("late.test")),
            (
                "fan.bsky.social".to_string(),
                Some("Fan Person".to_string()),
                profile("fan.bsky.social")
            ),
        ],
        "an author the AppView does not know keeps the DID; the brand's other account is not relayed"
    );
    let fan = store.mention(1).unwrap().mention;
    assert_eq!(fan.author.display(), "Fan Person (@fan.bsky.social)");
    assert_eq!(
        fan.link.as_deref(),
        Some("https://bsky.app/profile/did:plc:fan/post/a0"),
        "the post's link keeps the DID, which outlives a change of handle"
    );
    let lookups = pds.lookups();
    assert_eq!(jet.connections().len(), 2);
    assert_eq!(
        lookups.len(),
        1,
        "one lookup for the batch; the author seen again comes from memory: {lookups:?}"
    );
    assert_eq!(
        lookups[0].actors,
        [
            "did:plc:fan",
            "did:plc:gone",
            "did:plc:support",
            "did:plc:late"
        ],
        "only the posts the rules kept"
    );
    assert_eq!(lookups[0].authorization.as_deref(), Some("Bearer access"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cards_show_the_did_when_the_lookup_fails_or_hangs() {
    for (profiles, what) in [(Profiles::Fail(500), "fails"), (Profiles::Hang, "hangs")] {
        let frames = vec![post(0, "did:plc:fan", "a0", "Acme coffee is back!")];
        let jet = Jetstream::start(frames, usize::MAX).await;
        let pds = Pds::start(ME, profiles).await;
        let store = Store::temporary(vec![]).unwrap();
        let (stop, stopped) = watch::channel(false);
        let started = std::time::Instant::now();
        let task = tokio::spawn(follow(
            store.clone(),
            streaming(&jet, &pds),
            Rules::new(&["acme".into()], &[], &[]),
            Arc::new(Notify::new()),
            Arc::new(Notify::new()),
            stopped,
        ));
        until(|| !relayed(&store).is_empty()).await;
        let waited = started.elapsed();
        stop.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(
            authors(&store),
            vec![(
                "did:plc:fan".to_string(),
                None,
                Some("https://bsky.app/profile/did:plc:fan".to_string())
            )],
            "when the lookup {what}"
        );
        assert!(
            waited < Duration::from_secs(4),
            "the post is not held back long when the lookup {what}: {waited:?}"
        );
        assert_eq!(pds.lookups().len(), 1, "when the lookup {what}");
    }
}
