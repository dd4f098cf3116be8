//! The App Store source against a look-alike of App Store Connect (`fake.rs`): reviews relayed
//! once with their stars, edits found by re-reading, responses that replace each other, the
//! ES256 token checked on the fake's side and renewed, the key's hourly budget, and refusals
//! worded for the operator.

mod fake;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use earshot::domain::State;
use earshot::net::{Clock, Secret};
use earshot::sources::app_store::{AppStore, Settings};
use earshot::store::Store;

use crate::review_rig::Rig;
use fake::{FakeAsc, ReviewRow, APP_ID, ISSUER, KEY_ID};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn clock() -> (Clock, Arc<Mutex<DateTime<Utc>>>) {
    let now = Arc::new(Mutex::new(Utc::now()));
    let reading = now.clone();
    (Arc::new(move || *reading.lock().unwrap()), now)
}

fn source(fake: &FakeAsc, clock: &Clock) -> AppStore {
    let key_file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/app_store/AuthKey_TEST000001.p8");
    let settings = Settings {
        app_id: APP_ID.into(),
        issuer_id: ISSUER.into(),
        key_id: KEY_ID.into(),
        private_key: Secret::new(std::fs::read_to_string(&key_file).unwrap()),
        key_file,
        api_url: fake.url.clone(),
    };
    AppStore::new(
        "app-store".into(),
        settings,
        Duration::from_secs(1800),
        reqwest::Client::new(),
    )
    .with_clock(clock.clone())
}

fn row(id: &str, rating: u8, body: &str, created: &str) -> ReviewRow {
    ReviewRow {
        id: id.into(),
        rating,
        title: format!("Title {id}"),
        body: body.into(),
        nickname: format!("Reviewer {id}"),
        created: at(created),
        territory: "NLD".into(),
    }
}

async fn started() -> (FakeAsc, Clock, Arc<Mutex<DateTime<Utc>>>) {
    let (clock, now) = clock();
    (FakeAsc::start(now.clone()).await, clock, now)
}

fn review_pages(fake: &FakeAsc) -> usize {
    fake.requests()
        .iter()
        .filter(|request| request.ends_with("/customerReviews"))
        .count()
}

#[tokio::test]
async fn reviews_are_relayed_once_across_restarts_with_their_stars_and_a_one_star_first() {
    let (fake, clock, _) = started().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    // The one-star review is the oldest: only its rating brings it first.
    fake.review(row("r1", 1, "Crashes on start", "2026-12-01T08:00:00Z"));
    fake.review(row("r2", 5, "", "2026-12-01T09:00:00Z"));
    fake.review(row("r3", 4, "Nice, acme", "2026-12-01T10:00:00Z"));
    {
        let rig = Rig::new(
            Store::open(&path, vec!["fake".into()]).unwrap(),
            source(&fake, &clock),
        );
        assert_eq!(rig.poll().await, 3, "no keyword needed");
        assert_eq!(rig.poll().await, 0, "a re-read is no news");
        rig.drain().await;
        let cards = rig.cards();
        assert_eq!(cards.len(), 3, "{cards:#?}");
        let first = cards
            .iter()
            .find(|card| card.contains("Reviewer r1"))
            .unwrap();
        assert!(first.contains("★☆☆☆☆ 1/5 · Acme Coffee · NLD"), "{first}");
        assert!(first.contains("Title r1"), "{first}");
        assert!(first.contains("Crashes on start"), "{first}");
        assert!(first.contains("likely complaint: 1★ review"), "{first}");
        let stars_only = cards
            .iter()
            .find(|card| card.contains("Reviewer r2"))
            .unwrap();
        assert!(stars_only.contains("★★★★★ 5/5"), "{stars_only}");
        assert!(stars_only.contains("(no text)"), "{stars_only}");

        let list = rig.say("jane", "list").await;
        let lines: Vec<&str> = list.lines().skip(1).collect();
        assert!(lines[0].contains("★☆☆☆☆ 1/5 · Crashes on start"), "{list}");
        assert!(fake.refused().is_empty(), "{:?}", fake.refused());
        assert!(!fake.accepted().is_empty(), "every request carried a token");
        assert!(
            fake.requests().contains(&format!("GET /v1/apps/{APP_ID}")),
            "the app's name is read once"
        );
    }
    // A restart, and a busy day: 201 new reviews, more than one page of 200.
    for n in 0..201 {
        fake.review(row(
            &format!("n{n:03}"),
            3,
            "Okay",
            &format!("2026-12-02T{:02}:{:02}:00Z", n / 60, n % 60),
        ));
    }
    let pages_before = review_pages(&fake);
    let rig = Rig::new(
        Store::open(&path, vec!["fake".into()]).unwrap(),
        source(&fake, &clock),
    );
    assert_eq!(
        rig.poll().await,
        201,
        "only the new reviews after a restart"
    );
    assert_eq!(rig.store.count().unwrap(), 204);
    assert_eq!(
        review_pages(&fake) - pages_before,
        2,
        "links.next followed to the known reviews"
    );
    assert_eq!(rig.last_error(), None);
    let oldest = rig.store.mention(3).unwrap().mention;
    assert_eq!(
        oldest.key.id, "r1",
        "numbered in the order read, newest first"
    );
    assert_eq!(oldest.review.unwrap().rating.stars(), 1);
}

#[tokio::test]
async fn an_edited_review_updates_its_card_and_reopens_an_answered_mention() {
    let (fake, clock, _) = started().await;
    fake.review(row("r1", 2, "Lids leak", "2026-12-01T08:00:00Z"));
    let rig = Rig::new(
        Store::temporary(vec!["fake".into()]).unwrap(),
        source(&fake, &clock),
    );
    rig.poll().await;
    rig.say("jane", "claim 1").await;
    rig.say("jane", "answer 1 Sorry! New lids ship next week.")
        .await;
    rig.drain().await;
    assert!(matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    assert_eq!(
        fake.responses()["r1"].body,
        "Sorry! New lids ship next week.",
        "the developer response is on the review"
    );
    assert_eq!(
        rig.poll().await,
        0,
        "earshot's own response read back is no news"
    );

    // App Store Connect has no update time: the edit is found by reading the review again.
    let mut edited = row("r1", 4, "New lids are fine now", "2026-12-01T08:00:00Z");
    edited.title = "Better".into();
    fake.review(edited);
    assert_eq!(rig.poll().await, 1);
    let tracked = rig.store.mention(1).unwrap();
    assert_eq!(
        tracked.state,
        State::Open,
        "reopened so the new text gets an answer"
    );
    assert_eq!(tracked.mention.text, "New lids are fine now");
    assert_eq!(
        rig.store.history(1).unwrap().last().unwrap().summary(),
        "reopened by earshot: edited: 2★ → 4★, new title, new text"
    );
    rig.drain().await;
    let update = rig.cards().last().cloned().unwrap();
    assert!(
        update.starts_with("update #1: reopened by earshot: edited: 2★ → 4★"),
        "{update}"
    );
    assert!(update.contains("★★★★☆ 4/5"), "{update}");
    assert!(update.contains("New lids are fine now"), "{update}");
}

#[tokio::test]
async fn answering_is_an_upsert_and_a_retry_after_a_lost_response_leaves_one() {
    let (fake, clock, now) = started().await;
    fake.review(row("r1", 1, "Broken", "2026-12-01T08:00:00Z"));
    let rig = Rig::new(
        Store::temporary(vec!["fake".into()]).unwrap(),
        source(&fake, &clock),
    );
    rig.poll().await;
    rig.drain().await;
    rig.say("jane", "claim 1").await;
    rig.say("jane", "answer 1 Fixed in 2.4").await;
    // Apple stores the response, but its answer is lost: the outbox tries again later.
    fake.lose_next_post();
    rig.drain().await;
    assert!(!matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    // The 500 paused the source's requests for a minute (by its clock) and the outbox's entry
    // (by the outbox's).
    *now.lock().unwrap() += chrono::Duration::minutes(2);
    rig.drain_at(Utc::now() + chrono::Duration::hours(2)).await;
    assert!(matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    assert_eq!(
        fake.posts(),
        vec!["Fixed in 2.4", "Fixed in 2.4"],
        "posted twice"
    );
    let responses = fake.responses();
    assert_eq!(responses.len(), 1, "one response under the review");
    assert_eq!(responses["r1"].body, "Fixed in 2.4");

    // Apple refusing to overwrite a pending response: it is deleted and the answer re-posted.
    fake.conflict_on_overwrite();
    rig.say("jane", "reopen 1").await;
    rig.say("jane", "answer 1 Fixed for good in 2.5").await;
    rig.drain_at(Utc::now() + chrono::Duration::hours(4)).await;
    assert!(matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    let responses = fake.responses();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses["r1"].body, "Fixed for good in 2.5");
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.starts_with("DELETE /v1/customerReviewResponses/")),
        "{:?}",
        fake.requests()
    );
}

#[tokio::test]
async fn an_outside_response_answers_the_review_and_is_shown_before_replacing() {
    let (fake, clock, _) = started().await;
    fake.review(row("r1", 1, "Broken", "2026-12-01T08:00:00Z"));
    fake.respond_outside("r1", "Fixed in 2.4, sorry!");
    let rig = Rig::new(
        Store::temporary(vec!["fake".into()]).unwrap(),
        source(&fake, &clock),
    );
    rig.poll().await;
    assert!(matches!(
        rig.store.mention(1).unwrap().state,
        State::Answered { .. }
    ));
    let note = rig.store.history(1).unwrap().last().unwrap().summary();
    assert!(
        note.contains("answered outside earshot: reply on App Store: “Fixed in 2.4, sorry!”"),
        "{note}"
    );
    let refused = rig.say("jane", "answer 1 Try 2.5").await;
    assert!(refused.contains("reopen 1"), "{refused}");
    let reopened = rig.say("jane", "reopen 1").await;
    assert!(
        reopened.contains("It replaces the reply on App Store now: “Fixed in 2.4, sorry!”"),
        "{reopened}"
    );
    let answered = rig.say("jane", "answer 1 Fixed for good in 2.5").await;
    assert!(answered.contains("“Fixed in 2.4, sorry!”"), "{answered}");
    rig.drain().await;
    let responses = fake.responses();
    assert_eq!(responses.len(), 1);
    assert_eq!(responses["r1"].body, "Fixed for good in 2.5");
}

#[tokio::test]
async fn tokens_are_renewed_before_they_lapse_and_once_when_refused() {
    let (fake, clock, now) = started().await;
    fake.review(row("r1", 3, "Fine", "2026-12-01T08:00:00Z"));
    let rig = Rig::new(
        Store::temporary(vec!["fake".into()]).unwrap(),
        source(&fake, &clock),
    );
    rig.poll().await;
    let first = fake.accepted().last().cloned().unwrap();
    assert!(first.exp - first.iat <= 20 * 60);
    *now.lock().unwrap() += chrono::Duration::minutes(10);
    rig.poll().await;
    assert_eq!(
        fake.accepted().last().unwrap().raw,
        first.raw,
        "still fresh: reused"
    );
    // Past the first token's expiry: a new one, and the fake never saw an expired token.
    *now.lock().unwrap() += chrono::Duration::minutes(6);
    rig.poll().await;
    let second = fake.accepted().last().cloned().unwrap();
    assert_ne!(second.raw, first.raw);
    assert_eq!(second.iat, now.lock().unwrap().timestamp());
    assert!(fake.refused().is_empty(), "{:?}", fake.refused());
    // Apple refusing a token once: a new one is signed and the poll goes on.
    fake.review(row("r2", 2, "Slow", "2026-12-01T09:00:00Z"));
    fake.refuse_tokens(1);
    assert_eq!(rig.poll().await, 1);
    assert_eq!(fake.refused().len(), 1);
    assert_eq!(rig.last_error(), None);
}

#[tokio::test]
async fn refused_credentials_reach_the_operator_with_what_to_fix() {
    let (fake, clock, _) = started().await;
    fake.review(row("r1", 3, "Fine", "2026-12-01T08:00:00Z"));
    let rig = Rig::new(
        Store::temporary(vec!["fake".into()]).unwrap(),
        source(&fake, &clock),
    );
    fake.refuse_all(Some((
        401,
        "NOT_AUTHORIZED",
        "Provide a properly configured and signed bearer token, and make sure that it has not expired.",
    )));
    assert_eq!(rig.poll().await, 0);
    let error = rig.last_error().unwrap();
    assert!(
        error.contains("App Store Connect refused the API key of source `app-store`"),
        "{error}"
    );
    assert!(error.contains("NOT_AUTHORIZED"), "{error}");
    assert!(error.contains("check `issuer_id` and `key_id`"), "{error}");
    assert!(error.contains("the .p8 file of key TEST000001"), "{error}");

    fake.refuse_all(Some((
        403,
        "FORBIDDEN_ERROR",
        "The API key in use does not allow this request",
    )));
    assert_eq!(rig.poll().await, 0);
    let error = rig.last_error().unwrap();
    assert!(error.contains("FORBIDDEN_ERROR"), "{error}");
    assert!(
        error.contains("Customer Support, App Manager or Admin role"),
        "{error}"
    );

    fake.refuse_all(None);
    assert_eq!(rig.poll().await, 1, "fixed: the poll goes on");
    assert_eq!(rig.last_error(), None);
}

#[tokio::test]
async fn the_keys_hourly_budget_holds_polls_back_and_lets_answers_through() {
    let (fake, clock, now) = started().await;
    fake.review(row("r1", 1, "Broken", "2026-12-01T08:00:00Z"));
    let rig = Rig::new(
        Store::temporary(vec!["fake".into()]).unwrap(),
        source(&fake, &clock),
    );
    // The app's name and the first page: the second answer says 200 are left, the reserve.
    fake.set_remaining(202);
    assert_eq!(rig.poll().await, 1);
    let sent = fake.requests().len();
    assert_eq!(rig.poll().await, 0);
    assert_eq!(
        fake.requests().len(),
        sent,
        "the poll waited without asking"
    );
    let error = rig.last_error().unwrap();
    assert!(error.contains("rate limit asks earshot to wait"), "{error}");

    rig.say("jane", "claim 1").await;
    rig.say("jane", "answer 1 Fixed in 2.4").await;
    rig.drain().await;
    assert_eq!(
        fake.responses()["r1"].body,
        "Fixed in 2.4",
        "answers use the reserve"
    );

    fake.set_remaining(3000);
    *now.lock().unwrap() += chrono::Duration::minutes(11);
    rig.poll().await;
    assert_eq!(rig.last_error(), None, "the window recovered");
}
