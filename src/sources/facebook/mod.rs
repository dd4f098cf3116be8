//! Facebook Pages, through the Graph API with a long-lived Page access token: new comments and
//! replies under the Page's recent posts, posts visitors write on the Page, and public posts
//! that tag it. Every one is addressed to the brand, so none needs a keyword (`exclude` still
//! applies); the Page's own posts and comments are never relayed. Answers are comments by the
//! Page (`POST /{id}/comments`), posted once.
//!
//! `config.rs` holds the config keys, `wire.rs` the JSON shapes, `poll.rs` the watches and
//! the position kept between polls, `push.rs` the `feed` changes Meta's webhooks push,
//! `reply.rs` answers and answered-detection. The Graph
//! client (token, `appsecret_proof`, usage headers, errors) is shared with Instagram:
//! [`crate::sources::graph`].

pub mod config;
pub(crate) mod poll;
mod push;
mod reply;
pub(crate) mod wire;

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

pub use config::{Settings, Watch, DEFAULT_EVERY, NETWORK, TRAITS};

use super::graph::Graph;
use super::{Fetched, Hook, Posted, Push, Source, SourceError};
use crate::domain::{Cursor, Mention, Network};
use crate::net::{Clock, CursorSet, PostOnce};
use wire::Mark;

pub struct Facebook {
    name: String,
    settings: Settings,
    every: Duration,
    graph: Graph,
    answers: PostOnce<Posted>,
    /// The ids of the comments this process posted as the Page: never relayed, even where
    /// Meta leaves `from` out. (Across restarts the store knows them: `Store::answered_with`.)
    own: Mutex<HashSet<String>>,
}

impl Facebook {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> Facebook {
        let graph = Graph::new(
            "Facebook",
            &settings.graph_url,
            settings.token.clone(),
            settings.app_secret.as_ref(),
            format!("the `token` of source `{name}` (a long-lived Page access token)"),
            http,
        );
        Facebook {
            name,
            settings,
            every,
            graph,
            answers: PostOnce::default(),
            own: Mutex::new(HashSet::new()),
        }
    }

    /// Time from `clock` instead of the wall (tests).
    pub fn with_clock(mut self, clock: Clock) -> Facebook {
        self.graph.set_clock(clock);
        self
    }

    fn is_own(&self, id: &str) -> bool {
        self.own.lock().map(|own| own.contains(id)).unwrap_or(false)
    }

    fn remember_own(&self, id: &str) {
        if let Ok(mut own) = self.own.lock() {
            own.insert(id.to_string());
        }
    }
}

#[async_trait]
impl Source for Facebook {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// The cursor holds each watch's [`Mark`]; see [`CursorSet`] for what a failing watch or
    /// an unreadable position does.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks = CursorSet::<Mark, SourceError>::read(cursor, "Facebook", &self.name);
        let mut mentions = Vec::new();
        let mut notes = Vec::new();
        for watch in &self.settings.watch {
            let key = watch.key();
            let outcome = self.read_watch(*watch, marks.get(key)).await.map(|read| {
                if let Some(note) = read.cut_short {
                    notes.push(format!("{key}: {note}"));
                }
                (read.found, Some(read.mark))
            });
            marks.record(key, outcome.map_err(SourceError::from), &mut mentions);
        }
        let (cursor, mut problems) = marks.finish(cursor)?;
        problems.extend(notes);
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    /// Graph comments take no idempotency key: see [`PostOnce`] and `reply.rs`.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        let parent = mention.key.id.as_str();
        // Graph ids are digits joined by `_`; anything else must not become part of a path.
        if parent.is_empty()
            || !parent
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(SourceError::Permanent(format!(
                "`{parent}` is not a Facebook post or comment id"
            )));
        }
        let posted = self
            .answers
            .post(
                idempotency_key,
                || self.existing_answer(parent, text),
                || self.post_comment(parent, text),
            )
            .await?;
        if let Some(id) = &posted.id {
            self.remember_own(id);
        }
        Ok(posted)
    }

    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        Ok(self.page_reply(&mention.key.id).await?)
    }

    fn hooked(&self) -> Option<Hook> {
        Some(Hook {
            object: "page",
            id: self.settings.page_id.clone(),
        })
    }

    async fn pushed(&self, push: &Push) -> Result<Vec<Mention>, SourceError> {
        Ok(self.pushed_change(push).await?)
    }
}
