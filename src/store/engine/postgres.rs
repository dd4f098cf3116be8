//! The PostgreSQL engine: a table per tree, `earshot_<tree>(key bytea PRIMARY KEY, value bytea
//! NOT NULL)`, so the dedup index's primary key is the unique constraint that keeps two pollers
//! of one source from storing a mention twice. Transactions are SERIALIZABLE and run again when
//! PostgreSQL reports a conflict; the mention counter is a row of `earshot_meta` written in the
//! same transaction as the mentions it numbers, so numbers never skip (a SEQUENCE would skip
//! after a rollback). Queue positions and history ids, which may skip, come from the sequence
//! `earshot_ids`.
//!
//! The driver is async and the store's reads are not: every statement runs on a runtime of the
//! engine's own (two threads, shared by every store in the process), and the calling thread
//! waits on a channel. That is safe on any thread, a tokio worker's included, and the driver's
//! timers are never the ones a test has paused.

mod lease;
mod schema;
mod tls;
mod transaction;

use std::collections::VecDeque;
use std::future::Future;
use std::ops::Bound;
use std::sync::OnceLock;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::types::ToSql;

use super::{Entries, Entry, Scan, Tree, Tx, TxResult};
use crate::store::{Result, StoreError};

pub use schema::SchemaState;

/// Connections per store: the app's tasks (pollers, the outbox, commands) each hold one for a
/// statement or a transaction; more only queue at the server.
const POOL_SIZE: usize = 8;
/// How long a statement may wait for a free connection, or for a new one to be made.
const CONNECTION_WAIT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A scan reads this many entries first, then four times more per page up to [`PAGE_MOST`]:
/// `last()` reads one page of 16, a full scan few round trips.
const PAGE_FIRST: i64 = 16;
const PAGE_MOST: i64 = 1024;

#[derive(Clone)]
pub struct PgEngine {
    pool: Pool,
}

impl PgEngine {
    /// A pool of connections to the database `url` names, checked by making one.
    pub fn connect(url: &str) -> Result<PgEngine> {
        let wanted = tls::wanted(url)?;
        let mut config: tokio_postgres::Config = wanted
            .url
            .parse()
            .map_err(|error| StoreError::Postgres(format!("the database address: {error}")))?;
        config
            .application_name("earshot")
            .connect_timeout(CONNECT_TIMEOUT);
        let recycling = ManagerConfig {
            // A broken connection is replaced; a live one needs no extra round trip.
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if wanted.tls {
            Manager::from_config(config, tls::connector(wanted.root.as_ref())?, recycling)
        } else {
            Manager::from_config(config, tokio_postgres::NoTls, recycling)
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECTION_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|error| StoreError::Postgres(error.to_string()))?;
        let engine = PgEngine { pool };
        let pool = engine.pool.clone();
        block(async move { pool.get().await.map(drop) })?.map_err(pool_failure)?;
        Ok(engine)
    }

    pub(super) fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let sql = format!("SELECT value FROM {} WHERE key = $1", table(tree));
        let key = key.to_vec();
        let row = self.run(move |client| async move {
            let statement = client.prepare_cached(&sql).await?;
            client.query_opt(&statement, &[&key]).await
        })?;
        Ok(row.map(|row| row.get(0)))
    }

    pub(super) fn insert(&self, tree: Tree, key: &[u8], value: &[u8]) -> Result<()> {
        let sql = upsert_one(tree);
        let (key, value) = (key.to_vec(), value.to_vec());
        self.run(move |client| async move {
            let statement = client.prepare_cached(&sql).await?;
            client.execute(&statement, &[&key, &value]).await
        })?;
        Ok(())
    }

    pub(super) fn remove(&self, tree: Tree, key: &[u8]) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE key = $1", table(tree));
        let key = key.to_vec();
        self.run(move |client| async move {
            let statement = client.prepare_cached(&sql).await?;
            client.execute(&statement, &[&key]).await
        })?;
        Ok(())
    }

    pub(super) fn len(&self, tree: Tree) -> Result<usize> {
        let sql = format!("SELECT count(*) FROM {}", table(tree));
        let row = self.run(move |client| async move {
            let statement = client.prepare_cached(&sql).await?;
            client.query_one(&statement, &[]).await
        })?;
        Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    pub(super) fn scan(&self, tree: Tree, scan: Scan) -> Entries<'_> {
        Box::new(Pages {
            engine: self.clone(),
            tree,
            scan,
            page: PAGE_FIRST,
            read: VecDeque::new(),
            done: false,
        })
    }

    pub(super) fn transaction<T>(&self, work: impl Fn(&mut dyn Tx) -> TxResult<T>) -> Result<T> {
        transaction::run(&self.pool, work)
    }

    /// Runs `work` with a pooled connection on the engine's runtime and waits for it.
    fn run<T, F, Fut>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, tokio_postgres::Error>> + Send + 'static,
    {
        let pool = self.pool.clone();
        block(async move {
            let client = pool.get().await.map_err(pool_failure)?;
            work(client).await.map_err(|error| failure(&error))
        })?
    }
}

/// A scan read a page at a time: each page starts after the last key of the one before.
struct Pages {
    engine: PgEngine,
    tree: Tree,
    scan: Scan,
    page: i64,
    read: VecDeque<Entry>,
    done: bool,
}

impl Pages {
    fn next_page(&mut self) -> Result<()> {
        let mut conditions = Vec::new();
        let mut bounds: Vec<Vec<u8>> = Vec::new();
        for (bound, included, excluded) in
            [(&self.scan.lower, ">=", ">"), (&self.scan.upper, "<=", "<")]
        {
            let (operator, key) = match bound {
                Bound::Included(key) => (included, key),
                Bound::Excluded(key) => (excluded, key),
                Bound::Unbounded => continue,
            };
            bounds.push(key.clone());
            conditions.push(format!("key {operator} ${}", bounds.len()));
        }
        let sql = format!(
            "SELECT key, {} FROM {} {} {} ORDER BY key {} LIMIT {}",
            if self.scan.keys_only {
                "''::bytea"
            } else {
                "value"
            },
            table(self.tree),
            if conditions.is_empty() { "" } else { "WHERE" },
            conditions.join(" AND "),
            if self.scan.reverse { "DESC" } else { "ASC" },
            self.page,
        );
        let rows = self.engine.run(move |client| async move {
            let statement = client.prepare_cached(&sql).await?;
            let params: Vec<&(dyn ToSql + Sync)> = bounds
                .iter()
                .map(|key| key as &(dyn ToSql + Sync))
                .collect();
            client.query(&statement, &params).await
        })?;
        self.done = (rows.len() as i64) < self.page;
        self.page = (self.page * 4).min(PAGE_MOST);
        for row in rows {
            self.read.push_back((row.get(0), row.get(1)));
        }
        if let Some((last, _)) = self.read.back() {
            let after = Bound::Excluded(last.clone());
            if self.scan.reverse {
                self.scan.upper = after;
            } else {
                self.scan.lower = after;
            }
        }
        Ok(())
    }
}

impl Iterator for Pages {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        if self.read.is_empty() && !self.done {
            if let Err(error) = self.next_page() {
                self.done = true;
                return Some(Err(error));
            }
        }
        self.read.pop_front().map(Ok)
    }
}

fn table(tree: Tree) -> String {
    format!("earshot_{}", tree.name())
}

fn upsert_one(tree: Tree) -> String {
    format!(
        "INSERT INTO {} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        table(tree)
    )
}

/// The runtime every PostgreSQL store in the process runs its statements on, made on first use.
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("earshot-postgres")
                .enable_all()
                .build()
                .map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|error| StoreError::Postgres(format!("cannot start its runtime: {error}")))
}

/// Runs `work` on the engine's runtime and waits for it on this thread.
fn block<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> Result<T> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    runtime()?.spawn(async move {
        let _ = sender.send(work.await);
    });
    receiver
        .recv()
        .map_err(|_| StoreError::Postgres("a statement's task ended without an answer".into()))
}

/// A database error in a line: PostgreSQL's own message where there is one.
fn failure(error: &tokio_postgres::Error) -> StoreError {
    match error.as_db_error() {
        Some(db) => StoreError::Postgres(format!("{} ({})", db.message(), db.code().code())),
        None => StoreError::Postgres(error.to_string()),
    }
}

fn pool_failure(error: deadpool_postgres::PoolError) -> StoreError {
    match error {
        deadpool_postgres::PoolError::Backend(error) => failure(&error),
        other => StoreError::Postgres(other.to_string()),
    }
}
