//! The one scripted network for tests that drive polls, streams, the outbox and
//! answered-detection without a real source. By default Mastodon's traits, named `masto`;
//! [`FakeSource::reviews`] makes it a review site. A test queues posts for the next poll, shows
//! a page that every poll reads again (as review APIs serve their newest page), or streams
//! posts live; answers are recorded with their idempotency keys, fail on demand, and are
//! posted as `answer-<id>`, so replies to them can come back as follow-ups.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use earshot::domain::{Cursor, Mention, Network};
use earshot::sources::{Fetched, Posted, Source, SourceError, StreamEvent};

pub struct FakeSource {
    pub name: String,
    pub network: Network,
    /// Everything it finds is for the brand (a review site's reviews): no keyword needed.
    pub addressed: bool,
    /// It also follows the network live ([`FakeSource::stream_next`]).
    pub live: bool,
    /// A second answer to a post replaces the first, as a review site's reply does.
    pub upserts: bool,
    /// Each answer posted: the mention's id, the text and the idempotency key.
    pub replies: Mutex<Vec<(String, String, String)>>,
    /// How the next answers fail, in order.
    pub failures: Mutex<VecDeque<SourceError>>,
    /// The ids of the posts whose thread shows the brand's reply.
    pub answered: Vec<String>,
    /// Set through [`FakeSource::queue`], [`FakeSource::show`], [`FakeSource::stream_next`].
    pub queued: Mutex<Vec<Mention>>,
    pub page: Mutex<Vec<Mention>>,
    pub streamed: Mutex<Vec<Mention>>,
}

impl Default for FakeSource {
    fn default() -> FakeSource {
        FakeSource {
            name: "masto".into(),
            network: earshot::sources::mastodon::TRAITS.network(),
            addressed: false,
            live: false,
            upserts: false,
            replies: Mutex::default(),
            failures: Mutex::default(),
            answered: Vec::new(),
            queued: Mutex::default(),
            page: Mutex::default(),
            streamed: Mutex::default(),
        }
    }
}

impl FakeSource {
    /// A review site named `name`: its reviews need no keyword, and an answer replaces the
    /// earlier one.
    pub fn reviews(name: &str, network: Network) -> FakeSource {
        FakeSource {
            name: name.into(),
            network,
            addressed: true,
            upserts: true,
            ..FakeSource::default()
        }
    }

    /// Found by the next poll only.
    pub fn queue(&self, posts: impl IntoIterator<Item = Mention>) {
        self.queued.lock().unwrap().extend(posts);
    }

    /// Found by every poll from now on, until another page is shown.
    pub fn show(&self, page: Vec<Mention>) {
        *self.page.lock().unwrap() = page;
    }

    /// Sent over the next live connection (with `live` set).
    pub fn stream_next(&self, posts: impl IntoIterator<Item = Mention>) {
        self.streamed.lock().unwrap().extend(posts);
    }

    /// The texts of the answers posted, in order.
    pub fn texts(&self) -> Vec<String> {
        let replies = self.replies.lock().unwrap();
        replies.iter().map(|(_, text, _)| text.clone()).collect()
    }

    /// Each answer posted as the post's id and the text.
    pub fn answers(&self) -> Vec<(String, String)> {
        let replies = self.replies.lock().unwrap();
        let answer = |(id, text, _): &(String, String, String)| (id.clone(), text.clone());
        replies.iter().map(answer).collect()
    }
}

#[async_trait]
impl Source for FakeSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        self.network
    }

    fn every(&self) -> Duration {
        Duration::from_secs(60)
    }

    fn addressed_to_brand(&self) -> bool {
        self.addressed
    }

    fn streams(&self) -> bool {
        self.live
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut mentions = self.page.lock().unwrap().clone();
        mentions.append(&mut self.queued.lock().unwrap());
        Ok(Fetched {
            mentions,
            cursor: cursor.clone(),
            ..Fetched::default()
        })
    }

    /// Sends what was set to stream, with a cursor that moved, and ends the connection.
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
        if let Some(error) = self.failures.lock().unwrap().pop_front() {
            return Err(error);
        }
        let id = &mention.key.id;
        let mut replies = self.replies.lock().unwrap();
        if self.upserts {
            replies.retain(|(answered, _, _)| answered != id);
        }
        replies.push((id.clone(), text.to_string(), key.to_string()));
        Ok(Posted {
            link: Some(format!("https://masto.example/reply-to-{id}")),
            id: Some(format!("answer-{id}")),
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
