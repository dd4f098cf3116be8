//! What a source's poller and its stream follower share, handed to each as one value.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::rules::Rules;
use crate::sources::Source;
use crate::store::Store;

#[derive(Clone)]
pub struct Watched {
    /// Where what the source finds is stored: in the app, fenced to the leader's term, so a
    /// process that no longer leads stores nothing.
    pub store: Store,
    pub source: Arc<dyn Source>,
    pub rules: Rules,
    /// A stream's (re)connection asks the poller for a poll now: streams do not replay what
    /// was posted while they were down.
    pub backfill: Arc<Notify>,
    /// Tells the outbox that new mentions await their cards.
    pub wake: Arc<Notify>,
}

impl Watched {
    /// `source` stored in `store` by `rules`, with a backfill signal of its own and `wake`.
    pub fn new(store: Store, source: Arc<dyn Source>, rules: Rules, wake: Arc<Notify>) -> Watched {
        Watched {
            store,
            source,
            rules,
            backfill: Arc::new(Notify::new()),
            wake,
        }
    }
}
