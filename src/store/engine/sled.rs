//! The sled engine: one sled database in a folder, a sled tree per [`Tree`].

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use sled::transaction::{
    ConflictableTransactionError, TransactionalTree, UnabortableTransactionError,
};
use sled::Transactional;

use super::{Entries, Entry, Scan, Tree, Tx, TxError, TxResult};
use crate::store::{Result, StoreError};

#[derive(Clone)]
pub struct SledEngine {
    db: sled::Db,
    trees: Arc<Vec<sled::Tree>>,
    /// The folder is locked to one process, so its leases need not outlive it.
    leases: super::MemoryLeases,
}

/// How long to wait for a previous earshot (or a just-dropped handle, whose flusher thread lets
/// go a moment later) to release the store's file lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl SledEngine {
    /// Opens (or creates) the database in `path`.
    pub fn open(path: &Path) -> std::result::Result<SledEngine, sled::Error> {
        let config = sled::Config::new()
            .path(path)
            // Mentions are small and mostly cold once handled; a bounded cache keeps the bot's
            // memory flat as history grows (sled counts on-disk bytes, so RSS is a few times this).
            .cache_capacity(8 * 1024 * 1024);
        SledEngine::with_db(open_when_unlocked(&config)?)
    }

    /// A database in memory that vanishes on drop.
    pub fn temporary() -> std::result::Result<SledEngine, sled::Error> {
        SledEngine::with_db(sled::Config::new().temporary(true).open()?)
    }

    fn with_db(db: sled::Db) -> std::result::Result<SledEngine, sled::Error> {
        let trees = Tree::ALL
            .iter()
            .map(|tree| db.open_tree(tree.name()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(SledEngine {
            db,
            trees: Arc::new(trees),
            leases: Default::default(),
        })
    }

    pub(super) fn leases(&self) -> &super::MemoryLeases {
        &self.leases
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.index()]
    }

    pub(super) fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.tree(tree).get(key)?.map(|value| value.to_vec()))
    }

    pub(super) fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<()> {
        self.tree(tree).insert(key, value)?;
        Ok(())
    }

    pub(super) fn remove(&self, tree: Tree, key: &[u8]) -> Result<()> {
        self.tree(tree).remove(key)?;
        Ok(())
    }

    pub(super) fn len(&self, tree: Tree) -> usize {
        self.tree(tree).len()
    }

    pub(super) fn scan(&self, tree: Tree, scan: Scan) -> Entries<'_> {
        let range = self
            .tree(tree)
            .range::<&[u8], _>((as_slice(&scan.lower), as_slice(&scan.upper)));
        let entry = |item: sled::Result<(sled::IVec, sled::IVec)>| -> Result<Entry> {
            let (key, value) = item?;
            Ok((key.to_vec(), value.to_vec()))
        };
        if scan.reverse {
            Box::new(range.rev().map(entry))
        } else {
            Box::new(range.map(entry))
        }
    }

    pub(super) fn transaction<T>(
        &self,
        trees: &[Tree],
        work: impl Fn(&mut dyn Tx) -> TxResult<T>,
    ) -> Result<T> {
        let chosen: Vec<sled::Tree> = trees.iter().map(|tree| self.tree(*tree).clone()).collect();
        let result = chosen.as_slice().transaction(|view| {
            let mut tx = SledTx { trees, view };
            work(&mut tx).map_err(|error| match error {
                TxError::Conflict => ConflictableTransactionError::Conflict,
                TxError::Abort(error) => ConflictableTransactionError::Abort(error),
            })
        });
        result.map_err(|error| match error {
            sled::transaction::TransactionError::Abort(error) => error,
            sled::transaction::TransactionError::Storage(error) => StoreError::Sled(error),
        })
    }

    pub(super) fn load(&self, tree: Tree, entries: Vec<Entry>) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (key, value) in entries {
            batch.insert(key, value);
        }
        self.tree(tree).apply_batch(batch)?;
        Ok(())
    }

    pub(super) fn ids_above(&self, floor: u64) -> Result<()> {
        // sled's counter only counts up; a copied store's ids are at most a few per mention.
        while self.db.generate_id()? <= floor {}
        Ok(())
    }

    pub(super) async fn flush(&self) -> Result<()> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Flushes in a thread of its own, waiting at most `limit` (the thread is left behind if
    /// the disk never answers).
    pub(super) fn flush_blocking(&self, limit: std::time::Duration) -> Result<()> {
        let db = self.db.clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(db.flush());
        });
        match receiver.recv_timeout(limit) {
            Ok(flushed) => {
                flushed?;
                Ok(())
            }
            Err(_) => Err(StoreError::Stalled(limit)),
        }
    }
}

struct SledTx<'a> {
    /// The trees the transaction was opened on, in the order of `view`.
    trees: &'a [Tree],
    view: &'a Vec<TransactionalTree>,
}

impl SledTx<'_> {
    fn tree(&self, tree: Tree) -> TxResult<&TransactionalTree> {
        self.trees
            .iter()
            .position(|opened| *opened == tree)
            .and_then(|at| self.view.get(at))
            .ok_or_else(|| {
                TxError::Abort(StoreError::Broken(format!(
                    "a transaction touched the {} tree without opening it",
                    tree.name()
                )))
            })
    }
}

impl Tx for SledTx<'_> {
    fn get(&mut self, tree: Tree, key: &[u8]) -> TxResult<Option<Vec<u8>>> {
        Ok(self
            .tree(tree)?
            .get(key)
            .map_err(conflict)?
            .map(|value| value.to_vec()))
    }

    fn insert(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> TxResult<()> {
        self.tree(tree)?.insert(key, value).map_err(conflict)?;
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> TxResult<()> {
        self.tree(tree)?.remove(key).map_err(conflict)?;
        Ok(())
    }

    fn take(&mut self, tree: Tree, key: &[u8]) -> TxResult<Option<Vec<u8>>> {
        Ok(self
            .tree(tree)?
            .remove(key)
            .map_err(conflict)?
            .map(|value| value.to_vec()))
    }

    fn generate_id(&mut self) -> TxResult<u64> {
        let first = self.view.first().ok_or_else(|| {
            TxError::Abort(StoreError::Broken("a transaction opened no tree".into()))
        })?;
        first
            .generate_id()
            .map_err(|error| TxError::Abort(StoreError::Sled(error)))
    }
}

fn conflict(error: UnabortableTransactionError) -> TxError {
    match error {
        UnabortableTransactionError::Conflict => TxError::Conflict,
        UnabortableTransactionError::Storage(error) => TxError::Abort(StoreError::Sled(error)),
    }
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(key) => Bound::Included(key.as_slice()),
        Bound::Excluded(key) => Bound::Excluded(key.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn open_when_unlocked(config: &sled::Config) -> sled::Result<sled::Db> {
    let started = std::time::Instant::now();
    loop {
        match config.open() {
            // sled reports a held lock only in its message.
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock")
                    && started.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            result => return result,
        }
    }
}
