//! `Retry-After` from Slack (or a proxy in front of it) in every form a server may send: the
//! delta-seconds Slack documents, an HTTP-date, and nonsense. earshot's own connector
//! (`chat::slack::connector`) reads the header on the network toolkit, so the card waits what
//! was asked, within the toolkit's hour, and an unreadable header falls back to the outbox's
//! own backoff. Nothing panics, whatever date is named.

use chrono::{DateTime, Duration, Utc};

use super::fake::{Failure, FakeSlack};
use super::Bot;

fn date(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// `due` lies within `[at + low, at + high]`.
fn within(due: DateTime<Utc>, at: DateTime<Utc>, low: Duration, high: Duration) {
    assert!(
        due >= at + low && due <= at + high,
        "due {due}, expected between {} and {}",
        at + low,
        at + high
    );
}

#[tokio::test]
async fn an_http_date_retry_after_is_honoured_and_the_card_goes_out() {
    let fake = FakeSlack::start().await;
    let now = Utc::now();
    fake.with(|slack| {
        slack
            .failures
            .push_back(Failure::RateLimitedUntil(now + Duration::minutes(10)));
        slack
            .failures
            .push_back(Failure::RateLimitedUntil(now - Duration::hours(2)));
    });
    let bot = Bot::with_one_card(&fake);
    let due = || bot.store.outbox().unwrap()[0].1.not_before;
    let start = Utc::now();

    // Ten minutes from now, to the second (an HTTP-date has no fractions): the card waits them.
    let pass = bot.outbox.drain(start).await.unwrap();
    assert_eq!((pass.delivered, pass.deferred), (0, 1));
    within(
        due(),
        start,
        Duration::seconds(9 * 60 + 55),
        Duration::minutes(10),
    );

    // A date in the past means "now": the outbox's shortest server wait, 1 s.
    let at = due();
    let pass = bot.outbox.drain(at).await.unwrap();
    assert_eq!((pass.delivered, pass.deferred), (0, 1));
    assert_eq!(due(), at + Duration::seconds(1));

    let pass = bot.outbox.drain(due()).await.unwrap();
    assert_eq!(pass.delivered, 1);
    assert_eq!(fake.with(|slack| slack.cards().len()), 1);
    assert_eq!(fake.with(|slack| slack.count("chat.postMessage")), 3);
}

#[tokio::test]
async fn seconds_are_honoured_and_an_unreadable_header_gets_the_outbox_backoff() {
    let fake = FakeSlack::start().await;
    fake.with(|slack| {
        slack.failures.push_back(Failure::RateLimited(30));
        slack.failures.push_back(Failure::RateLimitedSaying("soon"));
        slack.failures.push_back(Failure::RateLimitedSaying("-5"));
    });
    let bot = Bot::with_one_card(&fake);
    let due = || bot.store.outbox().unwrap()[0].1.not_before;

    let start = Utc::now();
    bot.outbox.drain(start).await.unwrap();
    assert_eq!(due(), start + Duration::seconds(30));

    // `soon` and `-5` name no wait: the backoff's first two steps (a wait the server named
    // is not a failure, so it did not advance them).
    let at = due();
    bot.outbox.drain(at).await.unwrap();
    assert_eq!(due(), at + Duration::seconds(2));
    let at = due();
    bot.outbox.drain(at).await.unwrap();
    assert_eq!(due(), at + Duration::seconds(4));

    let pass = bot.outbox.drain(due()).await.unwrap();
    assert_eq!(pass.delivered, 1);
    assert_eq!(fake.with(|slack| slack.cards().len()), 1);
}

#[tokio::test]
async fn a_date_slack_could_never_mean_delays_one_card_an_hour_at_most() {
    let fake = FakeSlack::start().await;
    fake.with(|slack| {
        slack
            .failures
            .push_back(Failure::RateLimitedUntil(date("9999-12-31T23:59:59Z")));
        slack
            .failures
            .push_back(Failure::RateLimitedUntil(date("1970-01-01T00:00:00Z")));
        // Years past 9999 print as `+262143`, which no HTTP-date parser reads.
        slack
            .failures
            .push_back(Failure::RateLimitedUntil(DateTime::<Utc>::MAX_UTC));
    });
    let bot = Bot::with_one_card(&fake);
    let due = || bot.store.outbox().unwrap()[0].1.not_before;

    // Year 9999: the toolkit's cap, an hour.
    let start = Utc::now();
    bot.outbox.drain(start).await.unwrap();
    within(due(), start, Duration::minutes(59), Duration::hours(1));
    // 1970: past, so "now", the shortest wait.
    let at = due();
    bot.outbox.drain(at).await.unwrap();
    assert_eq!(due(), at + Duration::seconds(1));
    // Unreadable: the backoff's first step.
    let at = due();
    bot.outbox.drain(at).await.unwrap();
    assert_eq!(due(), at + Duration::seconds(2));

    let pass = bot.outbox.drain(due()).await.unwrap();
    assert_eq!(pass.delivered, 1);
}
