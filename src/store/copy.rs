//! `earshot migrate --to`: the store copied, tree by tree, into an empty store of either kind,
//! then read back and compared record by record. The number counter travels in the meta tree,
//! so numbering goes on where it stopped, with no gap.

use std::fmt;

use super::engine::{Entry, Scan, Tree};
use super::{keys, Location, Result, Store, StoreError, SCHEMA_KEY};

/// Entries read and written at a time: a large store is copied without holding it in memory.
const CHUNK: usize = 1_000;

/// What a copy brought over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub mentions: usize,
    pub history: usize,
    pub outbox: usize,
    /// Every record of every tree.
    pub records: usize,
}

impl fmt::Display for Copied {
    /// "copied 1,204 mentions, 3,977 history entries, 12 outbox effects"
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "copied {} mentions, {} history entries, {} outbox effects ({} records in all, each compared)",
            grouped(self.mentions),
            grouped(self.history),
            grouped(self.outbox),
            grouped(self.records)
        )
    }
}

impl Store {
    /// Copies this store into the empty store at `target` (made first: a database's tables,
    /// a folder), then compares every record. Refuses a target that holds anything.
    pub fn copy_into(&self, target: &Location) -> Result<Copied> {
        if *target == self.location {
            return Err(StoreError::NotEmpty {
                at: target.clone(),
                what: "is the store being copied".into(),
            });
        }
        if let Location::Postgres(_) = target {
            Store::migrate(target)?;
        }
        let into = Store::open_at(target, Vec::new())?;
        into.refuse_unless_empty()?;
        let mut copied = Copied {
            mentions: 0,
            history: 0,
            outbox: 0,
            records: 0,
        };
        let mut highest_id = 0;
        for tree in Tree::ALL {
            let mut count = 0;
            let mut chunk: Vec<Entry> = Vec::with_capacity(CHUNK);
            for entry in self.engine.scan(tree, Scan::all()) {
                let entry = entry?;
                if matches!(tree, Tree::Outbox | Tree::History) {
                    highest_id = highest_id.max(keys::trailing_number(&entry.0));
                }
                chunk.push(entry);
                count += 1;
                if chunk.len() == CHUNK {
                    into.engine.load(tree, std::mem::take(&mut chunk))?;
                }
            }
            into.engine.load(tree, chunk)?;
            match tree {
                Tree::Mentions => copied.mentions = count,
                Tree::History => copied.history = count,
                Tree::Outbox => copied.outbox = count,
                _ => {}
            }
            copied.records += count;
        }
        // New queue entries and history ids go after the ones copied.
        into.engine.ids_above(highest_id)?;
        into.engine.flush_blocking(super::FLUSH_LIMIT)?;
        self.compare(&into)?;
        Ok(copied)
    }

    fn refuse_unless_empty(&self) -> Result<()> {
        for tree in Tree::ALL {
            for entry in self.engine.scan(tree, Scan::all().keys()).take(2) {
                let (key, _) = entry?;
                // Opening a store writes its schema version, and nothing else.
                if tree == Tree::Meta && key == SCHEMA_KEY {
                    continue;
                }
                return Err(StoreError::NotEmpty {
                    at: self.location.clone(),
                    what: format!(
                        "is not empty (its {} hold entries); copy only into an empty store",
                        tree.name()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Reads both stores side by side, tree by tree, and names the first record that differs.
    fn compare(&self, copy: &Store) -> Result<()> {
        for tree in Tree::ALL {
            let mut theirs = copy.engine.scan(tree, Scan::all());
            for (index, ours) in self.engine.scan(tree, Scan::all()).enumerate() {
                let ours = ours?;
                match theirs.next().transpose()? {
                    Some(copied) if copied == ours => {}
                    _ => {
                        return Err(StoreError::CopyDiffers {
                            at: copy.location.clone(),
                            problem: format!("record {} of {} differs", index + 1, tree.name()),
                        })
                    }
                }
            }
            if theirs.next().transpose()?.is_some() {
                return Err(StoreError::CopyDiffers {
                    at: copy.location.clone(),
                    problem: format!("{} holds more records than the original", tree.name()),
                });
            }
        }
        Ok(())
    }
}

/// 1204 -> "1,204".
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1_204), "1,204");
        assert_eq!(super::grouped(1_234_567), "1,234,567");
    }
}
