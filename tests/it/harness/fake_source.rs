//! The one scripted network for tests that drive the outbox and answered-detection without a
//! real source: Mastodon's traits, named `masto`, nothing to fetch; it takes answers and
//! records them with their idempotency keys, fails on demand, and shows the brand's reply
//! under the posts it is told were answered.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use earshot::domain::{Cursor, Mention, Network};
use earshot::sources::{Fetched, Posted, Source, SourceError};

#[derive(Default)]
pub struct FakeSource {
    /// Each answer posted: the mention's id, the text and the idempotency key.
    pub replies: Mutex<Vec<(String, String, String)>>,
    /// How the next answers fail, in order.
    pub failures: Mutex<VecDeque<SourceError>>,
    /// The ids of the posts whose thread shows the brand's reply.
    pub answered: Vec<String>,
}

impl FakeSource {
    /// The texts of the answers posted, in order.
    pub fn texts(&self) -> Vec<String> {
        let replies = self.replies.lock().unwrap();
        replies.iter().map(|(_, text, _)| text.clone()).collect()
    }
}

#[async_trait]
impl Source for FakeSource {
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

    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        Ok(self.answered.contains(&mention.key.id).then(|| {
            format!(
                "reply by @acme: https://masto.example/@acme/{}",
                mention.key.id
            )
        }))
    }
}
