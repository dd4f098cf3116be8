//! The storage engine under the store: named trees of byte keys and values, read by key, by
//! prefix or by range (forward or backward), and changed together in transactions whose
//! closure runs again when another writer got in the way. Two engines implement it: sled, in a
//! folder (the default), and PostgreSQL, in a database (`[store] url`). Every rule about
//! mentions, numbers, indexes and the outbox lives in the store above it, once, for both.

mod lease;
pub mod postgres;
mod sled;

use std::ops::Bound;

use super::{Result, StoreError};

pub use self::lease::{Lease, MemoryLeases};
pub use self::postgres::PgEngine;
pub use self::sled::SledEngine;

/// The store's trees. Each is a sled tree of the same name, or the table `earshot_<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tree {
    /// The schema version, the number counter, sent dates, storm weather.
    Meta,
    /// number -> the mention as tracked.
    Mentions,
    /// (source, network id) -> number: the dedup index.
    Keys,
    /// (status, number) -> rank and lane: what `list` and the digest scan.
    ByStatus,
    /// (member id, number) -> (): `list mine`.
    ByOwner,
    Cursors,
    /// (number, id) -> one transition.
    History,
    Outbox,
    /// (chat, number) -> the chat's message id, so updates edit the message they posted.
    Messages,
    /// (source, the network's id of an answer earshot posted) -> the mention it answered, so a
    /// reply to that answer is known as a follow-up.
    Answers,
    /// number -> how far reminders for it have gone, and its snooze.
    Chase,
    /// source name -> the outcome of its recent polls.
    Health,
    /// (time, number) -> (): when a mention reached answered or done, so the digest finds
    /// yesterday's answers without reading every mention ever stored.
    Settled,
    /// source name -> the OAuth grant it last received (see `store::Credentials`).
    Credentials,
}

impl Tree {
    pub const ALL: [Tree; 14] = [
        Tree::Meta,
        Tree::Mentions,
        Tree::Keys,
        Tree::ByStatus,
        Tree::ByOwner,
        Tree::Cursors,
        Tree::History,
        Tree::Outbox,
        Tree::Messages,
        Tree::Answers,
        Tree::Chase,
        Tree::Health,
        Tree::Settled,
        Tree::Credentials,
    ];

    /// The name sled has always stored the tree under (and the table's suffix).
    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Mentions => "mentions",
            Tree::Keys => "keys",
            Tree::ByStatus => "by_status",
            Tree::ByOwner => "by_owner",
            Tree::Cursors => "cursors",
            Tree::History => "history",
            Tree::Outbox => "outbox",
            Tree::Messages => "messages",
            Tree::Answers => "answers",
            Tree::Chase => "chase",
            Tree::Health => "health",
            Tree::Settled => "settled",
            Tree::Credentials => "credentials",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One key and its value, as a scan hands them out.
pub type Entry = (Vec<u8>, Vec<u8>);

/// What a scan reads: a range of keys, in which direction, and whether the values are wanted.
#[derive(Debug, Clone)]
pub struct Scan {
    pub lower: Bound<Vec<u8>>,
    pub upper: Bound<Vec<u8>>,
    pub reverse: bool,
    /// Only the keys: values come back empty (a database then need not send them).
    pub keys_only: bool,
}

impl Scan {
    pub fn all() -> Scan {
        Scan {
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            reverse: false,
            keys_only: false,
        }
    }

    /// The keys that start with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Scan {
        Scan {
            lower: Bound::Included(prefix.to_vec()),
            upper: successor(prefix).map_or(Bound::Unbounded, Bound::Excluded),
            ..Scan::all()
        }
    }

    /// The keys in `[from, to)`.
    pub fn between(from: &[u8], to: &[u8]) -> Scan {
        Scan {
            lower: Bound::Included(from.to_vec()),
            upper: Bound::Excluded(to.to_vec()),
            ..Scan::all()
        }
    }

    /// The same keys, the greatest first.
    pub fn rev(mut self) -> Scan {
        self.reverse = true;
        self
    }

    pub fn keys(mut self) -> Scan {
        self.keys_only = true;
        self
    }
}

/// The smallest key greater than every key that starts with `prefix` (none when every byte is
/// 0xFF, or it is empty: then the scan runs to the end).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut next = prefix.to_vec();
    while let Some(last) = next.pop() {
        if last < u8::MAX {
            next.push(last + 1);
            return Some(next);
        }
    }
    None
}

/// Entries in scan order; a database reads them a page at a time, so `take(n)` reads about n.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry>> + Send + 'a>;

/// Why a transaction's closure stopped: another writer got in the way (it runs again), or it
/// gives up with an error (nothing it wrote is kept).
#[derive(Debug)]
pub enum TxError {
    Conflict,
    Abort(StoreError),
}

impl From<StoreError> for TxError {
    fn from(error: StoreError) -> TxError {
        TxError::Abort(error)
    }
}

impl From<crate::domain::Refusal> for TxError {
    fn from(refusal: crate::domain::Refusal) -> TxError {
        TxError::Abort(refusal.into())
    }
}

pub type TxResult<T> = std::result::Result<T, TxError>;

/// The reads and writes of one transaction. What it writes it reads back; nothing is seen by
/// others until the closure returns `Ok` and the transaction commits.
pub trait Tx {
    fn get(&mut self, tree: Tree, key: &[u8]) -> TxResult<Option<Vec<u8>>>;
    fn insert(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> TxResult<()>;
    fn remove(&mut self, tree: Tree, key: &[u8]) -> TxResult<()>;
    /// Removes `key` and returns what it held.
    fn take(&mut self, tree: Tree, key: &[u8]) -> TxResult<Option<Vec<u8>>>;
    /// A number never handed out before by this store, greater than those before it in the
    /// same process (queue positions, history entries). Not the mention counter: these may
    /// skip, mention numbers may not.
    fn generate_id(&mut self) -> TxResult<u64>;
    /// A hint that `keys` of `tree` will be read: a database fetches them in one round trip.
    fn prefetch(&mut self, _tree: Tree, _keys: &[Vec<u8>]) -> TxResult<()> {
        Ok(())
    }
    /// The holder and epoch of lease `name`, read so that the transaction commits only if they
    /// still hold when it does (see [`Engine::acquire`]). `None`: no such lease. A sled store's
    /// leases are its one process's, which nobody else can take; it says so with `None`.
    fn lease(&mut self, _name: &str) -> TxResult<Option<(String, u64)>> {
        Ok(None)
    }
}

/// The engine a store runs on.
#[derive(Clone)]
pub enum Engine {
    Sled(SledEngine),
    Postgres(PgEngine),
}

impl Engine {
    pub fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self {
            Engine::Sled(engine) => engine.get(tree, key),
            Engine::Postgres(engine) => engine.get(tree, key),
        }
    }

    pub fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<()> {
        match self {
            Engine::Sled(engine) => engine.insert(tree, key, value),
            Engine::Postgres(engine) => engine.insert(tree, key, value),
        }
    }

    pub fn remove(&self, tree: Tree, key: &[u8]) -> Result<()> {
        match self {
            Engine::Sled(engine) => engine.remove(tree, key),
            Engine::Postgres(engine) => engine.remove(tree, key),
        }
    }

    pub fn scan(&self, tree: Tree, scan: Scan) -> Entries<'_> {
        match self {
            Engine::Sled(engine) => engine.scan(tree, scan),
            Engine::Postgres(engine) => engine.scan(tree, scan),
        }
    }

    /// How many entries `tree` holds (both engines count them: keep it off hot paths).
    pub fn len(&self, tree: Tree) -> Result<usize> {
        match self {
            Engine::Sled(engine) => Ok(engine.len(tree)),
            Engine::Postgres(engine) => engine.len(tree),
        }
    }

    pub fn is_empty(&self, tree: Tree) -> Result<bool> {
        Ok(self
            .scan(tree, Scan::all().keys())
            .next()
            .transpose()?
            .is_none())
    }

    /// The greatest key of `tree` and its value.
    pub fn last(&self, tree: Tree) -> Result<Option<Entry>> {
        self.scan(tree, Scan::all().rev()).next().transpose()
    }

    /// Runs `work` in one transaction over `trees` (the only trees it may touch), again after
    /// a conflict, and commits what it wrote when it returns `Ok`.
    pub fn transaction<T>(
        &self,
        trees: &[Tree],
        work: impl Fn(&mut dyn Tx) -> TxResult<T>,
    ) -> Result<T> {
        match self {
            Engine::Sled(engine) => engine.transaction(trees, work),
            Engine::Postgres(engine) => engine.transaction(work),
        }
    }

    /// Renews lease `name` for `holder` for `ttl`, or takes it if it expired; `None` while
    /// another holds it.
    pub fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<Lease>> {
        match self {
            Engine::Sled(engine) => Ok(engine.leases().acquire(name, holder, ttl)),
            Engine::Postgres(engine) => engine.acquire(name, holder, ttl),
        }
    }

    /// Takes (or renews) those of the leases `names` nobody else holds, without waiting for
    /// any: the outbox's lanes.
    pub fn take(
        &self,
        names: &[String],
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<Vec<String>> {
        match self {
            Engine::Sled(engine) => Ok(engine.leases().take(names, holder, ttl)),
            Engine::Postgres(engine) => engine.take(names, holder, ttl),
        }
    }

    /// Ends `holder`'s lease `name` now, keeping its epoch for the next term.
    pub fn release(&self, name: &str, holder: &str) -> Result<()> {
        match self {
            Engine::Sled(engine) => {
                engine.leases().release(name, holder);
                Ok(())
            }
            Engine::Postgres(engine) => engine.release(name, holder),
        }
    }

    /// Ends and forgets `holder`'s leases `names` (lanes, which need no epoch).
    pub fn forget(&self, names: &[String], holder: &str) -> Result<()> {
        match self {
            Engine::Sled(engine) => {
                engine.leases().forget(names, holder);
                Ok(())
            }
            Engine::Postgres(engine) => engine.forget(names, holder),
        }
    }

    /// Lease `name` as it stands, if anyone ever held it.
    pub fn lease(&self, name: &str) -> Result<Option<Lease>> {
        match self {
            Engine::Sled(engine) => Ok(engine.leases().read(name)),
            Engine::Postgres(engine) => engine.read_lease(name),
        }
    }

    /// Writes many entries of one tree, for copying a store (see `store::copy`).
    pub fn load(&self, tree: Tree, entries: Vec<Entry>) -> Result<()> {
        match self {
            Engine::Sled(engine) => engine.load(tree, entries),
            Engine::Postgres(engine) => engine.load(tree, entries),
        }
    }

    /// Makes every id [`Tx::generate_id`] hands out from now on greater than `floor`: a copied
    /// store's queue goes on after the entries it brought.
    pub fn ids_above(&self, floor: u64) -> Result<()> {
        match self {
            Engine::Sled(engine) => engine.ids_above(floor),
            Engine::Postgres(engine) => engine.ids_above(floor),
        }
    }

    /// Waits until what was written is on disk. A PostgreSQL commit already is.
    pub async fn flush(&self) -> Result<()> {
        match self {
            Engine::Sled(engine) => engine.flush().await,
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// The blocking twin of [`Engine::flush`].
    pub fn flush_blocking(&self, limit: std::time::Duration) -> Result<()> {
        match self {
            Engine::Sled(engine) => engine.flush_blocking(limit),
            Engine::Postgres(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_scan_ends_before_the_next_prefix() {
        assert_eq!(successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(successor(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(successor(&[0xFF, 0xFF]), None);
        assert_eq!(successor(b""), None);
    }
}
