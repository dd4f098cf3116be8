//! The Trustpilot source against a look-alike of its API (`fake.rs`): reviews relayed once with
//! their stars, edits by `updatedAt`, company replies that replace each other, the
//! client-credentials token kept in the store across restarts and renewed only when due, and
//! refusals worded for the operator.

mod fake;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use earshot::domain::State;
use earshot::net::{Clock, Secret};
use earshot::sources::trustpilot::{Settings, Trustpilot};
use earshot::store::Store;

use crate::review_rig::Rig;
use fake::{FakeTrustpilot, ReviewRow, KEY, SECRET, UNIT, USER};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

async fn started() -> (FakeTrustpilot, Clock, Arc<Mutex<DateTime<Utc>>>) {
    let now = Arc::new(Mutex::new(Utc::now()));
    let reading = now.clone();
    let clock: Clock = Arc::new(move || *reading.lock().unwrap());
    (FakeTrustpilot::start(now.clone()).await, clock, now)
}

fn rig(fake: &FakeTrustpilot, clock: &Clock, store: Store) -> Rig<Trustpilot> {
    let settings = Settings {
        business_unit_id: UNIT.into(),
        api_key: Secret::new(KEY),
        api_secret: Secret::new(SECRET),
        business_user_id: USER.into(),
        api_url: fake.url.clone(),
    };
    let source = Trustpilot::new(
        "trustpilot".into(),
        settings,
        Duration::from_secs(900),
        reqwest::Client::new(),
    )
    .with_credentials(store.credentials("trustpilot"))
    .with_clock(clock.clone());
    Rig::new(store, source)
}

fn row(id: &str, stars: u8, text: &str, created: &str) -> ReviewRow {
    ReviewRow {
        id: id.into(),
        stars,
        title: format!("Title {id}"),
        text: text.into(),
        name: format!("Klant {id}"),
        created: at(created),
        updated: None,
    }
}

fn temporary() -> Store {
    Store::temporary(vec!["fake".into()]).unwrap()
}

#[tokio::test]
async fn reviews_are_relayed_once_across_restarts_and_the_token_is_kept() {
    let (fake, clock, _) = started().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    fake.review(row("t1", 1, "Nooit aangekomen", "2026-12-01T08:00:00Z"));
    fake.review(row("t2", 5, "", "2026-12-01T09:00:00Z"));
    fake.review(row("t3", 4, "vacature: wij zoeken", "2026-12-01T10:00:00Z"));
    {
        let rig = rig(
            &fake,
            &clock,
            Store::open(&path, vec!["fake".into()]).unwrap(),
        );
        assert_eq!(
            rig.poll().await,
            2,
            "no keyword needed; exclude still applies"
        );
        assert_eq!(rig.poll().await, 0, "a re-read is no news");
        rig.drain().await;
        let cards = rig.cards();
        let first = cards.iter().find(|card| card.contains("Klant t1")).unwrap();
        assert!(first.contains("★☆☆☆☆ 1/5 · Acme"), "{first}");
        assert!(first.contains("Title t1"), "{first}");
        assert!(first.contains("Nooit aangekomen"), "{first}");
        assert!(
            first.contains("https://www.trustpilot.com/reviews/t1"),
            "{first}"
        );
        let list = rig.say("jane", "list").await;
        let lines: Vec<&str> = list.lines().skip(1).collect();
        assert!(lines[0].contains("★☆☆☆☆ 1/5 · Nooit aangekomen"), "{list}");
        assert_eq!(fake.issued(), 1, "one token for both polls");
    }
    // A restart and a busy day: 120 new reviews, more than a page of 100.
    for n in 0..120 {
        fake.review(row(
            &format!("n{n:03}"),
            3,
            "Prima",
            &format!("2026-12-02T{:02}:{:02}:00Z", n / 60, n % 60),
        ));
    }
    let rig = rig(
        &fake,
        &clock,
        Store::open(&path, vec!["fake".into()]).unwrap(),
    );
    assert_eq!(
        rig.poll().await,
        120,
        "only the new reviews after a restart"
    );
    assert_eq!(rig.store.count().unwrap(), 122);
    assert_eq!(
        fake.issued(),
        1,
        "the stored token is used after the restart, not asked for again"
    );
    assert_eq!(rig.last_error(), None);
}

#[tokio::test]
async fn an_edited_review_updates_its_card_and_reopens_an_answered_mention() {
    let (fake, clock, _) = started().await;
    fake.review(row("t1", 2, "Deksel lekt", "2026-12-01T08:00:00Z"));
    let rig = rig(&fake, &clock, temporary());
    rig.poll().await;
    rig.say("jane", "claim 1").await;
    rig.say("jane", "answer 1 Sorry! Nieuwe deksels komen eraan.")
        .await;
    rig.drain().await;
    assert!(matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    assert_eq!(fake.replies()["t1"], "Sorry! Nieuwe deksels komen eraan.");
    assert_eq!(fake.posts()[0]["authorBusinessUserId"], USER);
    assert_eq!(
        rig.poll().await,
        0,
        "earshot's own reply read back is no news"
    );

    let mut edited = row("t1", 4, "Nieuwe deksels zijn goed", "2026-12-01T08:00:00Z");
    edited.updated = Some(at("2026-12-03T08:00:00Z"));
    fake.review(edited);
    assert_eq!(rig.poll().await, 1);
    let tracked = rig.store.mention(1).unwrap();
    assert_eq!(
        tracked.state,
        State::Open,
        "reopened so the new text gets an answer"
    );
    assert_eq!(
        rig.store.history(1).unwrap().last().unwrap().summary(),
        "reopened by earshot: edited: 2★ → 4★, new text"
    );
    rig.drain().await;
    let update = rig.cards().last().cloned().unwrap();
    assert!(update.contains("★★★★☆ 4/5"), "{update}");
    assert!(update.contains("Nieuwe deksels zijn goed"), "{update}");
}

#[tokio::test]
async fn replying_is_an_upsert_and_a_retry_after_a_lost_response_leaves_one() {
    let (fake, clock, now) = started().await;
    fake.review(row("t1", 1, "Kapot", "2026-12-01T08:00:00Z"));
    let rig = rig(&fake, &clock, temporary());
    rig.poll().await;
    rig.say("jane", "claim 1").await;
    rig.say("jane", "answer 1 We sturen een nieuwe.").await;
    fake.lose_next_reply();
    rig.drain().await;
    assert!(!matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    *now.lock().unwrap() += chrono::Duration::minutes(2);
    rig.drain_at(Utc::now() + chrono::Duration::hours(2)).await;
    assert!(matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    assert_eq!(fake.posts().len(), 2, "posted twice");
    let replies = fake.replies();
    assert_eq!(replies.len(), 1, "one reply under the review");
    assert_eq!(replies["t1"], "We sturen een nieuwe.");
}

#[tokio::test]
async fn an_outside_reply_answers_the_review_and_is_shown_before_replacing() {
    let (fake, clock, _) = started().await;
    fake.review(row("t1", 1, "Kapot", "2026-12-01T08:00:00Z"));
    fake.reply_outside("t1", "Excuses, al opgelost!");
    let rig = rig(&fake, &clock, temporary());
    rig.poll().await;
    assert!(matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    let note = rig.store.history(1).unwrap().last().unwrap().summary();
    assert!(
        note.contains("answered outside earshot: reply on Trustpilot: “Excuses, al opgelost!”"),
        "{note}"
    );
    let reopened = rig.say("jane", "reopen 1").await;
    assert!(
        reopened.contains("It replaces the reply on Trustpilot now: “Excuses, al opgelost!”"),
        "{reopened}"
    );
    rig.say("jane", "answer 1 Opgelost in de nieuwe versie.")
        .await;
    rig.drain().await;
    let replies = fake.replies();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies["t1"], "Opgelost in de nieuwe versie.");
}

#[tokio::test]
async fn tokens_are_renewed_near_expiry_or_after_a_refusal_but_never_in_a_loop() {
    let (fake, clock, now) = started().await;
    fake.review(row("t1", 3, "Prima", "2026-12-01T08:00:00Z"));
    let rig = rig(&fake, &clock, temporary());
    rig.poll().await;
    assert_eq!(fake.issued(), 1);
    *now.lock().unwrap() += chrono::Duration::hours(98);
    rig.poll().await;
    assert_eq!(fake.issued(), 1, "days old and still good: kept");
    *now.lock().unwrap() += chrono::Duration::minutes(61);
    rig.poll().await;
    assert_eq!(fake.issued(), 2, "within the hour before expiry: renewed");
    assert_eq!(rig.last_error(), None);

    // Trustpilot refuses a token before its time: one new token, and the poll goes on.
    *now.lock().unwrap() += chrono::Duration::minutes(30);
    fake.revoke_tokens();
    rig.poll().await;
    assert_eq!(fake.issued(), 3);
    assert_eq!(rig.last_error(), None);

    // Refusing a brand-new token: asking again would be refused too, so it is not asked.
    fake.revoke_tokens();
    rig.poll().await;
    assert_eq!(
        fake.issued(),
        3,
        "no new token for a refusal minutes after the last"
    );
    let error = rig.last_error().unwrap();
    assert!(
        error.contains("Trustpilot refused the token it issued"),
        "{error}"
    );
    assert!(error.contains("business_unit_id"), "{error}");
}

#[tokio::test]
async fn a_refused_key_reaches_the_operator_with_what_to_fix() {
    let (fake, clock, _) = started().await;
    fake.review(row("t1", 3, "Prima", "2026-12-01T08:00:00Z"));
    fake.refuse_key(true);
    let rig = rig(&fake, &clock, temporary());
    assert_eq!(rig.poll().await, 0);
    let error = rig.last_error().unwrap();
    assert!(
        error.contains("Trustpilot refused the API key and secret of source `trustpilot`"),
        "{error}"
    );
    assert!(error.contains("Invalid ApiKey"), "{error}");
    assert!(
        error.contains("check `api_key` and `api_secret`"),
        "{error}"
    );
    fake.refuse_key(false);
    assert_eq!(rig.poll().await, 1, "fixed: the poll goes on");
}
