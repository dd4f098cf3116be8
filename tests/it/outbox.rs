//! The outbox delivers cards, card updates and answers in order, retries with backoff, never
//! loses an effect to an outage and never does one twice.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use earshot::chat::{Chat, ChatError};
use earshot::domain::{
    Action, Author, Cursor, Member, Mention, MentionKey, Network, State, Tracked,
};
use earshot::outbox::Outbox;
use earshot::sources::{Fetched, Posted, Source, SourceError};
use earshot::store::Store;

use crate::backend::Backend;
use tokio::sync::Notify;

/// A chat that records what it was asked to do and fails on demand.
#[derive(Default)]
struct FakeChat {
    log: Mutex<Vec<String>>,
    failures: Mutex<VecDeque<ChatError>>,
}

impl FakeChat {
    fn fail_next(&self, error: ChatError) {
        self.failures.lock().unwrap().push_back(error);
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn next_failure(&self) -> Option<ChatError> {
        self.failures.lock().unwrap().pop_front()
    }
}

#[async_trait]
impl Chat for FakeChat {
    fn name(&self) -> &str {
        "fake"
    }

    async fn post(&self, mention: &Tracked, _now: DateTime<Utc>) -> Result<String, ChatError> {
        if let Some(error) = self.next_failure() {
            return Err(error);
        }
        self.log
            .lock()
            .unwrap()
            .push(format!("post #{}", mention.number));
        Ok(format!("msg-{}", mention.number))
    }

    async fn update(
        &self,
        message: &str,
        mention: &Tracked,
        note: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), ChatError> {
        if let Some(error) = self.next_failure() {
            return Err(error);
        }
        self.log.lock().unwrap().push(format!(
            "update {message} #{}: {note} [{}]",
            mention.number,
            mention.state.describe()
        ));
        Ok(())
    }
}

/// A network that takes replies, records them with their idempotency keys, and fails on demand.
#[derive(Default)]
struct FakeNetwork {
    replies: Mutex<Vec<(String, String, String)>>,
    failures: Mutex<VecDeque<SourceError>>,
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

    async fn reply(&self, mention: &Mention, text: &str, key: &str) -> Result<Posted, SourceError> {
        if let Some(error) = self.failures.lock().unwrap().pop_front() {
            return Err(error);
        }
        self.replies.lock().unwrap().push((
            mention.key.id.clone(),
            text.to_string(),
            key.to_string(),
        ));
        Ok(Posted {
            link: Some(format!("https://masto.example/reply-to-{}", mention.key.id)),
            id: None,
        })
    }
}

fn mention(id: &str) -> Mention {
    Mention {
        key: MentionKey::new("masto", id),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: Author {
            handle: "jane".into(),
            name: None,
            profile: None,
        },
        text: "acme?".into(),
        link: None,
        created_at: DateTime::UNIX_EPOCH,
        matched: vec![],
        language: None,
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

struct Rig {
    store: Store,
    chat: Arc<FakeChat>,
    network: Arc<FakeNetwork>,
    outbox: Outbox,
}

fn rig(store: Store) -> Rig {
    let chat = Arc::new(FakeChat::default());
    let network = Arc::new(FakeNetwork::default());
    let outbox = Outbox::new(
        store.clone(),
        vec![chat.clone()],
        vec![network.clone()],
        Arc::new(Notify::new()),
    );
    Rig {
        store,
        chat,
        network,
        outbox,
    }
}

fn retry(after: Option<u64>) -> ChatError {
    ChatError::Retry {
        reason: "503 from chat".into(),
        after: after.map(Duration::from_secs),
    }
}

on_both! {
#[tokio::test]
async fn cards_are_posted_once_and_updates_edit_the_posted_message(backend) {
    let place = backend.place();
    let rig = rig(place.open(vec!["fake".into()]));
    let now = Utc::now();
    rig.store
        .ingest(
            "masto",
            &[mention("a"), mention("b")],
            &Cursor::default(),
            now,
        )
        .unwrap();
    rig.store
        .apply(1, &Member::new("U1", "jane"), &Action::Claim, now)
        .await
        .unwrap();

    let pass = rig.outbox.drain(now).await.unwrap();
    assert_eq!(pass.delivered, 3);
    assert_eq!(
        rig.chat.log(),
        vec![
            "post #1",
            "post #2",
            "update msg-1 #1: claimed by @jane [claimed by @jane]"
        ]
    );
    assert_eq!(
        rig.store.message_ref("fake", 1).unwrap().as_deref(),
        Some("msg-1")
    );
    assert_eq!(rig.store.outbox_len(), 0);

    // Nothing left: a second pass does nothing.
    assert_eq!(rig.outbox.drain(now).await.unwrap().delivered, 0);
    assert_eq!(rig.chat.log().len(), 3);
}
}

on_both! {
#[tokio::test]
async fn an_outage_delays_delivery_in_order_with_growing_backoff_and_honours_retry_after(backend) {
    let place = backend.place();
    let rig = rig(place.open(vec!["fake".into()]));
    let t0 = Utc::now();
    rig.store
        .ingest(
            "masto",
            &[mention("a"), mention("b"), mention("c")],
            &Cursor::default(),
            t0,
        )
        .unwrap();

    rig.chat.fail_next(retry(None));
    let pass = rig.outbox.drain(t0).await.unwrap();
    assert_eq!(
        pass.delivered, 0,
        "#2 and #3 wait behind #1 to keep the channel in order"
    );
    assert_eq!(pass.next_due, Some(t0 + chrono::Duration::seconds(2)));
    assert!(rig.chat.log().is_empty());

    // Still down at the retry: the wait doubles.
    let t1 = t0 + chrono::Duration::seconds(2);
    rig.chat.fail_next(retry(None));
    assert_eq!(
        rig.outbox.drain(t1).await.unwrap().next_due,
        Some(t1 + chrono::Duration::seconds(4))
    );

    // Rate limited: Retry-After wins over the shorter backoff.
    let t2 = t1 + chrono::Duration::seconds(4);
    rig.chat.fail_next(retry(Some(30)));
    assert_eq!(
        rig.outbox.drain(t2).await.unwrap().next_due,
        Some(t2 + chrono::Duration::seconds(30))
    );
    assert_eq!(
        rig.outbox
            .drain(t2 + chrono::Duration::seconds(29))
            .await
            .unwrap()
            .delivered,
        0,
        "not before Retry-After"
    );

    let back = t2 + chrono::Duration::seconds(30);
    assert_eq!(rig.outbox.drain(back).await.unwrap().delivered, 3);
    assert_eq!(rig.chat.log(), vec!["post #1", "post #2", "post #3"]);
    let entries = rig.store.outbox().unwrap();
    assert!(entries.is_empty(), "{entries:?}");
}
}

on_both! {
#[tokio::test]
async fn pending_cards_survive_a_restart_and_post_exactly_once(backend) {
    let place = backend.place();
    let now = Utc::now();
    {
        let rig = rig(place.open(vec!["fake".into()]));
        rig.store
            .ingest(
                "masto",
                &[mention("a"), mention("b")],
                &Cursor::default(),
                now,
            )
            .unwrap();
        rig.chat.fail_next(retry(None));
        rig.outbox.drain(now).await.unwrap();
        assert!(rig.chat.log().is_empty());
    }
    let rig = rig(place.open(vec!["fake".into()]));
    let later = now + chrono::Duration::minutes(5);
    assert_eq!(rig.outbox.drain(later).await.unwrap().delivered, 2);
    assert_eq!(rig.outbox.drain(later).await.unwrap().delivered, 0);
    assert_eq!(rig.chat.log(), vec!["post #1", "post #2"]);
}
}

on_both! {
#[tokio::test]
async fn a_permanent_chat_error_keeps_the_card_until_the_cause_is_fixed(backend) {
    let place = backend.place();
    let rig = rig(place.open(vec!["fake".into()]));
    let now = Utc::now();
    rig.store
        .ingest(
            "masto",
            &[mention("a"), mention("b")],
            &Cursor::default(),
            now,
        )
        .unwrap();
    rig.chat.fail_next(ChatError::Permanent(
        "Slack refused chat.postMessage: not_in_channel (invite the app)".into(),
    ));
    let pass = rig.outbox.drain(now).await.unwrap();
    assert_eq!(pass.delivered, 1, "the rest of the lane goes on");
    assert_eq!(rig.chat.log(), vec!["post #2"]);
    let kept = rig.store.outbox().unwrap();
    assert_eq!(kept.len(), 1, "the refused card is kept, not dropped");
    assert_eq!(
        kept[0].1.held.as_deref(),
        Some("Slack refused chat.postMessage: not_in_channel (invite the app)")
    );
    assert_eq!(
        pass.next_due,
        Some(now + chrono::Duration::from_std(earshot::outbox::HELD_RETRY).unwrap())
    );

    // A claim on #1 queues an update, which waits behind its card; #2's goes on.
    let jane = Member::new("U1", "jane");
    for number in [1, 2] {
        rig.store
            .apply(number, &jane, &Action::Claim, now)
            .await
            .unwrap();
    }
    let soon = now + chrono::Duration::minutes(10);
    rig.outbox.drain(soon).await.unwrap();
    assert_eq!(rig.chat.log().len(), 2, "{:?}", rig.chat.log());
    assert!(rig.chat.log()[1].starts_with("update msg-2"));

    // Someone invites the app; the long retry delivers the card, then its update, once.
    let fixed = now + chrono::Duration::minutes(31);
    rig.outbox.drain(fixed).await.unwrap();
    rig.outbox.drain(fixed).await.unwrap();
    let log = rig.chat.log();
    assert_eq!(log[2], "post #1", "{log:?}");
    assert!(log[3].starts_with("update msg-1 #1"), "{log:?}");
    assert_eq!(log.len(), 4);
    assert_eq!(rig.store.outbox_len(), 0);
}
}

on_both! {
#[tokio::test]
async fn held_and_stuck_effects_are_reported_in_status_and_the_digest(backend) {
    let place = backend.place();
    let rig = rig(place.open(vec!["fake".into()]));
    let now = Utc::now();
    rig.store
        .ingest("masto", &[mention("a")], &Cursor::default(), now)
        .unwrap();
    let healthy = earshot::status::report(&rig.store, now).unwrap();
    assert!(healthy.contains("Outbox: 1 effect waiting"), "{healthy}");
    assert!(healthy.contains("nothing held, nothing stuck"), "{healthy}");

    let reason = "Slack refused chat.postMessage: not_in_channel (check `channel` in [chat.slack] and invite the app to that channel)";
    rig.chat.fail_next(ChatError::Permanent(reason.into()));
    rig.outbox.drain(now).await.unwrap();
    let report = earshot::status::report(&rig.store, now).unwrap();
    assert!(report.contains("1 effect held since"), "{report}");
    assert!(report.contains(reason), "{report}");
    assert!(report.contains("the card for #1 in fake"), "{report}");
    let digest = earshot::digest::Digester::text(&rig.store, chrono_tz::UTC, now).unwrap();
    assert!(digest.contains("Delivery that needs a look"), "{digest}");
    assert!(digest.contains(reason), "{digest}");

    // An outage that never ends is reported too, once the entry has failed again and again.
    let elsewhere = backend.place();
    let outage = self::rig(elsewhere.open(vec!["fake".into()]));
    outage
        .store
        .ingest("masto", &[mention("b")], &Cursor::default(), now)
        .unwrap();
    let mut at = now;
    for _ in 0..earshot::outbox::STUCK_ATTEMPTS {
        outage.chat.fail_next(ChatError::Retry {
            reason: "Slack's chat.postMessage did not answer within 15s".into(),
            after: None,
        });
        outage.outbox.drain(at).await.unwrap();
        at += chrono::Duration::hours(1);
    }
    let report = earshot::status::report(&outage.store, at).unwrap();
    assert!(
        report.contains("the card for #1 in fake has failed 12 times in a row"),
        "{report}"
    );
}
}

on_both! {
#[tokio::test]
async fn held_effects_are_retried_at_start_up(backend) {
    let place = backend.place();
    let now = Utc::now();
    {
        let rig = rig(place.open(vec!["fake".into()]));
        rig.store
            .ingest("masto", &[mention("a")], &Cursor::default(), now)
            .unwrap();
        rig.chat
            .fail_next(ChatError::Permanent("invalid_auth".into()));
        rig.outbox.drain(now).await.unwrap();
        assert_eq!(rig.store.outbox_len(), 1);
        rig.store.flush().await.unwrap();
    }
    // The operator fixed the token and restarts earshot a minute later.
    let rig = rig(place.open(vec!["fake".into()]));
    let restart = now + chrono::Duration::minutes(1);
    assert_eq!(rig.outbox.drain(restart).await.unwrap().delivered, 0);
    assert_eq!(rig.outbox.retry_held(restart).await.unwrap(), 1);
    assert_eq!(rig.outbox.drain(restart).await.unwrap().delivered, 1);
    assert_eq!(rig.chat.log(), vec!["post #1"]);
}
}

on_both! {
#[tokio::test]
async fn a_rate_limit_waits_what_the_server_asks_without_growing_the_backoff(backend) {
    let place = backend.place();
    let rig = rig(place.open(vec!["fake".into()]));
    let now = Utc::now();
    rig.store
        .ingest("masto", &[mention("a")], &Cursor::default(), now)
        .unwrap();
    let limited = || ChatError::Retry {
        reason: "429".into(),
        after: Some(Duration::from_secs(1)),
    };
    let mut at = now;
    for _ in 0..30 {
        rig.chat.fail_next(limited());
        let pass = rig.outbox.drain(at).await.unwrap();
        assert_eq!(pass.delivered, 0);
        at += chrono::Duration::seconds(1);
        assert_eq!(
            pass.next_due,
            Some(at),
            "each 429 waits exactly Retry-After"
        );
    }
    assert_eq!(rig.store.outbox().unwrap()[0].1.attempts, 0);
    assert_eq!(rig.outbox.drain(at).await.unwrap().delivered, 1);

    // A hostile Retry-After cannot push the card past an hour, nor overflow the clock.
    rig.store
        .ingest("masto", &[mention("b")], &Cursor::default(), now)
        .unwrap();
    rig.chat.fail_next(ChatError::Retry {
        reason: "429".into(),
        after: Some(Duration::MAX),
    });
    let pass = rig.outbox.drain(at).await.unwrap();
    assert_eq!(pass.next_due, Some(at + chrono::Duration::hours(1)));
}
}

on_both! {
#[tokio::test]
async fn an_answer_is_delivered_once_and_the_card_shows_its_link(backend) {
    let place = backend.place();
    let rig = rig(place.open(vec!["fake".into()]));
    let now = Utc::now();
    let jane = Member::new("U1", "jane");
    rig.store
        .ingest("masto", &[mention("a")], &Cursor::default(), now)
        .unwrap();
    rig.store
        .apply(
            1,
            &jane,
            &Action::Answer {
                text: "We're on it".into(),
            },
            now,
        )
        .await
        .unwrap();

    // The network is down once; the retry carries the same idempotency key.
    rig.network
        .failures
        .lock()
        .unwrap()
        .push_back(SourceError::Retry {
            reason: "502".into(),
            after: None,
        });
    rig.outbox.drain(now).await.unwrap();
    assert!(rig.network.replies.lock().unwrap().is_empty());
    rig.outbox
        .drain(now + chrono::Duration::seconds(3))
        .await
        .unwrap();
    rig.outbox
        .drain(now + chrono::Duration::seconds(3))
        .await
        .unwrap();

    let replies = rig.network.replies.lock().unwrap().clone();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(
        (replies[0].0.as_str(), replies[0].1.as_str()),
        ("a", "We're on it")
    );
    assert!(replies[0].2.starts_with("earshot-"));

    let state = rig.store.mention(1).unwrap().state;
    assert_eq!(
        state,
        State::Answered {
            by: jane.clone().into(),
            at: now + chrono::Duration::seconds(3),
            link: Some("https://masto.example/reply-to-a".into())
        }
    );
    let log = rig.chat.log();
    assert!(
        log.last()
            .unwrap()
            .contains("answered by @jane: https://masto.example/reply-to-a"),
        "{log:?}"
    );
    assert_eq!(rig.store.outbox_len(), 0);
}
}

on_both! {
#[tokio::test]
async fn a_refused_answer_returns_to_its_author_and_the_mention_stays_claimed(backend) {
    let place = backend.place();
    let rig = rig(place.open(vec!["fake".into()]));
    let now = Utc::now();
    let jane = Member::new("U1", "jane");
    rig.store
        .ingest("masto", &[mention("a")], &Cursor::default(), now)
        .unwrap();
    rig.store
        .apply(1, &jane, &Action::Answer { text: "hi".into() }, now)
        .await
        .unwrap();
    rig.network
        .failures
        .lock()
        .unwrap()
        .push_back(SourceError::Permanent("the post was deleted".into()));
    rig.outbox.drain(now).await.unwrap();
    rig.outbox.drain(now).await.unwrap();

    let state = rig.store.mention(1).unwrap().state;
    assert!(
        matches!(state, State::Claimed { ref by, answering: false, .. } if *by == jane),
        "{state:?}"
    );
    let log = rig.chat.log();
    assert!(
        log.iter()
            .any(|line| line.contains("answer failed by @jane: the post was deleted")),
        "{log:?}"
    );
    // She can fix it and answer again.
    rig.store
        .apply(
            1,
            &jane,
            &Action::Answer {
                text: "hello again".into(),
            },
            now,
        )
        .await
        .unwrap();
}
}

on_both! {
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_draining_one_outbox_deliver_each_effect_once_and_in_order(backend) {
    let place = backend.place();
    // Two processes: on PostgreSQL each with its own connections; a sled folder opens once.
    let first = place.open(vec!["fake".into()]);
    let second = match backend {
        Backend::Sled => first.clone(),
        Backend::Postgres => place.open(vec!["fake".into()]),
    };
    let (one, two) = (rig(first), rig(second));
    let now = Utc::now();
    let batch: Vec<Mention> = (0..40).map(|i| mention(&format!("m{i}"))).collect();
    one.store.ingest("masto", &batch, &Cursor::default(), now).unwrap();
    for number in 1..=40 {
        one.store
            .apply(number, &Member::new("U1", "jane"), &Action::Claim, now)
            .await
            .unwrap();
    }
    // And the first ten answered: an answer is a lane of its own.
    for number in 1..=10 {
        let answer = Action::Answer { text: format!("thanks, {number}") };
        one.store.apply(number, &Member::new("U1", "jane"), &answer, now).await.unwrap();
    }
    for _ in 0..20 {
        let (a, b) = (one.outbox.clone(), two.outbox.clone());
        let (a, b) = tokio::join!(
            tokio::spawn(async move { a.drain(Utc::now()).await.unwrap() }),
            tokio::spawn(async move { b.drain(Utc::now()).await.unwrap() }),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        if a.delivered + b.delivered == 0 && one.store.outbox_len() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(one.store.outbox_len(), 0);
    let mut replies = one.network.replies.lock().unwrap().clone();
    replies.extend(two.network.replies.lock().unwrap().iter().cloned());
    for number in 1..=10u64 {
        let sent = replies.iter().filter(|(_, text, _)| *text == format!("thanks, {number}")).count();
        assert_eq!(sent, 1, "the answer to #{number} went out {sent} times");
    }
    assert_eq!(replies.len(), 10);
    let mut log = one.chat.log();
    log.extend(two.chat.log());
    for number in 1..=40 {
        let post = format!("post #{number}");
        // The card shows the state at delivery (answered, for the first ten).
        let claimed = format!("update msg-{number} #{number}: claimed by @jane [");
        let update = log
            .iter()
            .find(|line| line.starts_with(&claimed))
            .cloned()
            .unwrap_or(claimed);
        assert_eq!(log.iter().filter(|line| **line == post).count(), 1, "{post}");
        assert_eq!(log.iter().filter(|line| **line == update).count(), 1, "{update}");
        // The card's update comes after the card, whichever process delivered them.
        let posted_by_one = one.chat.log().contains(&post);
        let updated_by_one = one.chat.log().contains(&update);
        if posted_by_one == updated_by_one {
            let own = if posted_by_one { one.chat.log() } else { two.chat.log() };
            let at = |line: &str| own.iter().position(|l| l == line).unwrap();
            assert!(at(&post) < at(&update), "#{number} updated before posted");
        }
    }
}
}
