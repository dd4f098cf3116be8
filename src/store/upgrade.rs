//! Bringing a store written by an earlier earshot forward, once, at open.

use super::engine::{Scan, Tree};
use super::{decode, keys, Result, Store, SCHEMA_KEY, SCHEMA_VERSION};
use crate::domain::HistoryEntry;

impl Store {
    /// Brings a version 1 store forward: builds the `settled` index from the histories, and
    /// gives the status index the ranks that lists sort by.
    pub(super) fn upgrade_from_1(&self) -> Result<()> {
        let indexed: Vec<Vec<u8>> = self
            .engine
            .scan(Tree::ByStatus, Scan::all().keys())
            .map(|item| item.map(|(key, _)| key))
            .collect::<Result<_>>()?;
        for key in indexed {
            let tracked = self.mention(keys::trailing_number(&key))?;
            let ranked = keys::ranked(&tracked.priority, &tracked.place.lane());
            self.engine.insert(Tree::ByStatus, &key, &ranked)?;
        }
        for item in self.engine.scan(Tree::History, Scan::all()) {
            let (key, bytes) = item?;
            let entry: HistoryEntry = decode("history entry", &bytes)?;
            if entry.settles() {
                let number = keys::read_u64(&key[..key.len().min(8)]);
                self.engine
                    .insert(Tree::Settled, &keys::settled(entry.at, number), &[])?;
            }
        }
        self.engine
            .insert(Tree::Meta, SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
        self.engine.flush_blocking(super::FLUSH_LIMIT)?;
        tracing::info!(store = %self.location, "upgraded the store to schema version {SCHEMA_VERSION}");
        Ok(())
    }
}
