//! Which process leads, and which delivers an outbox lane (see `engine::lease`), and the fence
//! that keeps a process that stopped leading from writing what only the leader writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::engine::{Lease, Tx, TxError, TxResult};
use super::{Result, Store, StoreError};

/// The lease whose holder polls the sources and runs the schedules.
pub const LEADER: &str = "leader";

/// A process's claim to lead, as the lease loop last confirmed it: the epoch of the term it
/// holds, or none. The leader's writes carry it, and are refused once the term has passed.
#[derive(Clone, Debug)]
pub struct Fence {
    holder: Arc<str>,
    epoch: Arc<AtomicU64>,
}

impl Fence {
    pub fn new(holder: &str) -> Fence {
        Fence {
            holder: holder.into(),
            epoch: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// This process holds term `epoch` (0: it does not lead).
    pub fn hold(&self, epoch: u64) {
        self.epoch.store(epoch, Ordering::SeqCst);
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }
}

impl Store {
    /// Renews `holder`'s lease `name`, or takes it if it expired (see [`Lease`]).
    pub fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>> {
        self.engine.acquire(name, holder, ttl)
    }

    pub fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        self.engine.release(name, holder)
    }

    pub fn lease(&self, name: &str) -> Result<Option<Lease>> {
        self.engine.lease(name)
    }

    /// Takes those of the outbox `lanes` that no other process is delivering.
    pub fn take_lanes(&self, lanes: &[String], holder: &str, ttl: Duration) -> Result<Vec<String>> {
        let names: Vec<String> = lanes.iter().map(|lane| lane_lease(lane)).collect();
        let taken = self.engine.take(&names, holder, ttl)?;
        Ok(lanes
            .iter()
            .zip(&names)
            .filter(|(_, name)| taken.contains(name))
            .map(|(lane, _)| lane.clone())
            .collect())
    }

    pub fn release_lanes(&self, lanes: &[String], holder: &str) -> Result<()> {
        let names: Vec<String> = lanes.iter().map(|lane| lane_lease(lane)).collect();
        self.engine.forget(&names, holder)
    }

    /// This store, writing what only the leader writes (mentions and cursors from sources,
    /// the digest's and reminders' records) only while `fence` holds the current term.
    pub fn fenced(&self, fence: Fence) -> Store {
        let mut store = self.clone();
        store.fence = Some(fence);
        store
    }

    /// Refuses the transaction unless this store is unfenced or its term is the current one.
    pub(super) fn check_fence(&self, tx: &mut dyn Tx) -> TxResult<()> {
        let Some(fence) = &self.fence else {
            return Ok(());
        };
        let epoch = fence.epoch();
        if epoch == 0 {
            return Err(TxError::Abort(StoreError::Fenced(
                "it does not hold the leader lease".into(),
            )));
        }
        match tx.lease(LEADER)? {
            // A sled store's one process is the only one that can lead.
            None => Ok(()),
            Some((holder, current)) if holder == fence.holder() && current == epoch => Ok(()),
            Some((holder, current)) => Err(TxError::Abort(StoreError::Fenced(format!(
                "its term {epoch} ended; {holder} leads in term {current}"
            )))),
        }
    }
}

fn lane_lease(lane: &str) -> String {
    format!("lane:{lane}")
}
