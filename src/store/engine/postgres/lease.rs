//! Leases as rows of `earshot_leases`, timed by the database's `now()`: the processes' own
//! clocks may disagree, the database's is the one they share. Each call is a statement or two
//! outside any transaction, so it works the same through a pooler that hands every statement
//! another connection (a session advisory lock would not).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::PgEngine;
use crate::store::engine::Lease;
use crate::store::Result;

/// Makes the row a lease is kept in, expired and held by nobody, unless it is there.
const ENSURE: &str = "INSERT INTO earshot_leases (name, holder, epoch, since, expires_at) \
     SELECT unnest($1::text[]), '', 0, now(), 'epoch' ON CONFLICT (name) DO NOTHING";

/// Renews the lease for its holder, or takes it when it has expired (a new term: epoch + 1).
/// It waits for a transaction that is reading the lease to fence its writes (see
/// [`FENCE`]): that takes milliseconds, and skipping would make the holder think it lost.
const ACQUIRE: &str = "UPDATE earshot_leases AS lease SET \
       epoch = CASE WHEN lease.holder = $2 THEN lease.epoch ELSE lease.epoch + 1 END, \
       since = CASE WHEN lease.holder = $2 THEN lease.since ELSE now() END, \
       holder = $2, \
       expires_at = now() + make_interval(secs => $3) \
     WHERE lease.name = $1 AND (lease.holder = $2 OR lease.expires_at < now()) \
     RETURNING lease.holder, lease.epoch, lease.since, lease.expires_at, true";

/// Takes the lanes nobody else holds; one held by another process, or being taken by one
/// this very moment, is skipped rather than waited for.
const TAKE: &str = "UPDATE earshot_leases AS lease SET holder = $2, since = now(), \
       expires_at = now() + make_interval(secs => $3) \
     FROM (SELECT name FROM earshot_leases WHERE name = ANY($1) \
           AND (holder = $2 OR expires_at < now()) ORDER BY name FOR UPDATE SKIP LOCKED) AS free \
     WHERE lease.name = free.name RETURNING lease.name";

/// Read inside a transaction that only the holder of the lease may commit: `FOR SHARE` makes a
/// takeover wait for it, and a takeover that committed first makes it conflict and run again.
pub(super) const FENCE: &str = "SELECT holder, epoch FROM earshot_leases WHERE name = $1 FOR SHARE";

impl PgEngine {
    pub(in crate::store::engine) fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        let (name, holder) = (name.to_string(), holder.to_string());
        let seconds = ttl.as_secs_f64();
        let row = self.run(move |client| async move {
            client.execute(ENSURE, &[&vec![name.clone()]]).await?;
            client.query_opt(ACQUIRE, &[&name, &holder, &seconds]).await
        })?;
        Ok(row.map(|row| lease(&row)))
    }

    pub(in crate::store::engine) fn take(
        &self,
        names: &[String],
        holder: &str,
        ttl: Duration,
    ) -> Result<Vec<String>> {
        let (names, holder) = (names.to_vec(), holder.to_string());
        let seconds = ttl.as_secs_f64();
        let rows = self.run(move |client| async move {
            client.execute(ENSURE, &[&names]).await?;
            client.query(TAKE, &[&names, &holder, &seconds]).await
        })?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// Ends the lease at once; the row stays, so the next term's epoch is greater.
    pub(in crate::store::engine) fn release(&self, name: &str, holder: &str) -> Result<()> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.run(move |client| async move {
            client
                .execute(
                    "UPDATE earshot_leases SET expires_at = 'epoch' \
                     WHERE name = $1 AND holder = $2",
                    &[&name, &holder],
                )
                .await
        })?;
        Ok(())
    }

    /// Drops lanes' rows (there is one per answer's lane; they carry no epoch worth keeping).
    pub(in crate::store::engine) fn forget(&self, names: &[String], holder: &str) -> Result<()> {
        let (names, holder) = (names.to_vec(), holder.to_string());
        self.run(move |client| async move {
            client
                .execute(
                    "DELETE FROM earshot_leases WHERE name = ANY($1) AND holder = $2",
                    &[&names, &holder],
                )
                .await
        })?;
        Ok(())
    }

    pub(in crate::store::engine) fn read_lease(&self, name: &str) -> Result<Option<Lease>> {
        let name = name.to_string();
        let row = self.run(move |client| async move {
            client
                .query_opt(
                    "SELECT holder, epoch, since, expires_at, expires_at > now() \
                     FROM earshot_leases WHERE name = $1 AND holder <> ''",
                    &[&name],
                )
                .await
        })?;
        Ok(row.map(|row| lease(&row)))
    }
}

fn lease(row: &tokio_postgres::Row) -> Lease {
    Lease {
        holder: row.get(0),
        epoch: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
        since: row.get::<_, DateTime<Utc>>(2),
        expires: row.get::<_, DateTime<Utc>>(3),
        live: row.get(4),
    }
}
