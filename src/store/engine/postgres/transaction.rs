//! One SERIALIZABLE transaction on one pooled connection. Reads go to the server (or to what
//! this transaction wrote, or prefetched); writes are kept until the closure returns and then
//! sent at once, one statement per tree, pipelined, before COMMIT: a batch of a hundred
//! mentions costs a few round trips to write, not hundreds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio_postgres::error::SqlState;

use super::{block, failure, pool_failure, table};
use crate::store::engine::{Tree, Tx, TxError, TxResult};
use crate::store::{Result, StoreError};

/// How many times a transaction runs before the conflicts count as a failure: two writers of
/// the same rows take turns, and many more than this means something else is wrong.
const ATTEMPTS: u32 = 200;
/// Queue ids fetched from the sequence at a time; unused ones are skipped, which is harmless.
const ID_BLOCK: i64 = 32;

/// Runs `work` in a transaction until it commits, gives up, or conflicts [`ATTEMPTS`] times.
pub(super) fn run<T>(pool: &Pool, work: impl Fn(&mut dyn Tx) -> TxResult<T>) -> Result<T> {
    for attempt in 0..ATTEMPTS {
        let mut tx = PgTx::begin(pool)?;
        let outcome = work(&mut tx).and_then(|value| tx.commit().map(|()| value));
        match outcome {
            Ok(value) => return Ok(value),
            Err(TxError::Conflict) => {
                tx.rollback();
                // Let the other writer finish; a little longer each time.
                std::thread::sleep(Duration::from_micros(200 * u64::from(attempt.min(50))));
            }
            Err(TxError::Abort(error)) => {
                tx.rollback();
                return Err(error);
            }
        }
    }
    Err(StoreError::Postgres(format!(
        "a transaction conflicted with other writers {ATTEMPTS} times in a row"
    )))
}

/// One tree's writes: the keys and values to upsert, and the keys to delete.
type Writes = (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<Vec<u8>>);

struct PgTx {
    /// The connection, away on the runtime while a statement runs (`None` after the end).
    client: Option<Object>,
    writes: BTreeMap<(Tree, Vec<u8>), Option<Vec<u8>>>,
    prefetched: HashMap<(Tree, Vec<u8>), Option<Vec<u8>>>,
    ids: VecDeque<u64>,
}

impl PgTx {
    fn begin(pool: &Pool) -> Result<PgTx> {
        let pool = pool.clone();
        let client = block(async move {
            let client = pool.get().await.map_err(pool_failure)?;
            client
                .batch_execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
                .await
                .map_err(|error| failure(&error))?;
            Ok::<_, StoreError>(client)
        })??;
        Ok(PgTx {
            client: Some(client),
            writes: BTreeMap::new(),
            prefetched: HashMap::new(),
            ids: VecDeque::new(),
        })
    }

    /// Runs `work` on the connection, on the engine's runtime, and takes the connection back.
    fn run<T, F, Fut>(&mut self, work: F) -> TxResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Object) -> Fut + Send + 'static,
        Fut: Future<Output = (Object, std::result::Result<T, tokio_postgres::Error>)>
            + Send
            + 'static,
    {
        let client = self.client.take().ok_or_else(|| {
            TxError::Abort(StoreError::Postgres("the transaction already ended".into()))
        })?;
        let (client, outcome) = block(work(client)).map_err(TxError::Abort)?;
        self.client = Some(client);
        outcome.map_err(|error| {
            if is_conflict(&error) {
                TxError::Conflict
            } else {
                TxError::Abort(failure(&error))
            }
        })
    }

    fn commit(&mut self) -> TxResult<()> {
        let writes = std::mem::take(&mut self.writes);
        let mut per_tree: BTreeMap<Tree, Writes> = BTreeMap::new();
        for ((tree, key), value) in writes {
            let (keys, values, removed) = per_tree.entry(tree).or_default();
            match value {
                Some(value) => {
                    keys.push(key);
                    values.push(value);
                }
                None => removed.push(key),
            }
        }
        self.run(move |client| async move {
            let outcome = write_all(&client, per_tree).await;
            (client, outcome)
        })
    }

    /// Ends the transaction without keeping anything; a connection that cannot say so is
    /// closed rather than handed to the next user mid-transaction.
    fn rollback(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let ended = block(async move {
            let outcome = client.batch_execute("ROLLBACK").await;
            (client, outcome)
        });
        if let Ok((client, Err(_))) = ended {
            drop(Object::take(client));
        }
    }
}

impl Drop for PgTx {
    fn drop(&mut self) {
        self.rollback();
    }
}

/// The writes of a transaction, one upsert and one delete per tree, pipelined, then COMMIT.
async fn write_all(
    client: &Object,
    per_tree: BTreeMap<Tree, Writes>,
) -> std::result::Result<(), tokio_postgres::Error> {
    let mut statements = Vec::new();
    for (tree, (keys, values, removed)) in &per_tree {
        if !keys.is_empty() {
            statements.push((upsert_many(*tree), vec![keys, values]));
        }
        if !removed.is_empty() {
            let sql = format!("DELETE FROM {} WHERE key = ANY($1)", table(*tree));
            statements.push((sql, vec![removed]));
        }
    }
    let pending = statements.iter().map(|(sql, params)| async move {
        let statement = client.prepare_cached(sql).await?;
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|param| *param as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        client.execute(&statement, &params).await
    });
    futures_util::future::try_join_all(pending).await?;
    client.batch_execute("COMMIT").await
}

fn upsert_many(tree: Tree) -> String {
    format!(
        "INSERT INTO {} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        table(tree)
    )
}

impl Tx for PgTx {
    fn lease(&mut self, name: &str) -> TxResult<Option<(String, u64)>> {
        let name = name.to_string();
        let row = self.run(move |client| async move {
            let outcome = client.query_opt(super::lease::FENCE, &[&name]).await;
            (client, outcome)
        })?;
        Ok(row.map(|row| {
            let epoch: i64 = row.get(1);
            (row.get(0), u64::try_from(epoch).unwrap_or(0))
        }))
    }

    fn get(&mut self, tree: Tree, key: &[u8]) -> TxResult<Option<Vec<u8>>> {
        let known = (tree, key.to_vec());
        if let Some(value) = self.writes.get(&known) {
            return Ok(value.clone());
        }
        if let Some(value) = self.prefetched.get(&known) {
            return Ok(value.clone());
        }
        let sql = format!("SELECT value FROM {} WHERE key = $1", table(tree));
        let key = known.1;
        let row = self.run(move |client| async move {
            let outcome = match client.prepare_cached(&sql).await {
                Ok(statement) => client.query_opt(&statement, &[&key]).await,
                Err(error) => Err(error),
            };
            (client, outcome)
        })?;
        Ok(row.map(|row| row.get(0)))
    }

    fn insert(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> TxResult<()> {
        self.writes
            .insert((tree, key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn remove(&mut self, tree: Tree, key: &[u8]) -> TxResult<()> {
        self.writes.insert((tree, key.to_vec()), None);
        Ok(())
    }

    fn take(&mut self, tree: Tree, key: &[u8]) -> TxResult<Option<Vec<u8>>> {
        let value = self.get(tree, key)?;
        self.remove(tree, key)?;
        Ok(value)
    }

    fn generate_id(&mut self) -> TxResult<u64> {
        if self.ids.is_empty() {
            let rows = self.run(|client| async move {
                let sql =
                    format!("SELECT nextval('earshot_ids') FROM generate_series(1, {ID_BLOCK})");
                let outcome = match client.prepare_cached(&sql).await {
                    Ok(statement) => client.query(&statement, &[]).await,
                    Err(error) => Err(error),
                };
                (client, outcome)
            })?;
            self.ids = rows
                .iter()
                .map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
                .collect();
        }
        self.ids.pop_front().ok_or_else(|| {
            TxError::Abort(StoreError::Postgres("the id sequence gave no id".into()))
        })
    }

    fn prefetch(&mut self, tree: Tree, keys: &[Vec<u8>]) -> TxResult<()> {
        let wanted: Vec<Vec<u8>> = keys
            .iter()
            .filter(|key| {
                let known = (tree, key.to_vec());
                !self.writes.contains_key(&known) && !self.prefetched.contains_key(&known)
            })
            .cloned()
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let sql = format!("SELECT key, value FROM {} WHERE key = ANY($1)", table(tree));
        let asked = wanted.clone();
        let rows = self.run(move |client| async move {
            let outcome = match client.prepare_cached(&sql).await {
                Ok(statement) => client.query(&statement, &[&asked]).await,
                Err(error) => Err(error),
            };
            (client, outcome)
        })?;
        for key in wanted {
            self.prefetched.insert((tree, key), None);
        }
        for row in rows {
            self.prefetched.insert((tree, row.get(0)), Some(row.get(1)));
        }
        Ok(())
    }
}

/// Another transaction got in the way: a serialization failure, a deadlock, or (under
/// SERIALIZABLE) a unique key another writer just inserted. Running again reads what it wrote.
fn is_conflict(error: &tokio_postgres::Error) -> bool {
    matches!(
        error.code(),
        Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::UNIQUE_VIOLATION
    )
}
