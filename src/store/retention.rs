//! Copies that expire: the mentions whose text is a copy the network's terms limit (LinkedIn's
//! 48 hours), kept in a small index so the hourly task reads those and not every mention, and
//! the change `domain::retention` decides, applied as one transaction.
//!
//! The index is `Meta` keys `copy:<number>`: written at ingest for a network with a limit,
//! removed when the text is dropped. Mentions stored before the index existed are found once,
//! by one sweep of every mention the first time the index is read (marked done in `Meta`).

use chrono::{DateTime, Utc};

use super::engine::{Scan, Tree};
use super::mentions::read_tracked;
use super::{decode, encode, keys, Result, Store};
use crate::domain::retention::Change;
use crate::domain::{TextCopy, Tracked};

/// Set once every mention stored before the index existed has been looked at.
const INDEXED_KEY: &[u8] = b"copies_indexed";

impl Store {
    /// The numbers of the mentions whose text is a copy under a network's limit, not dropped
    /// yet, oldest first.
    pub fn expiring_copies(&self) -> Result<Vec<u64>> {
        if self.engine.get(Tree::Meta, INDEXED_KEY)?.is_none() {
            self.writable()?;
            let swept = self.index_copies();
            self.watch(swept)?;
        }
        self.engine
            .scan(Tree::Meta, Scan::prefix(keys::COPY_PREFIX).keys())
            .map(|entry| entry.map(|(key, _)| keys::trailing_number(&key)))
            .collect()
    }

    /// Applies `change` to mention `number`'s text in one transaction: the mention, a history
    /// entry by earshot, and an update of its card in every chat (which re-renders it from the
    /// record, so the chat's copy goes too); a dropped text leaves the index. A text dropped
    /// meanwhile is left alone (returns false). Refused on a leader's store whose term is
    /// over. Flushed before it returns.
    pub fn change_copy(&self, number: u64, change: &Change, now: DateTime<Utc>) -> Result<bool> {
        self.writable()?;
        let trees = [Tree::Mentions, Tree::History, Tree::Outbox, Tree::Meta];
        let changed = self.engine.transaction(&trees, |tx| {
            // Only the leader looks after copies; a stale one would read and note twice.
            self.check_fence(tx)?;
            let mut tracked = read_tracked(tx, number)?;
            if matches!(tracked.copy, TextCopy::Dropped { .. }) {
                return Ok(false);
            }
            let entry = change.apply(&mut tracked, now);
            tx.insert(Tree::Mentions, &keys::number(number), &encode(&tracked))?;
            if matches!(change, Change::Drop(_)) {
                tx.remove(Tree::Meta, &keys::copy(number))?;
            }
            self.record_step(tx, number, &entry, now)?;
            Ok(true)
        });
        let changed = self.watch(changed)?;
        if changed {
            self.flush_now()?;
        }
        Ok(changed)
    }

    /// Puts every stored mention whose copy expires, and is not dropped, in the index: once,
    /// for mentions stored before the index existed. Each key is written on its own (writing
    /// one twice is harmless); the mark is written last, so a sweep cut short runs again.
    fn index_copies(&self) -> Result<()> {
        let mut found = 0usize;
        for item in self.engine.scan(Tree::Mentions, Scan::all()) {
            let tracked: Tracked = decode("mention", &item?.1)?;
            let expires = tracked.mention.network.copies_expire().is_some();
            if expires && !matches!(tracked.copy, TextCopy::Dropped { .. }) {
                self.engine
                    .insert(Tree::Meta, &keys::copy(tracked.number), &[])?;
                found += 1;
            }
        }
        self.engine.insert(Tree::Meta, INDEXED_KEY, &[1])?;
        self.flush_now()?;
        if found > 0 {
            tracing::info!(found, "mentions whose copies expire under their network's terms are now looked after hourly");
        }
        Ok(())
    }
}
