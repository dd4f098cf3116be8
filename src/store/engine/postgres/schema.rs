//! The tables, made only by `earshot migrate`: a store never creates or changes them at start,
//! where two processes or a mistyped address would otherwise make a second, empty store.

use super::{block, failure, pool_failure, table, PgEngine};
use crate::store::engine::{Entry, Tree};
use crate::store::{Result, StoreError};

/// What a database holds of earshot's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// None of them: `earshot migrate` creates them.
    Missing,
    /// Some, not all (an interrupted migrate, or a newer earshot's): `earshot migrate` adds
    /// the rest.
    Partial,
    Present,
}

/// Entries written per statement when a store is copied in.
const LOAD_CHUNK: usize = 1_000;

impl PgEngine {
    pub fn schema_state(&self) -> Result<SchemaState> {
        let mut names: Vec<String> = Tree::ALL.iter().map(|tree| table(*tree)).collect();
        names.push("earshot_ids".into());
        names.push("earshot_leases".into());
        let wanted = names.len();
        let row = self.run(move |client| async move {
            client
                .query_one(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relname = ANY($1)",
                    &[&names],
                )
                .await
        })?;
        let found = usize::try_from(row.get::<_, i64>(0)).unwrap_or(0);
        Ok(match found {
            0 => SchemaState::Missing,
            found if found < wanted => SchemaState::Partial,
            _ => SchemaState::Present,
        })
    }

    /// Creates what is missing of the tables and the id sequence, in one transaction.
    pub fn create_schema(&self) -> Result<()> {
        let mut script = String::from("BEGIN;\n");
        for tree in Tree::ALL {
            script.push_str(&format!(
                "CREATE TABLE IF NOT EXISTS {} (key bytea PRIMARY KEY, value bytea NOT NULL);\n",
                table(tree)
            ));
        }
        script.push_str("CREATE SEQUENCE IF NOT EXISTS earshot_ids;\n");
        // Leases are timed by the database's clock (see `lease.rs`), so they are typed columns.
        script.push_str(
            "CREATE TABLE IF NOT EXISTS earshot_leases (name text PRIMARY KEY, holder text NOT NULL, \
             epoch bigint NOT NULL, since timestamptz NOT NULL, expires_at timestamptz NOT NULL);\nCOMMIT;",
        );
        self.run(move |client| async move { client.batch_execute(&script).await })
    }

    pub(in crate::store::engine) fn load(&self, tree: Tree, entries: Vec<Entry>) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            table(tree)
        );
        for chunk in entries.chunks(LOAD_CHUNK) {
            let (keys, values): (Vec<Vec<u8>>, Vec<Vec<u8>>) = chunk.iter().cloned().unzip();
            let sql = sql.clone();
            self.run(move |client| async move {
                let statement = client.prepare_cached(&sql).await?;
                client.execute(&statement, &[&keys, &values]).await
            })?;
        }
        Ok(())
    }

    pub(in crate::store::engine) fn ids_above(&self, floor: u64) -> Result<()> {
        let floor = i64::try_from(floor).map_err(|_| {
            StoreError::Postgres(format!("an id too large for the sequence: {floor}"))
        })?;
        let pool = self.pool.clone();
        block(async move {
            let client = pool.get().await.map_err(pool_failure)?;
            client
                .query_one(
                    "SELECT setval('earshot_ids', greatest($1, (SELECT last_value FROM earshot_ids)))",
                    &[&floor.max(1)],
                )
                .await
                .map_err(|error| failure(&error))
        })??;
        Ok(())
    }
}
