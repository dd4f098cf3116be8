//! A reply to the brand's answer comes back as a new mention linked to the one it continues,
//! and is relayed even without a keyword: someone is talking to the brand.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use earshot::app::{poll, Watched};
use earshot::chat::shell::card;
use earshot::domain::{Action, Author, Member, Mention, MentionKey, State};
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::store::Store;
use tokio::sync::Notify;

use crate::harness::fake_source::FakeSource;

fn post(id: &str, text: &str, in_reply_to: Option<&str>) -> Mention {
    Mention {
        key: MentionKey::new("masto", id),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: Author {
            handle: "jane".into(),
            name: None,
            profile: None,
        },
        text: text.into(),
        link: None,
        created_at: DateTime::UNIX_EPOCH,
        matched: vec![],
        language: None,
        in_reply_to: in_reply_to.map(str::to_string),
        direct: false,
        review: None,
    }
}

#[tokio::test]
async fn a_reply_to_our_answer_is_a_linked_follow_up_even_without_a_keyword() {
    let store = Store::temporary(vec![]).unwrap();
    let network = Arc::new(FakeSource::default());
    let outbox = Outbox::new(
        store.clone(),
        vec![],
        vec![network.clone()],
        Arc::new(Notify::new()),
    );
    let rules = Rules::new(&["acme".into()], &["spam".into()], &[]);
    let now = Utc::now();

    network.queue([post("p1", "acme lids leak", None)]);
    assert_eq!(poll(&store, network.as_ref(), &rules).await, 1);
    let jane = Member::new("U1", "jane");
    store
        .apply(
            1,
            &jane,
            &Action::Answer {
                text: "Sorry! DM us".into(),
            },
            now,
        )
        .await
        .unwrap();
    outbox.drain(now).await.unwrap();
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Answered { .. }
    ));

    network.queue([
        post("p2", "thanks, done", Some("answer-p1")),
        post("p3", "unrelated reply", Some("someone-else")),
        post("p4", "spam reply", Some("answer-p1")),
    ]);
    assert_eq!(
        poll(&store, network.as_ref(), &rules).await,
        1,
        "only the follow-up is relayed"
    );
    let follow_up = store.mention(2).unwrap();
    assert_eq!(follow_up.mention.key.id, "p2");
    assert_eq!(follow_up.follow_up_of, Some(1));
    assert!(card(&follow_up, now).contains("↪ replies to our answer on #1"));
}

#[tokio::test]
async fn a_reply_to_our_answer_over_the_live_stream_is_linked_like_a_polled_one() {
    let store = Store::temporary(vec![]).unwrap();
    let network = Arc::new(FakeSource {
        live: true,
        ..FakeSource::default()
    });
    let outbox = Outbox::new(
        store.clone(),
        vec![],
        vec![network.clone()],
        Arc::new(Notify::new()),
    );
    let rules = Rules::new(&["acme".into()], &[], &[]);
    let now = Utc::now();
    network.queue([post("p1", "acme lids leak", None)]);
    assert_eq!(poll(&store, network.as_ref(), &rules).await, 1);
    let jane = Member::new("U1", "jane");
    let answer = Action::Answer {
        text: "Sorry! DM us".into(),
    };
    store.apply(1, &jane, &answer, now).await.unwrap();
    outbox.drain(now).await.unwrap();

    // No keyword: only being a reply to our answer makes it relevant.
    network.stream_next([post("p2", "thanks, done", Some("answer-p1"))]);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let following = tokio::spawn(earshot::app::follow(
        Watched {
            store: store.clone(),
            source: network.clone(),
            rules,
            backfill: Arc::new(Notify::new()),
            wake: Arc::new(Notify::new()),
        },
        stopped,
    ));
    let follow_up = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(found) = store.mention(2) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the streamed reply is stored");
    stop.send(true).unwrap();
    following.await.unwrap();
    assert_eq!(follow_up.mention.key.id, "p2");
    assert_eq!(follow_up.follow_up_of, Some(1), "linked to the answered #1");
    assert!(card(&follow_up, now).contains("↪ replies to our answer on #1"));
}
