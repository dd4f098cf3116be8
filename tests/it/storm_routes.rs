//! Storm mode counts per channel: a flood in one route's channel gets its summary card there,
//! and mentions bound for other channels keep their own cards.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use earshot::domain::routing::{Route, Routes, When};
use earshot::domain::storm::StormPolicy;
use earshot::domain::{Author, Cursor, Mention, MentionKey};
use earshot::outbox::Outbox;
use earshot::store::{Store, StormMode};
use tokio::sync::Notify;

use crate::harness::fake_chat::FakeChat;

fn mention(source: &str, id: u32) -> Mention {
    Mention {
        review: None,
        key: MentionKey::new(source, id.to_string()),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: Author {
            handle: format!("user{id}"),
            name: None,
            profile: None,
        },
        text: format!("acme post {id}"),
        link: None,
        created_at: DateTime::UNIX_EPOCH,
        matched: vec![],
        language: None,
        in_reply_to: None,
        direct: false,
    }
}

#[tokio::test]
async fn a_flood_in_one_routes_channel_leaves_the_others_their_cards() {
    let routes = Routes(vec![Route {
        name: "flood".into(),
        when: When {
            source: Some(vec!["flood".into()]),
            ..When::default()
        },
        channels: [("fake".to_string(), "C0FLOOD".to_string())].into(),
    }]);
    let store = Store::temporary(vec!["fake".into()])
        .unwrap()
        .with_routes(routes)
        .with_storm(StormMode {
            policy: StormPolicy {
                threshold: 10,
                window: Duration::minutes(5),
                backlog: 1000,
                calm: Duration::minutes(15),
                alert: vec!["@oncall".into()],
            },
            command: "/mentions".into(),
        });
    let chat = Arc::new(FakeChat::default());
    let outbox = Outbox::new(
        store.clone(),
        vec![chat.clone()],
        vec![],
        Arc::new(Notify::new()),
    );
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();

    // Both sources have polled before, so what they find now is news, not an import.
    for source in ["flood", "masto"] {
        store.save_cursor(source, &Cursor::default()).unwrap();
    }
    // 12 in the flood channel and, interleaved, 9 elsewhere: 21 within the window in all,
    // each posted when it is found.
    for i in 0..12 {
        let at = t0 + Duration::seconds(i64::from(i));
        let posted = |source: &str| Mention {
            created_at: at,
            ..mention(source, i)
        };
        store
            .ingest("flood", &[posted("flood")], &Cursor::default(), at)
            .unwrap();
        if i < 9 {
            store
                .ingest("masto", &[posted("masto")], &Cursor::default(), at)
                .unwrap();
        }
    }
    outbox.drain(t0 + Duration::minutes(1)).await.unwrap();
    let log = chat.take();
    let count = |prefix: &str| log.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("post #"), 9 + 9, "{log:?}");
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("post #") && !l.contains(" in "))
            .count(),
        9
    );
    assert_eq!(
        log.iter()
            .filter(|l| l.starts_with("post #") && l.ends_with("in C0FLOOD"))
            .count(),
        9
    );
    assert_eq!(
        count("notice in C0FLOOD:"),
        1,
        "one alert, in the flood's channel: {log:?}"
    );
    assert_eq!(
        count("notice:"),
        0,
        "none in the team's own channel: {log:?}"
    );
    assert_eq!(count("summary in C0FLOOD:"), 1, "{log:?}");
    assert!(
        count("edit C0FLOOD/summary:") >= 1,
        "the card grows in place: {log:?}"
    );
    assert!(
        !store.weather().unwrap().stormy(),
        "the team's channel is calm"
    );
    assert!(store.weather_in("fake=C0FLOOD").unwrap().stormy());

    // Calm again: the flood's storm ends in its channel, once.
    assert!(store.storm_tick(t0 + Duration::minutes(25)).await.unwrap());
    assert!(!store.storm_tick(t0 + Duration::minutes(26)).await.unwrap());
    outbox.drain(t0 + Duration::minutes(26)).await.unwrap();
    let log: Vec<String> = chat
        .take()
        .into_iter()
        .filter(|line| !line.starts_with("update "))
        .collect();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].starts_with("edit C0FLOOD/summary:"), "{log:?}");
    assert!(!store.weather_in("fake=C0FLOOD").unwrap().stormy());
}
