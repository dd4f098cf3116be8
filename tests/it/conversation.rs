//! A reply to the brand's answer comes back as a new mention linked to the one it continues,
//! and is relayed even without a keyword: someone is talking to the brand.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use earshot::app::poll;
use earshot::chat::shell::card;
use earshot::domain::{Action, Author, Cursor, Member, Mention, MentionKey, Network, State};
use earshot::outbox::Outbox;
use earshot::rules::Rules;
use earshot::sources::{Fetched, Posted, Source, SourceError, StreamEvent};
use earshot::store::Store;
use tokio::sync::Notify;

/// A network whose posts the test sets, and which answers with post id `answer-<n>`.
#[derive(Default)]
struct Network1 {
    posts: Mutex<Vec<Mention>>,
}

#[async_trait]
impl Source for Network1 {
    fn name(&self) -> &str {
        "masto"
    }

    fn network(&self) -> Network {
        earshot::sources::mastodon::TRAITS.network()
    }

    fn every(&self) -> Duration {
        Duration::from_secs(30)
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        Ok(Fetched {
            mentions: std::mem::take(&mut *self.posts.lock().unwrap()),
            cursor: cursor.clone(),
            ..Fetched::default()
        })
    }

    async fn reply(
        &self,
        mention: &Mention,
        _text: &str,
        _key: &str,
    ) -> Result<Posted, SourceError> {
        Ok(Posted {
            link: Some(format!(
                "https://masto.example/@acme/answer-{}",
                mention.key.id
            )),
            id: Some(format!("answer-{}", mention.key.id)),
        })
    }
}

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
    let network = Arc::new(Network1::default());
    let outbox = Outbox::new(
        store.clone(),
        vec![],
        vec![network.clone()],
        Arc::new(Notify::new()),
    );
    let rules = Rules::new(&["acme".into()], &["spam".into()], &[]);
    let now = Utc::now();

    network
        .posts
        .lock()
        .unwrap()
        .push(post("p1", "acme lids leak", None));
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

    network.posts.lock().unwrap().extend([
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

/// The same network followed live: the reply arrives over the stream instead of a poll.
struct Live {
    polled: Network1,
    streamed: Mutex<Vec<Mention>>,
}

#[async_trait]
impl Source for Live {
    fn name(&self) -> &str {
        self.polled.name()
    }

    fn network(&self) -> Network {
        earshot::sources::mastodon::TRAITS.network()
    }

    fn every(&self) -> Duration {
        Duration::from_secs(30)
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        self.polled.fetch(cursor).await
    }

    fn streams(&self) -> bool {
        true
    }

    async fn stream(
        &self,
        cursor: Cursor,
        events: tokio::sync::mpsc::Sender<StreamEvent>,
    ) -> Result<(), SourceError> {
        let mentions = std::mem::take(&mut *self.streamed.lock().unwrap());
        if !mentions.is_empty() {
            let fetched = Fetched {
                mentions,
                cursor: Cursor {
                    position: Some("1".into()),
                    ..cursor
                },
                ..Fetched::default()
            };
            let _ = events.send(StreamEvent::Posts(fetched)).await;
        }
        Ok(())
    }

    async fn reply(&self, mention: &Mention, text: &str, key: &str) -> Result<Posted, SourceError> {
        self.polled.reply(mention, text, key).await
    }
}

#[tokio::test]
async fn a_reply_to_our_answer_over_the_live_stream_is_linked_like_a_polled_one() {
    let store = Store::temporary(vec![]).unwrap();
    let network = Arc::new(Live {
        polled: Network1::default(),
        streamed: Mutex::new(Vec::new()),
    });
    let outbox = Outbox::new(
        store.clone(),
        vec![],
        vec![network.clone()],
        Arc::new(Notify::new()),
    );
    let rules = Rules::new(&["acme".into()], &[], &[]);
    let now = Utc::now();
    network
        .polled
        .posts
        .lock()
        .unwrap()
        .push(post("p1", "acme lids leak", None));
    assert_eq!(poll(&store, network.as_ref(), &rules).await, 1);
    let jane = Member::new("U1", "jane");
    let answer = Action::Answer {
        text: "Sorry! DM us".into(),
    };
    store.apply(1, &jane, &answer, now).await.unwrap();
    outbox.drain(now).await.unwrap();

    // No keyword: only being a reply to our answer makes it relevant.
    network
        .streamed
        .lock()
        .unwrap()
        .push(post("p2", "thanks, done", Some("answer-p1")));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let following = tokio::spawn(earshot::app::follow(
        store.clone(),
        network.clone(),
        rules,
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
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
