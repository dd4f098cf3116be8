//! Following mentions up, with an injected clock: the daily digest (once per scheduled day,
//! across restarts and daylight-saving changes), nudges and escalation in business hours,
//! snooze, stale claims, answered-detection, and the weekly report's chart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Europe::Amsterdam;
use earshot::answered::AnswerWatch;
use earshot::chat::{Chat, ChatError};
use earshot::config::FollowUp;
use earshot::desk::{Caller, Desk};
use earshot::digest::Digester;
use earshot::domain::business_hours::BusinessHours;
use earshot::domain::schedule::{parse_time, Daily};
use earshot::domain::sla::Sla;
use earshot::domain::{
    Author, Cursor, Member, MemberRef, Mention, MentionKey, Network, Status, Tracked,
};
use earshot::outbox::Outbox;
use earshot::reminders::Reminders;
use earshot::report::Reporter;
use earshot::sources::{Fetched, Source, SourceError};
use earshot::store::Store;
use tokio::sync::Notify;

/// A chat that records every kind of message it is asked to send.
#[derive(Default)]
struct FakeChat {
    log: Mutex<Vec<String>>,
    uploads: Mutex<Vec<(String, Vec<u8>)>>,
}

impl FakeChat {
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

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

    async fn nudge(
        &self,
        message: Option<&str>,
        mention: &Tracked,
        _text: &str,
        ping: &[String],
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        let message = message.unwrap_or("(no card)");
        self.push(format!("nudge #{} in {message} {ping:?}", mention.number));
        Ok(())
    }

    async fn notify_member(
        &self,
        member: &Member,
        _message: Option<&str>,
        mention: &Tracked,
        _text: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.push(format!("remind {member} #{}", mention.number));
        Ok(())
    }

    async fn upload(
        &self,
        file_name: &str,
        bytes: &[u8],
        caption: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        self.push(format!(
            "upload {file_name}: {}",
            caption.lines().next().unwrap_or_default()
        ));
        self.uploads
            .lock()
            .unwrap()
            .push((file_name.to_string(), bytes.to_vec()));
        Ok(())
    }
}

/// A network whose threads show the brand's reply under the posts listed in `answered`.
struct FakeNetwork {
    answered: Vec<String>,
}

#[async_trait]
impl Source for FakeNetwork {
    fn name(&self) -> &str {
        "masto"
    }

    fn network(&self) -> Network {
        earshot::sources::mastodon::TRAITS.network()
    }

    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        Ok(Fetched {
            mentions: vec![],
            cursor: cursor.clone(),
            ..Fetched::default()
        })
    }

    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        Ok(self.answered.contains(&mention.key.id).then(|| {
            format!(
                "reply by @acme: https://masto.example/@acme/{}",
                mention.key.id
            )
        }))
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn mention(id: &str, text: &str) -> Mention {
    Mention {
        key: MentionKey::new("masto", id),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: Author {
            handle: format!("user{id}"),
            name: None,
            profile: None,
        },
        text: text.into(),
        link: None,
        created_at: DateTime::UNIX_EPOCH,
        matched: vec![],
        language: None,
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

fn outbox(store: &Store, chat: &Arc<FakeChat>, sources: Vec<Arc<dyn Source>>) -> Outbox {
    Outbox::new(
        store.clone(),
        vec![chat.clone()],
        sources,
        Arc::new(Notify::new()),
    )
}

fn weekdays_at_nine() -> Daily {
    Daily {
        at: parse_time("09:00").unwrap(),
        timezone: Amsterdam,
        days: vec![
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ],
    }
}

fn office() -> BusinessHours {
    BusinessHours::parse("mon-fri 09:00-17:00", Amsterdam).unwrap()
}

fn sla(release: Option<chrono::Duration>) -> Sla {
    Sla {
        claim_within: chrono::Duration::minutes(30),
        answer_within: chrono::Duration::hours(4),
        hours: office(),
        escalate_to: vec!["@oncall".into()],
        release_claims_after: release,
    }
}

fn desk(store: &Store) -> Desk {
    Desk::new(store.clone(), "/mentions".into(), Arc::new(Notify::new())).with_follow_up(FollowUp {
        timezone: Amsterdam,
        hours: office(),
        ..FollowUp::default()
    })
}

async fn say(desk: &Desk, who: &str, text: &str, now: DateTime<Utc>) -> String {
    let resolve = |who: &MemberRef| Member::new(who.0.clone(), who.0.clone());
    desk.handle(
        &Caller::new(Member::new(who, who), "shell"),
        text,
        &resolve,
        now,
    )
    .await
    .text
}

/// Ticks the digest at `at` and returns whether it was queued.
async fn digest_at(store: &Store, at: &str) -> bool {
    Digester::new(store.clone(), weekdays_at_nine())
        .tick(utc(at))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_digest_goes_out_once_per_scheduled_day_across_restarts_and_dst() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = Store::open(&path, vec!["fake".into()]).unwrap();
    let found = utc("2026-03-26T10:00:00Z");
    store
        .ingest(
            "masto",
            &[
                mention("a", "Acme coffee is fine"),
                mention("b", "Acme lid broken, I want a refund"),
                mention("c", "acme?"),
            ],
            &Cursor::default(),
            found,
        )
        .unwrap();
    store
        .apply(
            3,
            &Member::new("jane", "jane"),
            &earshot::domain::Action::Claim,
            found,
        )
        .await
        .unwrap();
    store
        .record_poll("reddit", Err("503 from reddit".into()), found)
        .unwrap();

    // Friday 2026-03-27, CET: 09:00 is 08:00 UTC.
    assert!(!digest_at(&store, "2026-03-27T07:59:00Z").await);
    assert!(digest_at(&store, "2026-03-27T08:00:00Z").await);
    assert!(!digest_at(&store, "2026-03-27T08:01:00Z").await);

    let chat = Arc::new(FakeChat::default());
    outbox(&store, &chat, vec![])
        .drain(utc("2026-03-27T08:00:00Z"))
        .await
        .unwrap();
    let notices: Vec<String> = chat
        .take()
        .into_iter()
        .filter(|line| line.starts_with("notice"))
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let text = &notices[0];
    assert!(
        text.starts_with("notice: Daily digest for Friday 27 March 2026"),
        "{text}"
    );
    let complaint = text.find("#2 ").expect("complaint listed");
    let older = text.find("#1 ").expect("plain one listed");
    assert!(complaint < older, "complaints first: {text}");
    assert!(text.contains("Unclaimed (2):"), "{text}");
    assert!(
        text.contains("(likely complaint: damaged (\"broken\"), money (\"refund\"))"),
        "{text}"
    );
    assert!(
        text.contains("Claimed, not answered yet:\n  @jane (1):\n    #3 "),
        "{text}"
    );
    assert!(text.contains("Yesterday: 3 new, 0 answered."), "{text}");
    assert!(
        text.contains("reddit is failing (1 poll(s) in a row"),
        "{text}"
    );

    // A restart later that day: the sent date is on disk.
    drop(store);
    let store = Store::open(&path, vec!["fake".into()]).unwrap();
    assert!(!digest_at(&store, "2026-03-27T15:00:00Z").await);
    // Not on Saturday; Monday after the March switch (CEST): 09:00 is 07:00 UTC.
    assert!(!digest_at(&store, "2026-03-28T08:00:00Z").await);
    assert!(!digest_at(&store, "2026-03-30T06:59:00Z").await);
    assert!(digest_at(&store, "2026-03-30T07:00:00Z").await);
    // October: Friday still CEST, Monday after the switch CET again.
    assert!(digest_at(&store, "2026-10-23T07:00:00Z").await);
    assert!(!digest_at(&store, "2026-10-26T07:00:00Z").await);
    assert!(digest_at(&store, "2026-10-26T08:00:00Z").await);
    // Down at nine on Tuesday, started at three: that day's digest goes out then, once.
    assert!(digest_at(&store, "2026-10-27T14:00:00Z").await);
    drop(store);
    let store = Store::open(&path, vec!["fake".into()]).unwrap();
    assert!(!digest_at(&store, "2026-10-27T14:05:00Z").await);
    let digests = store.outbox().unwrap().len();
    assert_eq!(digests, 4, "one per scheduled day, none doubled");
}

#[tokio::test]
async fn an_empty_store_gets_an_all_clear_digest_and_digest_shows_it_to_the_caller() {
    let store = Store::temporary(vec!["fake".into()]).unwrap();
    let now = utc("2026-03-27T08:00:00Z");
    let text = say(&desk(&store), "jane", "digest", now).await;
    assert!(
        text.contains("All clear: nothing is owed an answer."),
        "{text}"
    );
    assert!(text.contains("Sources: all working."), "{text}");
    assert_eq!(
        store.outbox_len(),
        0,
        "`digest` is shown to the caller, not queued"
    );
}

#[tokio::test]
async fn nudges_escalate_in_business_hours_and_stop_when_snoozed_or_claimed() {
    let store = Store::temporary(vec!["fake".into()]).unwrap();
    let chat = Arc::new(FakeChat::default());
    let outbox = outbox(&store, &chat, vec![]);
    // Friday 2026-03-20 16:00 in Amsterdam.
    store
        .ingest(
            "masto",
            &[mention("a", "acme")],
            &Cursor::default(),
            utc("2026-03-20T15:00:00Z"),
        )
        .unwrap();
    let reminders = Reminders::new(store.clone(), sla(None), "/mentions".into());
    let desk = desk(&store);
    let tick = |at: &'static str| {
        let reminders = &reminders;
        let outbox = &outbox;
        async move {
            let count = reminders.tick(utc(at)).await.unwrap();
            outbox.drain(utc(at)).await.unwrap();
            count
        }
    };
    tick("2026-03-20T15:00:00Z").await;
    chat.take();

    assert_eq!(tick("2026-03-20T15:29:00Z").await, 0);
    assert_eq!(tick("2026-03-20T15:30:00Z").await, 1);
    assert_eq!(chat.take(), vec!["nudge #1 in msg-1 []"]);
    assert_eq!(tick("2026-03-20T15:31:00Z").await, 0);
    // The weekend does not count: 90 business minutes are reached on Monday at 09:30.
    assert_eq!(tick("2026-03-23T08:29:00Z").await, 0);
    assert_eq!(tick("2026-03-23T08:30:00Z").await, 1);
    assert_eq!(chat.take(), vec!["nudge #1 in msg-1 [\"@oncall\"]"]);

    // Snoozed until tomorrow morning: the 11:30 nudge is held back until Tuesday 09:00.
    let reply = say(
        &desk,
        "jane",
        "snooze 1 tomorrow",
        utc("2026-03-23T09:00:00Z"),
    )
    .await;
    assert_eq!(
        reply,
        "#1 is snoozed: no reminders until Tue 2026-03-24 09:00 CET."
    );
    // The snooze is a step in the mention's history, noted on the card like every other.
    let shown = say(&desk, "bob", "show 1", utc("2026-03-23T09:01:00Z")).await;
    assert!(
        shown.contains("2026-03-23 09:00 UTC snoozed by @jane: until 2026-03-24 08:00 UTC"),
        "{shown}"
    );
    assert_eq!(tick("2026-03-23T10:30:00Z").await, 0);
    assert_eq!(
        chat.take(),
        vec!["update #1: snoozed by @jane: until 2026-03-24 08:00 UTC"]
    );
    assert_eq!(tick("2026-03-24T07:59:00Z").await, 0);
    assert_eq!(tick("2026-03-24T08:00:00Z").await, 1);
    assert_eq!(chat.take(), vec!["nudge #1 in msg-1 [\"@oncall\"]"]);

    // Claimed: no more nudges; four business hours later the owner is reminded, once.
    say(&desk, "jane", "claim 1", utc("2026-03-24T08:05:00Z")).await;
    chat.take();
    assert_eq!(tick("2026-03-24T12:04:00Z").await, 0);
    assert_eq!(tick("2026-03-24T12:05:00Z").await, 1);
    assert_eq!(tick("2026-03-24T12:06:00Z").await, 0);
    let log = chat.take();
    assert!(log.iter().any(|line| line == "remind @jane #1"), "{log:?}");
    assert!(!log.iter().any(|line| line.starts_with("nudge")), "{log:?}");

    assert!(
        say(&desk, "jane", "snooze 9 2h", utc("2026-03-24T12:06:00Z"))
            .await
            .starts_with("There is no mention #9")
    );
    assert!(say(
        &desk,
        "jane",
        "snooze 1 2020-01-01",
        utc("2026-03-24T12:06:00Z")
    )
    .await
    .contains("has passed"));
    // Closed mentions have no reminders to silence: the lifecycle says so.
    say(&desk, "jane", "done 1", utc("2026-03-24T12:07:00Z")).await;
    assert!(
        say(&desk, "jane", "snooze 1 2h", utc("2026-03-24T12:08:00Z"))
            .await
            .starts_with("#1 is done by @jane. Use `reopen 1` first")
    );
}

#[tokio::test]
async fn stale_claims_are_released_only_when_configured() {
    let store = Store::temporary(vec!["fake".into()]).unwrap();
    store
        .ingest(
            "masto",
            &[mention("a", "acme")],
            &Cursor::default(),
            utc("2026-03-23T08:00:00Z"),
        )
        .unwrap();
    store
        .apply(
            1,
            &Member::new("bob", "bob"),
            &earshot::domain::Action::Claim,
            utc("2026-03-23T08:00:00Z"),
        )
        .await
        .unwrap();
    let keeping = Reminders::new(store.clone(), sla(None), "/mentions".into());
    keeping.tick(utc("2026-04-24T08:00:00Z")).await.unwrap();
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Claimed);
    let releasing = Reminders::new(
        store.clone(),
        sla(Some(chrono::Duration::hours(10))),
        "/mentions".into(),
    );
    // Monday 09:00 to Tuesday 11:00 is ten business hours (eight on Monday, two on Tuesday).
    releasing.tick(utc("2026-03-24T09:59:00Z")).await.unwrap();
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Claimed);
    releasing.tick(utc("2026-03-24T10:00:00Z")).await.unwrap();
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Open);
    let last = store.history(1).unwrap().pop().unwrap();
    assert_eq!(
        last.summary(),
        "released by earshot: held too long without an answer"
    );
}

#[tokio::test]
async fn an_answer_made_on_the_network_closes_the_mention_and_says_how() {
    let store = Store::temporary(vec!["fake".into()]).unwrap();
    store
        .ingest(
            "masto",
            &[mention("a", "acme?"), mention("b", "acme!")],
            &Cursor::default(),
            utc("2026-03-23T08:00:00Z"),
        )
        .unwrap();
    let network: Arc<dyn Source> = Arc::new(FakeNetwork {
        answered: vec!["a".into()],
    });
    let watch = AnswerWatch::new(store.clone(), vec![network]);
    assert_eq!(watch.tick(utc("2026-03-23T09:00:00Z")).await.unwrap(), 1);
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Answered);
    assert_eq!(store.mention(2).unwrap().state.status(), Status::Open);
    let last = store.history(1).unwrap().pop().unwrap();
    assert_eq!(last.summary(), "answered by earshot: answered outside earshot: reply by @acme: https://masto.example/@acme/a");
    // Nothing left to find.
    assert_eq!(watch.tick(utc("2026-03-23T09:15:00Z")).await.unwrap(), 0);
}

#[tokio::test]
async fn stats_list_and_the_weekly_report_tell_the_truth() {
    let store = Store::temporary(vec!["fake".into()]).unwrap();
    let desk = desk(&store);
    let monday = utc("2026-03-16T08:00:00Z");
    store
        .ingest(
            "masto",
            &[mention("a", "acme"), mention("b", "acme scam, klacht!")],
            &Cursor::default(),
            monday,
        )
        .unwrap();
    say(
        &desk,
        "jane",
        "claim 1",
        monday + chrono::Duration::minutes(10),
    )
    .await;
    say(
        &desk,
        "jane",
        "done 1 replied",
        monday + chrono::Duration::minutes(40),
    )
    .await;

    let list = say(
        &desk,
        "bob",
        "list all",
        monday + chrono::Duration::hours(1),
    )
    .await;
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[1].starts_with("⚠ #2 "), "complaints first: {list}");
    assert!(lines[2].starts_with("#1 "), "{list}");

    let stats = say(&desk, "bob", "stats 7d", utc("2026-03-20T08:00:00Z")).await;
    assert!(stats.contains("All: 2 received, 1 answered (50%), 0 ignored; time to claim median 10 min / p90 10 min; time to answer median 40 min / p90 40 min"), "{stats}");
    assert!(
        stats.contains("@jane: 1 answered, median 40 min"),
        "{stats}"
    );
    assert!(say(&desk, "bob", "stats 30d", utc("2026-05-20T08:00:00Z"))
        .await
        .contains("All: 0 received"));

    let weekly = Daily {
        days: vec![Weekday::Mon],
        ..weekdays_at_nine()
    };
    let reporter = Reporter::new(store.clone(), weekly);
    let next_monday = utc("2026-03-23T08:00:00Z");
    assert!(!reporter.tick(utc("2026-03-22T08:00:00Z")).await.unwrap());
    assert!(reporter.tick(next_monday).await.unwrap());
    assert!(!reporter
        .tick(next_monday + chrono::Duration::hours(1))
        .await
        .unwrap());
    let chat = Arc::new(FakeChat::default());
    outbox(&store, &chat, vec![])
        .drain(next_monday)
        .await
        .unwrap();
    assert!(chat.log().iter().any(|line| line == "upload earshot-report-2026-03-23.png: Weekly report: 2026-03-16 08:00 – 2026-03-23 08:00 UTC"), "{:?}", chat.log());
    let uploads = chat.uploads.lock().unwrap().clone();
    assert_eq!(uploads.len(), 1);
    let decoder = png::Decoder::new(uploads[0].1.as_slice());
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (800, 400));
}
