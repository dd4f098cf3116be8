//! Storm mode with an injected clock: it switches on at the threshold, posts one summary card
//! and updates it as the storm grows, alerts once, ends after the calm period (per-mention cards
//! resume), and loses no mention, across a restart too.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use earshot::chat::{Chat, ChatError};
use earshot::domain::storm::StormPolicy;
use earshot::domain::{
    Action, Actor, Author, Cursor, ListFilter, Member, Mention, MentionKey, Tracked,
};
use earshot::outbox::Outbox;
use earshot::store::{Store, StormMode};
use tokio::sync::Notify;

#[derive(Default)]
struct FakeChat {
    log: Mutex<Vec<String>>,
}

impl FakeChat {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
    fn push(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }
}

#[async_trait]
impl Chat for FakeChat {
    fn name(&self) -> &str {
        "fake"
    }
    async fn post(&self, mention: &Tracked, _now: DateTime<Utc>) -> Result<String, ChatError> {
        self.push(format!("post #{}", mention.number));
        Ok(format!("msg-{}", mention.number))
    }
    async fn update(
        &self,
        _message: &str,
        mention: &Tracked,
        note: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.push(format!("update #{}: {note}", mention.number));
        Ok(())
    }
    async fn post_notice(&self, text: &str, _now: DateTime<Utc>) -> Result<(), ChatError> {
        self.push(format!("notice: {text}"));
        Ok(())
    }
    async fn post_summary(&self, text: &str, _now: DateTime<Utc>) -> Result<String, ChatError> {
        self.push(format!("summary: {text}"));
        Ok("summary-msg".into())
    }
    async fn update_summary(
        &self,
        message: &str,
        text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.push(format!("edit {message}: {text}"));
        Ok(())
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn mention(id: u32) -> Mention {
    Mention {
        key: MentionKey::new("masto", id.to_string()),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: Author {
            handle: format!("user{id}"),
            name: None,
            profile: None,
        },
        text: if id == 17 {
            "I want a refund, the lid is broken".into()
        } else {
            format!("acme post {id}")
        },
        link: None,
        created_at: DateTime::UNIX_EPOCH,
        matched: vec![],
        language: None,
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

fn mode() -> StormMode {
    StormMode {
        policy: StormPolicy {
            threshold: 10,
            window: Duration::minutes(5),
            backlog: 1000,
            calm: Duration::minutes(15),
            alert: vec!["@oncall".into()],
        },
        command: "/mentions".into(),
    }
}

fn setup(store: &Store) -> (Arc<FakeChat>, Outbox) {
    let chat = Arc::new(FakeChat::default());
    let outbox = Outbox::new(
        store.clone(),
        vec![chat.clone()],
        vec![],
        Arc::new(Notify::new()),
    );
    (chat, outbox)
}

/// Mentions posted at `now` and found at once, from a source that has polled before.
async fn arrive(store: &Store, ids: std::ops::Range<u32>, now: DateTime<Utc>) -> Vec<u64> {
    let batch: Vec<Mention> = ids.map(|id| made(id, now)).collect();
    if store.cursor("masto").unwrap() == Cursor::default() {
        store.save_cursor("masto", &Cursor::default()).unwrap();
    }
    store
        .ingest("masto", &batch, &Cursor::default(), now)
        .unwrap()
}

fn made(id: u32, at: DateTime<Utc>) -> Mention {
    Mention {
        created_at: at,
        ..mention(id)
    }
}

#[tokio::test]
async fn a_new_sources_first_poll_is_an_import_not_a_storm() {
    let store = Store::temporary(vec!["fake".into()])
        .unwrap()
        .with_storm(mode());
    let (chat, outbox) = setup(&store);
    // The first poll brings 200 posts from the last days, some made minutes ago.
    let now = t0();
    let batch: Vec<Mention> = (0..200)
        .map(|id| made(id, now - Duration::minutes(i64::from(id) * 30)))
        .collect();
    let numbers = store
        .ingest("masto", &batch, &Cursor::default(), now)
        .unwrap();
    assert_eq!(numbers.len(), 200);
    outbox.drain(now).await.unwrap();
    let log = chat.take();
    assert_eq!(
        log,
        ["notice: 📥 Imported 200 earlier mentions from masto (#1–#200): posts from before earshot watched it, or already old when found, so they get no card of their own. `/mentions list` shows them.".to_string()]
    );
    assert!(!store.weather().unwrap().stormy(), "no storm, no @channel");
    assert_eq!(
        store.list(ListFilter::Open, Actor::System).unwrap().len(),
        200
    );

    // Then live: new posts get their own cards.
    arrive(&store, 500..503, now + Duration::minutes(1)).await;
    outbox.drain(now + Duration::minutes(1)).await.unwrap();
    assert_eq!(starting(&chat.take(), "post #"), 3);
}

#[tokio::test]
async fn posts_already_old_when_found_are_judged_by_when_they_were_made() {
    let store = Store::temporary(vec!["fake".into()])
        .unwrap()
        .with_storm(mode());
    let (chat, outbox) = setup(&store);
    arrive(&store, 0..1, t0()).await;
    outbox.drain(t0()).await.unwrap();
    chat.take();
    // The source comes back after an outage with 40 posts from yesterday: an import.
    let now = t0() + Duration::hours(1);
    let batch: Vec<Mention> = (1..41)
        .map(|id| made(id, now - Duration::days(1)))
        .collect();
    store
        .ingest("masto", &batch, &Cursor::default(), now)
        .unwrap();
    outbox.drain(now).await.unwrap();
    let log = chat.take();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].starts_with("notice: 📥 Imported 40 earlier mentions from masto (#2–#41)"));
    assert!(!log[0].contains("@"), "pings nobody: {log:?}");
    assert!(!store.weather().unwrap().stormy());
    // A few old ones get their cards, and still start no storm.
    let batch: Vec<Mention> = (41..44)
        .map(|id| made(id, now - Duration::days(1)))
        .collect();
    store
        .ingest("masto", &batch, &Cursor::default(), now)
        .unwrap();
    outbox.drain(now).await.unwrap();
    assert_eq!(starting(&chat.take(), "post #"), 3);
    assert!(!store.weather().unwrap().stormy());
}

fn starting(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

#[tokio::test]
async fn a_storm_starts_at_the_threshold_summarises_alerts_once_and_calms_down() {
    let store = Store::temporary(vec!["fake".into()])
        .unwrap()
        .with_storm(mode());
    let (chat, outbox) = setup(&store);

    // 9 in a minute each: below the threshold, one card each.
    for i in 0..9 {
        arrive(&store, i..i + 1, t0() + Duration::seconds(i as i64)).await;
    }
    outbox.drain(t0() + Duration::minutes(1)).await.unwrap();
    let log = chat.take();
    assert_eq!(starting(&log, "post #"), 9, "{log:?}");
    assert!(!store.weather().unwrap().stormy());

    // The 10th within the window starts the storm: no card, one alert, one summary card.
    let now = t0() + Duration::minutes(1);
    assert_eq!(arrive(&store, 9..10, now).await, vec![10]);
    outbox.drain(now).await.unwrap();
    let log = chat.take();
    assert_eq!(starting(&log, "post #"), 0, "{log:?}");
    assert_eq!(
        log,
        [
            "notice: @oncall ⚡ Mention storm: 10 mentions in the last 5 min. Cards pause; one summary card is kept up to date instead. `/mentions list` shows every mention.".to_string(),
            "summary: ⚡ Mention storm: 1 new mention in under a minute (#10), gathered here instead of one card each.\nThe 1 most urgent:\n  #10 · Mastodon · @user9 · acme post 9\n`/mentions list` shows them all; `/mentions show N` and `/mentions claim N` work as usual.".to_string(),
        ]
    );

    // It grows: the summary is edited in place, no new alert, no card.
    let later = now + Duration::minutes(3);
    arrive(&store, 10..40, later).await;
    outbox.drain(later).await.unwrap();
    let log = chat.take();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0]
            .starts_with("edit summary-msg: ⚡ Mention storm: 31 new mentions in 3 min (#10–#40)"),
        "{log:?}"
    );
    // The complaint (#18, "refund ... broken") is named first.
    assert!(log[0].contains("\n  ⚠ #18 · "), "{log:?}");

    // Every mention is stored, numbered and claimable.
    let all = store.list(ListFilter::Open, Actor::System).unwrap();
    assert_eq!(
        all.iter().map(|t| t.number).collect::<Vec<_>>(),
        (1..=40).collect::<Vec<_>>()
    );
    store
        .apply(25, &Member::new("jane", "jane"), &Action::Claim, later)
        .await
        .unwrap();
    outbox.drain(later).await.unwrap();
    // #25 has no card to update; nothing is shown for it, and nothing fails.
    assert_eq!(chat.take(), Vec::<String>::new());

    // Not calm yet 14 minutes after the last hot moment.
    assert!(!store
        .storm_tick(later + Duration::minutes(14))
        .await
        .unwrap());
    // Calm: the storm ends, the summary gets its last version.
    let calm = later + Duration::minutes(15);
    assert!(store.storm_tick(calm).await.unwrap());
    assert!(!store.storm_tick(calm).await.unwrap(), "ends once");
    outbox.drain(calm).await.unwrap();
    let log = chat.take();
    assert_eq!(
        log,
        ["edit summary-msg: Storm over after 18 min: 31 mentions arrived during it (#10–#40) and got no card of their own; `/mentions list` shows those still open. New mentions get a card again.".to_string()]
    );

    // Cards resume.
    arrive(&store, 40..41, calm + Duration::minutes(1)).await;
    outbox.drain(calm + Duration::minutes(1)).await.unwrap();
    assert_eq!(chat.take(), ["post #41".to_string()]);

    // A second storm alerts again, once, with a new summary card.
    let next = calm + Duration::hours(1);
    arrive(&store, 100..112, next).await;
    outbox.drain(next).await.unwrap();
    let log = chat.take();
    assert_eq!(starting(&log, "notice: @oncall"), 1, "{log:?}");
    assert_eq!(
        starting(&log, "summary: ⚡ Mention storm: 3 new mentions"),
        1,
        "{log:?}"
    );
    assert_eq!(starting(&log, "post #"), 9, "{log:?}");
    assert_eq!(store.count().unwrap(), 53);
}

#[tokio::test]
async fn off_without_storm_mode_every_mention_gets_a_card() {
    let store = Store::temporary(vec!["fake".into()]).unwrap();
    let (chat, outbox) = setup(&store);
    arrive(&store, 0..50, t0()).await;
    outbox.drain(t0()).await.unwrap();
    assert_eq!(starting(&chat.take(), "post #"), 50);
}

#[tokio::test]
async fn no_mention_is_lost_across_a_restart_during_a_storm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = Store::open(&path, vec!["fake".into()])
            .unwrap()
            .with_storm(mode());
        let (chat, outbox) = setup(&store);
        arrive(&store, 0..15, t0()).await;
        outbox.drain(t0()).await.unwrap();
        let log = chat.take();
        assert_eq!(starting(&log, "post #"), 9, "{log:?}");
        assert_eq!(starting(&log, "summary: "), 1, "{log:?}");
    }
    // Reopened from disk: still in the storm, the same summary card is edited.
    let store = Store::open(&path, vec!["fake".into()])
        .unwrap()
        .with_storm(mode());
    assert!(store.weather().unwrap().stormy());
    let (chat, outbox) = setup(&store);
    let now = t0() + Duration::minutes(2);
    arrive(&store, 15..20, now).await;
    outbox.drain(now).await.unwrap();
    let log = chat.take();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0]
            .starts_with("edit summary-msg: ⚡ Mention storm: 11 new mentions in 2 min (#10–#20)"),
        "{log:?}"
    );
    let numbers: Vec<u64> = store
        .list(ListFilter::All, Actor::System)
        .unwrap()
        .iter()
        .map(|t| t.number)
        .collect();
    assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
    assert_eq!(store.mention(20).unwrap().mention.text, "acme post 19");
}
