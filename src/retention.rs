//! The hourly look at copies that expire: for each mention whose network's terms limit how
//! long earshot keeps its text (`domain::retention`), it asks the rule what is due, reads the
//! text again through the mention's source when the mention is still owed an answer, and has
//! the store apply the change (the text, a history entry, the cards' updates) in one
//! transaction.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};

use crate::domain::retention::{self, Change, Due};
use crate::sources::Source;
use crate::store::{Store, StoreError};

/// How often copies are looked at: the rule acts six hours before a limit and drops an
/// unreadable text in its last hour, so an hourly look meets every limit.
pub const EVERY: Duration = Duration::from_secs(3600);

pub struct Retention {
    store: Store,
    /// The configured sources, which read their mentions again.
    sources: Vec<Arc<dyn Source>>,
}

impl Retention {
    pub fn new(store: Store, sources: Vec<Arc<dyn Source>>) -> Retention {
        Retention { store, sources }
    }

    /// Carries out every change due at `now`; returns how many mentions changed. A mention
    /// that cannot be read from the store is reported and the others go on; a storage failure
    /// stops the tick.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut changed = 0;
        for number in self.store.expiring_copies()? {
            match self.look_at(number, now).await {
                Ok(true) => changed += 1,
                Ok(false) => {}
                Err(error) if error.is_storage() => return Err(error),
                Err(error) => {
                    tracing::error!(number, %error, "cannot look after the copied text of a mention; trying again next hour")
                }
            }
        }
        Ok(changed)
    }

    /// Ticks at start and then every [`EVERY`] until `stopped`, waking the outbox for the card
    /// updates a tick queued.
    pub async fn run(&self, wake: Arc<Notify>, mut stopped: watch::Receiver<bool>) {
        loop {
            match self.tick(Utc::now()).await {
                Ok(0) => {}
                Ok(changed) => {
                    tracing::info!(
                        changed,
                        "copied texts read again or dropped under their network's terms"
                    );
                    wake.notify_one();
                }
                Err(error) => {
                    tracing::error!(%error, "looking after copied texts failed; trying again next hour")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(EVERY) => {}
                _ = stopped.changed() => return,
            }
        }
    }

    async fn look_at(&self, number: u64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let tracked = self.store.mention(number)?;
        let change = match retention::due(&tracked, now) {
            None => return Ok(false),
            Some(Due::Drop(why)) => Change::Drop(why),
            Some(Due::ReadAgain) => {
                let name = &tracked.mention.key.source;
                let read = match self.sources.iter().find(|source| source.name() == name) {
                    Some(source) => source
                        .read_again(&tracked.mention)
                        .await
                        .map_err(|error| error.to_string()),
                    None => Err(format!("no source named `{name}` is configured to read it")),
                };
                if let Err(reason) = &read {
                    tracing::warn!(number, %reason, "cannot read a mention's text again");
                }
                match retention::after_reading(&tracked, read, now) {
                    Some(change) => change,
                    None => return Ok(false),
                }
            }
        };
        self.store.change_copy(number, &change, now)
    }
}
