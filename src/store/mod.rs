//! The only module that knows sled. Everything earshot must not forget lives here: mentions and
//! their numbers, the dedup index, who holds what, source cursors and credentials, history and
//! the outbox.
//!
//! Invariants:
//! - Every change that touches more than one key is one sled transaction.
//! - Methods that acknowledge something to a person or a network flush to disk before returning.
//! - A source cursor is written in the same transaction as the mentions fetched up to it.

mod check;
mod credentials;
mod edits;
mod followup;
mod keys;
mod mentions;
mod outbox;
mod storm;
mod upgrade;
mod windows;

use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::domain::Refusal;

pub use credentials::{Credentials, Grant};
pub use mentions::Page;
pub use outbox::{Effect, OutboxEntry, OutboxId};
pub use storm::StormMode;

/// Bumped whenever the on-disk layout changes; a store written by another version is refused
/// rather than misread, except the versions [`Store::upgrade`] knows how to bring forward.
/// Version 2 added the `settled` index.
pub const SCHEMA_VERSION: u64 = 2;

const SCHEMA_KEY: &[u8] = b"schema_version";
const NEXT_NUMBER_KEY: &[u8] = b"next_number";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("the store at {path} has schema version {found}, but this earshot reads version {expected}; use the earshot release that wrote it, or move the folder away to start afresh")]
    Schema {
        path: PathBuf,
        found: u64,
        expected: u64,
    },
    #[error("the store at {path} holds data but no schema version; it was not written by earshot")]
    Foreign { path: PathBuf },
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("the store at {path} is inconsistent: {problem}; restore a backup, or move the folder away to start afresh")]
    Inconsistent { path: PathBuf, problem: String },
    #[error("the store stopped writing after a storage failure: {0}")]
    Broken(String),
    #[error("the store did not finish writing to disk within {}s (is the disk full or failing?)", .0.as_secs())]
    Stalled(std::time::Duration),
    #[error("a stored {what} could not be read: {source}")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("no mention #{0}")]
    NoSuchMention(u64),
    #[error(transparent)]
    Refused(#[from] Refusal),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    path: PathBuf,
    /// The chats every mention is relayed to, by name; each gets its own outbox effects.
    chats: Vec<String>,
    meta: sled::Tree,
    mentions: sled::Tree,
    /// (source, network id) -> number: the dedup index.
    keys: sled::Tree,
    /// (status, number) -> (): what `list` and the digest scan.
    by_status: sled::Tree,
    /// (member id, number) -> (): `list mine`.
    by_owner: sled::Tree,
    cursors: sled::Tree,
    history: sled::Tree,
    outbox: sled::Tree,
    /// (chat, number) -> the chat's message id, so updates edit the message they posted.
    messages: sled::Tree,
    /// (source, the network's id of an answer earshot posted) -> the mention it answered, so a
    /// reply to that answer is known as a follow-up.
    answers: sled::Tree,
    /// Scores each mention at ingest (see [`Store::with_lexicon`]).
    lexicon: std::sync::Arc<crate::domain::Lexicon>,
    /// number -> how far reminders for it have gone, and its snooze.
    chase: sled::Tree,
    /// source name -> the outcome of its recent polls.
    health: sled::Tree,
    /// (time, number) -> (): when a mention reached answered or done, so the digest finds
    /// yesterday's answers without reading every mention ever stored.
    settled: sled::Tree,
    /// Storm mode, when on (see [`Store::with_storm`]).
    storm: Option<std::sync::Arc<StormMode>>,
    /// source name -> the OAuth grant it last received (see [`Credentials`]).
    credentials: sled::Tree,
    /// Which channel new mentions land in, per chat (see [`Store::with_routes`]).
    routes: std::sync::Arc<crate::domain::routing::Routes>,
    /// Set at the first storage failure (a full or failing disk): from then on nothing more is
    /// written, and the app stops, rather than go on with state the disk may not hold.
    broken: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl Store {
    /// Opens (or creates) the store in `path`, relaying to `chats`.
    pub fn open(path: &Path, chats: Vec<String>) -> Result<Store> {
        let config = sled::Config::new()
            .path(path)
            // Mentions are small and mostly cold once handled; a bounded cache keeps the bot's
            // memory flat as history grows (sled counts on-disk bytes, so RSS is a few times this).
            .cache_capacity(8 * 1024 * 1024);
        let db = open_when_unlocked(&config).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Store::from_db(db, path.to_path_buf(), chats)
    }

    /// A store that lives in memory and vanishes on drop, for tests and benchmarks.
    pub fn temporary(chats: Vec<String>) -> Result<Store> {
        let db = sled::Config::new().temporary(true).open()?;
        Store::from_db(db, PathBuf::from("(temporary)"), chats)
    }

    fn from_db(db: sled::Db, path: PathBuf, chats: Vec<String>) -> Result<Store> {
        let store = Store {
            meta: db.open_tree("meta")?,
            mentions: db.open_tree("mentions")?,
            keys: db.open_tree("keys")?,
            by_status: db.open_tree("by_status")?,
            by_owner: db.open_tree("by_owner")?,
            cursors: db.open_tree("cursors")?,
            history: db.open_tree("history")?,
            outbox: db.open_tree("outbox")?,
            messages: db.open_tree("messages")?,
            answers: db.open_tree("answers")?,
            lexicon: Default::default(),
            chase: db.open_tree("chase")?,
            health: db.open_tree("health")?,
            settled: db.open_tree("settled")?,
            storm: None,
            credentials: db.open_tree("credentials")?,
            routes: Default::default(),
            broken: Default::default(),
            db,
            path,
            chats,
        };
        store.check_schema()?;
        store.check_indexes()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<()> {
        match self.meta.get(SCHEMA_KEY)? {
            Some(found) => {
                let found = keys::read_u64(&found);
                if found == 1 {
                    return self.upgrade_from_1();
                }
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        path: self.path.clone(),
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            None => {
                if !self.mentions.is_empty() || !self.keys.is_empty() || !self.meta.is_empty() {
                    return Err(StoreError::Foreign {
                        path: self.path.clone(),
                    });
                }
                self.meta
                    .insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                self.db.flush()?;
            }
        }
        Ok(())
    }

    /// Scores new mentions with `lexicon` instead of the shipped one.
    pub fn with_lexicon(mut self, lexicon: crate::domain::Lexicon) -> Store {
        self.lexicon = std::sync::Arc::new(lexicon);
        self
    }

    /// Where the store lives on disk (`(temporary)` for one in memory).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Places new mentions with `routes` (none: every mention in each chat's own channel).
    pub fn with_routes(mut self, routes: crate::domain::routing::Routes) -> Store {
        self.routes = std::sync::Arc::new(routes);
        self
    }

    pub fn routes(&self) -> &crate::domain::routing::Routes {
        &self.routes
    }

    pub fn chats(&self) -> &[String] {
        &self.chats
    }

    /// Waits until everything written so far is on disk, for at most [`FLUSH_LIMIT`]: on a full
    /// or failing disk sled's flush can wait for ever.
    pub async fn flush(&self) -> Result<()> {
        self.writable()?;
        let flushed = match tokio::time::timeout(FLUSH_LIMIT, self.db.flush_async()).await {
            Ok(flushed) => flushed.map(|_| ()).map_err(StoreError::from),
            Err(_) => Err(StoreError::Stalled(FLUSH_LIMIT)),
        };
        self.watch(flushed)
    }

    /// Why the store stopped writing, if it did (see [`Store::watch`]).
    pub fn broken(&self) -> Option<&str> {
        self.broken.get().map(String::as_str)
    }

    /// Passes `result` on, remembering a storage failure in it: the store then refuses to
    /// write, and the app, which watches [`Store::broken`], stops with a failure code.
    pub fn watch<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(error) = &result {
            if error.is_storage() && self.broken.set(error.to_string()).is_ok() {
                tracing::error!(path = %self.path.display(), %error, "the store cannot write (is the disk full?); earshot stops writing and exits");
            }
        }
        result
    }

    fn writable(&self) -> Result<()> {
        match self.broken() {
            Some(reason) => Err(StoreError::Broken(reason.to_string())),
            None => Ok(()),
        }
    }

    /// The blocking twin of [`Store::flush`], for code that is not async; bounded the same way
    /// (the flush goes on in its own thread, which the process leaves behind when it exits).
    pub fn flush_now(&self) -> Result<()> {
        self.writable()?;
        let flushed = self.flush_blocking();
        self.watch(flushed)
    }

    fn flush_blocking(&self) -> Result<()> {
        let db = self.db.clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(db.flush());
        });
        match receiver.recv_timeout(FLUSH_LIMIT) {
            Ok(flushed) => {
                flushed?;
                Ok(())
            }
            Err(_) => Err(StoreError::Stalled(FLUSH_LIMIT)),
        }
    }
}

/// A flush that has not finished by then counts as a storage failure: earshot stops rather than
/// going on with state the disk may not hold.
const FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

impl StoreError {
    /// The disk itself failed (full, broken, stalled): no retry is safe, the app must stop.
    pub fn is_storage(&self) -> bool {
        matches!(
            self,
            StoreError::Sled(_) | StoreError::Stalled(_) | StoreError::Broken(_)
        )
    }
}

/// How long to wait for a previous earshot (or a just-dropped handle, whose flusher thread lets
/// go a moment later) to release the store's file lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

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

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Our records are plain data (strings, numbers, enums); serialising them cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { what, source })
}

/// Turns an aborted or failed transaction back into our error type.
fn settle<T>(result: std::result::Result<T, TransactionError<StoreError>>) -> Result<T> {
    result.map_err(|error| match error {
        TransactionError::Abort(error) => error,
        TransactionError::Storage(error) => StoreError::Sled(error),
    })
}

fn abort(error: impl Into<StoreError>) -> ConflictableTransactionError<StoreError> {
    ConflictableTransactionError::Abort(error.into())
}
