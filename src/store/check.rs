//! At open, the store's indexes are checked against each other where an interrupted write (a
//! full disk, a crash) would leave its mark: the number counter against the newest mention, and
//! for the newest mentions the dedup index and the status index against the mentions
//! themselves. What the mentions say is right is repaired; what cannot be repaired safely (one
//! post stored under two numbers) is refused with a clear message.

use super::engine::{Scan, Tree};
use super::{decode, keys, Result, Store, StoreError, NEXT_NUMBER_KEY};
use crate::domain::{Status, Tracked};

/// How many of the newest mentions the check reads: a write interrupted before a restart
/// concerns the last ones stored, and a full scan would page the whole store in at every start.
const CHECK_TAIL: usize = 1_000;

impl Store {
    pub(super) fn check_indexes(&self) -> Result<()> {
        let last = match self.engine.last(Tree::Mentions)? {
            Some((key, _)) => keys::read_u64(&key),
            None => 0,
        };
        let next = self
            .engine
            .get(Tree::Meta, NEXT_NUMBER_KEY)?
            .map_or(1, |bytes| keys::read_u64(&bytes));
        let mut repairs = Vec::new();
        if next != last + 1 {
            // Lower: the next numbers would overwrite stored mentions. Higher: the numbers above
            // the newest mention were never stored, so no card showed them.
            self.engine
                .insert(Tree::Meta, NEXT_NUMBER_KEY, &keys::number(last + 1))?;
            repairs.push(format!(
                "the number counter said {next} after mention #{last}; set to {}",
                last + 1
            ));
        }
        let mut twice = Vec::new();
        let tail = self.engine.scan(Tree::Mentions, Scan::all().rev());
        for item in tail.take(CHECK_TAIL) {
            let (key, bytes) = item?;
            let number = keys::read_u64(&key);
            let tracked: Tracked = decode("mention", &bytes)?;
            let dedup = keys::mention_key(&tracked.mention.key);
            match self.engine.get(Tree::Keys, &dedup)? {
                Some(found) if keys::read_u64(&found) == number => {}
                Some(found) => twice.push((keys::read_u64(&found), number)),
                None => {
                    self.engine
                        .insert(Tree::Keys, &dedup, &keys::number(number))?;
                    repairs.push(format!("#{number} was missing from the dedup index"));
                }
            }
            let status = tracked.state.status();
            for other in Status::ALL {
                let index = keys::by_status(other, number);
                let present = self.engine.get(Tree::ByStatus, &index)?.is_some();
                if other == status && !present {
                    self.engine
                        .insert(Tree::ByStatus, &index, &keys::rank(&tracked.priority))?;
                    repairs.push(format!("#{number} was missing from the status index"));
                } else if other != status && present {
                    self.engine.remove(Tree::ByStatus, &index)?;
                    repairs.push(format!("#{number} was listed as {other:?} too"));
                }
            }
        }
        if !twice.is_empty() {
            let pairs: Vec<String> = twice
                .iter()
                .map(|(first, second)| format!("#{first} and #{second}"))
                .collect();
            return Err(StoreError::Inconsistent {
                at: self.location.clone(),
                problem: format!(
                    "the same post is stored under two numbers ({}); earshot will not guess which to keep",
                    pairs.join(", ")
                ),
            });
        }
        if !repairs.is_empty() {
            self.engine.flush_blocking(super::FLUSH_LIMIT)?;
            tracing::warn!(store = %self.location, repairs = %repairs.join("; "), "repaired the store's indexes at open (an earlier write was interrupted)");
        }
        Ok(())
    }
}
