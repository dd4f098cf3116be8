//! The only module that knows how earshot keeps its state (in sled, or PostgreSQL: see
//! `engine`). Everything earshot must not forget lives here: mentions and their numbers, the
//! dedup index, who holds what, source cursors and credentials, history and the outbox.
//!
//! Invariants:
//! - Every change that touches more than one key is one transaction.
//! - Methods that acknowledge something to a person or a network flush to disk before returning.
//! - A source cursor is written in the same transaction as the mentions fetched up to it.

mod check;
mod copy;
mod credentials;
mod edits;
mod engine;
mod followup;
mod keys;
mod leases;
mod location;
mod mentions;
mod outbox;
mod retention;
mod scoring;
mod storm;
mod upgrade;
mod windows;

use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};

use engine::postgres::SchemaState;
use engine::{Engine, PgEngine, SledEngine, Tree, TxError};

use crate::domain::Refusal;

pub use copy::Copied;
pub use credentials::{Credentials, Grant};
pub use engine::Lease;
pub use leases::{Fence, LEADER};
pub use location::{DatabaseUrl, Location};
pub use mentions::Page;
pub use outbox::{Effect, OutboxEntry, OutboxId};
pub use storm::StormMode;
pub use windows::Held;

/// Bumped whenever the on-disk layout changes; a store written by another version is refused
/// rather than misread, except the versions [`Store::upgrade`] knows how to bring forward.
/// Version 2 added the `settled` index; version 3 records what earshot did itself as done by
/// `"earshot"` (`domain::Actor::System`), not by a member of that name.
pub const SCHEMA_VERSION: u64 = 3;

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
    #[error("the store at {at} has schema version {found}, but this earshot reads version {expected}; use the earshot release that wrote it, or move it away to start afresh")]
    Schema {
        at: Location,
        found: u64,
        expected: u64,
    },
    #[error("the store at {at} holds data but no schema version; it was not written by earshot")]
    Foreign { at: Location },
    #[error("the store at {at} {why}: run `earshot migrate` (with the same --config) first")]
    Unmigrated { at: Location, why: String },
    #[error("the store at {at} {what}")]
    NotEmpty { at: Location, what: String },
    #[error("the copy at {at} does not match the original: {problem}; nothing was removed from the original")]
    CopyDiffers { at: Location, problem: String },
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    #[error("database error: {0}")]
    Postgres(String),
    #[error("cannot reach the database at {at}: {problem}")]
    Unreachable { at: Location, problem: String },
    #[error("the store at {at} is inconsistent: {problem}; restore a backup, or move it away to start afresh")]
    Inconsistent { at: Location, problem: String },
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
    #[error("this process no longer leads ({0}); it wrote nothing, the leader does")]
    Fenced(String),
    #[error("no mention #{0}")]
    NoSuchMention(u64),
    #[error(transparent)]
    Refused(#[from] Refusal),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Whether opening a store may write its schema: a folder's is made and brought forward at
/// open, as it always was; a database's only by `earshot migrate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schema {
    Bring,
    Check,
}

#[derive(Clone)]
pub struct Store {
    /// The trees (see [`engine::Tree`] for what each holds): sled in a folder, or PostgreSQL.
    engine: Engine,
    location: Location,
    /// The chats every mention is relayed to, by name; each gets its own outbox effects.
    chats: Vec<String>,
    /// Scores each mention at ingest (see [`Store::with_lexicon`]).
    lexicon: std::sync::Arc<crate::domain::Lexicon>,
    /// Storm mode, when on (see [`Store::with_storm`]).
    storm: Option<std::sync::Arc<StormMode>>,
    /// Which channel new mentions land in, per chat (see [`Store::with_routes`]).
    routes: std::sync::Arc<crate::domain::routing::Routes>,
    /// Set at the first storage failure (a full or failing disk): from then on nothing more is
    /// written, and the app stops, rather than go on with state the disk may not hold.
    broken: std::sync::Arc<std::sync::OnceLock<String>>,
    /// Set on the leader's handle (see [`Store::fenced`]).
    fence: Option<Fence>,
}

impl Store {
    /// Opens (or creates) the store in `path`, relaying to `chats`.
    pub fn open(path: &Path, chats: Vec<String>) -> Result<Store> {
        let engine = SledEngine::open(path).map_err(|source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let location = Location::Folder(path.to_path_buf());
        Store::on(Engine::Sled(engine), location, chats, Schema::Bring)
    }

    /// Opens the store at `location`: a folder as [`Store::open`] does, a database whose tables
    /// `earshot migrate` made (a database is never changed at start; see [`Store::migrate`]).
    pub fn open_at(location: &Location, chats: Vec<String>) -> Result<Store> {
        match location {
            Location::Folder(path) => Store::open(path, chats),
            Location::Postgres(url) => {
                let engine = Store::connect(location, url)?;
                match engine.schema_state()? {
                    SchemaState::Present => {}
                    SchemaState::Missing => {
                        return Err(StoreError::Unmigrated {
                            at: location.clone(),
                            why: "has no earshot tables".into(),
                        })
                    }
                    SchemaState::Partial => {
                        return Err(StoreError::Unmigrated {
                            at: location.clone(),
                            why: "lacks some of earshot's tables".into(),
                        })
                    }
                }
                Store::on(
                    Engine::Postgres(engine),
                    location.clone(),
                    chats,
                    Schema::Check,
                )
            }
        }
    }

    /// Creates or brings forward the store at `location` (`earshot migrate`) and says what it
    /// did. A folder is brought forward by opening it.
    pub fn migrate(location: &Location) -> Result<String> {
        let Location::Postgres(url) = location else {
            Store::open_at(location, Vec::new())?;
            return Ok(format!(
                "the store at {location} is at schema version {SCHEMA_VERSION}"
            ));
        };
        let engine = Store::connect(location, url)?;
        let created = engine.schema_state()? != SchemaState::Present;
        engine.create_schema()?;
        let engine = Engine::Postgres(engine);
        let before = engine
            .get(Tree::Meta, SCHEMA_KEY)?
            .map(|found| keys::read_u64(&found));
        Store::on(engine, location.clone(), Vec::new(), Schema::Bring)?;
        Ok(match (created, before) {
            (_, Some(found)) if found != SCHEMA_VERSION => format!(
                "brought the store at {location} from schema version {found} to {SCHEMA_VERSION}"
            ),
            (true, _) | (_, None) => format!(
                "created earshot's tables at {location} (schema version {SCHEMA_VERSION})"
            ),
            (false, Some(_)) => format!(
                "the store at {location} is already at schema version {SCHEMA_VERSION}; nothing to do"
            ),
        })
    }

    fn connect(location: &Location, url: &DatabaseUrl) -> Result<PgEngine> {
        PgEngine::connect(url.expose()).map_err(|error| StoreError::Unreachable {
            at: location.clone(),
            problem: match error {
                StoreError::Postgres(problem) => problem,
                other => other.to_string(),
            },
        })
    }

    /// A store that lives in memory and vanishes on drop, for tests and benchmarks.
    pub fn temporary(chats: Vec<String>) -> Result<Store> {
        let engine = SledEngine::temporary()?;
        let location = Location::Folder(PathBuf::from("(temporary)"));
        Store::on(Engine::Sled(engine), location, chats, Schema::Bring)
    }

    fn on(engine: Engine, location: Location, chats: Vec<String>, schema: Schema) -> Result<Store> {
        let store = Store {
            engine,
            location,
            chats,
            lexicon: Default::default(),
            storm: None,
            routes: Default::default(),
            broken: Default::default(),
            fence: None,
        };
        store.check_schema(schema)?;
        store.check_indexes()?;
        Ok(store)
    }

    fn check_schema(&self, schema: Schema) -> Result<()> {
        match self.engine.get(Tree::Meta, SCHEMA_KEY)? {
            Some(found) => {
                let found = keys::read_u64(&found);
                let older = (1..SCHEMA_VERSION).contains(&found);
                if older && schema == Schema::Check {
                    return Err(StoreError::Unmigrated {
                        at: self.location.clone(),
                        why: format!(
                            "has schema version {found}, older than this earshot's {SCHEMA_VERSION}"
                        ),
                    });
                }
                if older {
                    return self.upgrade(found);
                }
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        at: self.location.clone(),
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            None => {
                if !self.engine.is_empty(Tree::Mentions)?
                    || !self.engine.is_empty(Tree::Keys)?
                    || !self.engine.is_empty(Tree::Meta)?
                {
                    return Err(StoreError::Foreign {
                        at: self.location.clone(),
                    });
                }
                if schema == Schema::Check {
                    return Err(StoreError::Unmigrated {
                        at: self.location.clone(),
                        why: "holds no schema version".into(),
                    });
                }
                self.engine
                    .insert(Tree::Meta, SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
                self.engine.flush_blocking(FLUSH_LIMIT)?;
            }
        }
        Ok(())
    }

    /// Scores new mentions with `lexicon` instead of the shipped one.
    pub fn with_lexicon(mut self, lexicon: crate::domain::Lexicon) -> Store {
        self.lexicon = std::sync::Arc::new(lexicon);
        self
    }

    /// Where the store lives: a folder (`(temporary)` for one in memory) or a database.
    pub fn location(&self) -> &Location {
        &self.location
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
        let flushed = match tokio::time::timeout(FLUSH_LIMIT, self.engine.flush()).await {
            Ok(flushed) => flushed,
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
                tracing::error!(store = %self.location, %error, "the store cannot write (is the disk full?); earshot stops writing and exits");
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
        let flushed = self.engine.flush_blocking(FLUSH_LIMIT);
        self.watch(flushed)
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
            StoreError::Sled(_)
                | StoreError::Postgres(_)
                | StoreError::Stalled(_)
                | StoreError::Broken(_)
        )
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Our records are plain data (strings, numbers, enums); serialising them cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt { what, source })
}

/// Gives up a transaction with `error`: nothing it wrote is kept.
fn abort(error: impl Into<StoreError>) -> TxError {
    TxError::Abort(error.into())
}
