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
use earshot::sources::{Fetched, Posted, Source, SourceError};
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
        Network::Mastodon
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
        network: Network::Mastodon,
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
