//! `Retry-After` as an HTTP-date from Slack (or a proxy in front of it). slack-morphism
//! 2.31.1 reads only the delta-seconds form: its `SlackClientHyperConnector` parses the header
//! as a `u64` and keeps no headers in the error it returns, so an HTTP-date reaches earshot as
//! a rate limit without a wait (see `chat::slack::api::classify`). These tests pin what that
//! means today: the card waits the outbox's own backoff, bounded, and is delivered; nothing
//! panics, whatever date is named.

use chrono::{Duration, Utc};

use super::fake::{Failure, FakeSlack};
use super::Bot;

#[tokio::test]
async fn an_http_date_retry_after_waits_the_outbox_backoff_and_the_card_goes_out() {
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

    // A date in the future: slack-morphism drops it, so the first retry is the backoff's 2 s,
    // not the 10 minutes named (earshot would honour them if it could read the header).
    let pass = bot.outbox.drain(start).await.unwrap();
    assert_eq!((pass.delivered, pass.deferred), (0, 1));
    assert_eq!(due(), start + Duration::seconds(2));

    // A date in the past: the next backoff step, 4 s.
    let at = due();
    let pass = bot.outbox.drain(at).await.unwrap();
    assert_eq!((pass.delivered, pass.deferred), (0, 1));
    assert_eq!(due(), at + Duration::seconds(4));

    let pass = bot.outbox.drain(due()).await.unwrap();
    assert_eq!(pass.delivered, 1);
    assert_eq!(fake.with(|slack| slack.cards().len()), 1);
    assert_eq!(fake.with(|slack| slack.count("chat.postMessage")), 3);
}

#[tokio::test]
async fn a_date_slack_could_never_mean_still_delays_one_card_at_most_an_hour() {
    let fake = FakeSlack::start().await;
    fake.with(|slack| {
        slack
            .failures
            .push_back(Failure::RateLimitedUntil(chrono::DateTime::<Utc>::MAX_UTC));
        slack
            .failures
            .push_back(Failure::RateLimitedUntil(chrono::DateTime::<Utc>::MIN_UTC));
    });
    let bot = Bot::with_one_card(&fake);
    let start = Utc::now();
    let due = || bot.store.outbox().unwrap()[0].1.not_before;
    for _ in 0..2 {
        let at = due().max(start);
        let pass = bot.outbox.drain(at).await.unwrap();
        assert_eq!((pass.delivered, pass.deferred), (0, 1));
        assert!(due() > at && due() <= at + Duration::hours(1), "{}", due());
    }
    let pass = bot.outbox.drain(due()).await.unwrap();
    assert_eq!(pass.delivered, 1);
}
