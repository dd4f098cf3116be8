//! Sources: one folder per network, each behind [`Source`] and described in [`registry`]. A source turns the network's posts
//! into [`Mention`]s (plain text, stable ids) and, where the network allows, posts answers back.
//! It never decides what is relevant (that is [`crate::rules`]) nor stores anything.

pub mod google;
pub mod graph;
pub mod registry;
pub mod review_walk;

// The networks: each is its folder and its name here.
registry::networks!(
    feed,
    hackernews,
    reddit,
    x,
    mastodon,
    bluesky,
    facebook,
    instagram,
    youtube,
    linkedin,
    google_reviews,
    google_play,
    app_store,
    trustpilot,
);

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::domain::{Cursor, Mention, Network, Reread};

#[async_trait]
pub trait Source: Send + Sync {
    /// The name from the config; part of every mention key this source produces.
    fn name(&self) -> &str;

    fn network(&self) -> Network;

    /// How long to wait between polls.
    fn every(&self) -> Duration;

    /// Whether everything this source finds is addressed to the brand (a review of the
    /// business, a comment on the brand's own page or video): then every post is relayed
    /// without a keyword, as a direct mention is; `exclude`, own accounts and the source's
    /// `[sources.rules]` still apply.
    fn addressed_to_brand(&self) -> bool {
        false
    }

    /// Posts newer than `cursor`, and the cursor to store once they are stored. Posts may
    /// repeat across polls; the store drops the ones it has.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError>;

    /// Posts `text` as a reply to `mention`. `idempotency_key` is the same on every retry of
    /// one answer, so the network (or the source) can refuse to post it twice.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        let _ = (mention, text, idempotency_key);
        Err(SourceError::Permanent(format!(
            "{} has no reply API",
            self.network()
        )))
    }

    /// [`Source::reply`] again, for an answer an earlier attempt under the same key may have
    /// posted: the outbox recorded that the attempt began and never learnt how it ended (a lost
    /// response, a restart mid-send). A source whose `reply` looks for the earlier delivery
    /// first (see [`crate::net::PostOnce`]) needs nothing more; one that cannot read the thread
    /// back refuses here rather than post a second time unseen.
    async fn reply_again(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        self.reply(mention, text, idempotency_key).await
    }

    /// `mention`'s text as the network has it now, for a network whose terms limit how long
    /// earshot may keep its copy (`NetworkTraits::copies_expire`, see `domain::retention`):
    /// the text, `Gone` when the post is no longer there, `Unsupported` (the default) when
    /// this source cannot read it again.
    async fn read_again(&self, mention: &Mention) -> Result<Reread, SourceError> {
        let _ = mention;
        Ok(Reread::Unsupported)
    }

    /// Whether the brand's own account has replied to `mention` on the network, and if so how
    /// ("reply by @acme: <link>"). `None` means not answered, or that this source cannot tell
    /// (the default).
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        let _ = mention;
        Ok(None)
    }

    /// Fills in what a live stream's posts lack (Jetstream names authors by DID only), for
    /// the posts the rules kept, just before they are stored. It cannot fail and must be
    /// quick: a mention whose details cannot be had goes out as it is, never later or not at
    /// all.
    async fn enrich(&self, mentions: &mut [Mention]) {
        let _ = mentions;
    }

    /// Where a network's webhook addresses this source, when it takes pushes (Meta's webhooks
    /// name a Page or an Instagram account by id): see [`crate::webhooks`].
    fn hooked(&self) -> Option<Hook> {
        None
    }

    /// The mentions in one change the network pushed, in the same form (and under the same
    /// ids) a poll gives them, so the store's dedup index keeps a push and a poll of the same
    /// comment to one card. What the push lacks is fetched from the network. A change that is
    /// no mention (a like, a removal, the brand's own comment) gives none.
    async fn pushed(&self, push: &Push) -> Result<Vec<Mention>, SourceError> {
        let _ = push;
        Ok(Vec::new())
    }

    /// Whether [`Source::stream`] follows a live stream beside the polls.
    fn streams(&self) -> bool {
        false
    }

    /// Follows the network's live stream from `cursor` (the stream's own, kept apart from the
    /// polls' cursor) for one connection, sending what arrives to `events`. Returns when the
    /// connection ends; the app reconnects with backoff from the cursor it stored last.
    async fn stream(
        &self,
        cursor: Cursor,
        events: mpsc::Sender<StreamEvent>,
    ) -> Result<(), SourceError> {
        let _ = (cursor, events);
        Err(SourceError::Permanent(format!(
            "{} has no live stream",
            self.network()
        )))
    }
}

/// The address a webhook names a source by: Meta's `object` ("page", "instagram") and the
/// entry's id (the Page's or the Instagram account's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hook {
    pub object: &'static str,
    pub id: String,
}

/// One change a webhook pushed: its `field` ("feed", "comments", "mentions"), its `value` as
/// the network wrote it (the source reads it), and when the network sent it.
#[derive(Debug, Clone)]
pub struct Push {
    pub field: String,
    pub value: serde_json::Value,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a live stream hands the app.
#[derive(Debug, Clone)]
pub enum StreamEvent {
    /// A connection is up. Streams do not replay what was posted while they were down, or not
    /// all of it, so the app polls once (a REST backfill from the polls' cursor).
    Connected,
    /// Posts that arrived, and the stream cursor to store once they are stored.
    Posts(Fetched),
}

#[derive(Debug, Clone, Default)]
pub struct Fetched {
    pub mentions: Vec<Mention>,
    pub cursor: Cursor,
    /// What went wrong in a poll that still moved on: a watch that failed while others were
    /// read, a stored position that could not be read (see [`crate::net::CursorSet`]). The
    /// app stores what was found and reports these in the source's health.
    pub problems: Vec<String>,
}

/// An answer the network accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub link: Option<String>,
    /// The network's id for the posted reply, in the form a later reply to it names its parent
    /// (`Mention::in_reply_to`), so the conversation can be followed.
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The network is down, slow or rate limiting: try again later.
    #[error("{reason}")]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Retrying cannot help (gone, forbidden, malformed): a person must look.
    #[error("{0}")]
    Permanent(String),
}

impl From<crate::net::Failure> for SourceError {
    /// A refused token reaches a source's caller only after its one renewal failed too, so it
    /// needs a person, like any other permanent failure.
    fn from(failure: crate::net::Failure) -> SourceError {
        match failure {
            crate::net::Failure::Retry { reason, after } => SourceError::Retry { reason, after },
            crate::net::Failure::Permanent(reason) | crate::net::Failure::TokenExpired(reason) => {
                SourceError::Permanent(reason)
            }
        }
    }
}
