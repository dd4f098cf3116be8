//! Bringing a store written by an earlier earshot forward, once, at open.

use super::{decode, keys, Result, Store, SCHEMA_KEY, SCHEMA_VERSION};
use crate::domain::HistoryEntry;

impl Store {
    /// Brings a version 1 store forward: builds the `settled` index from the histories, and
    /// gives the status index the ranks that lists sort by.
    pub(super) fn upgrade_from_1(&self) -> Result<()> {
        for item in self.by_status.iter() {
            let (key, _) = item?;
            let tracked = self.mention(keys::trailing_number(&key))?;
            self.by_status
                .insert(key, keys::ranked(&tracked.priority, &tracked.place.lane()))?;
        }
        for item in self.history.iter() {
            let (key, bytes) = item?;
            let entry: HistoryEntry = decode("history entry", &bytes)?;
            if entry.settles() {
                let number = keys::read_u64(&key[..key.len().min(8)]);
                self.settled.insert(keys::settled(entry.at, number), &[])?;
            }
        }
        self.meta
            .insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
        self.db.flush()?;
        tracing::info!(path = %self.path.display(), "upgraded the store to schema version {SCHEMA_VERSION}");
        Ok(())
    }
}
