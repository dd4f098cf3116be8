//! One leader among the processes on a store: a lease renewed every few seconds (see
//! `store::leases`). The leader polls the sources, follows the streams, runs the digest,
//! reminders, reports and answered-detection, and holds the listeners only one process may
//! hold (Discord's gateway); every process serves commands and drains the outbox. When the
//! leader dies its lease runs out and another process takes over, within [`LEASE_TTL`] plus
//! [`RENEW_EVERY`].

use std::future::Future;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::store::{Fence, Store, LEADER};

/// How long a term lasts unless renewed. A leader that cannot renew for this long (the
/// database unreachable) stops its leader work before another may start it.
pub const LEASE_TTL: Duration = Duration::from_secs(20);
/// How often the leader renews, and the others try to take over.
pub const RENEW_EVERY: Duration = Duration::from_secs(5);
/// A term is given up this long before it would run out unrenewed, so that the old leader's
/// work has stopped before a new leader's starts (the fence refuses its writes even so).
const STEP_DOWN_MARGIN: Duration = Duration::from_secs(5);
/// How long leader work may take to finish once the term is over, before it is dropped.
const HANDOVER_GRACE: Duration = Duration::from_secs(5);

/// Whether this process leads, and the fence its leader work writes through.
#[derive(Clone)]
pub struct Leadership {
    fence: Fence,
    leading: watch::Receiver<bool>,
}

/// The lease loop's side: renews or takes the lease, and says when leadership changes.
pub struct Campaign {
    store: Store,
    fence: Fence,
    leading: watch::Sender<bool>,
}

/// This process's name among those on one store: host, process id and start time, so that a
/// restarted process is a new holder (its old term is over).
pub fn holder_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into());
    let started = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f");
    format!("{host}:{}:{started}", std::process::id())
}

pub fn campaign(store: Store, holder: &str) -> (Campaign, Leadership) {
    let fence = Fence::new(holder);
    let (leading, watching) = watch::channel(false);
    (
        Campaign {
            store,
            fence: fence.clone(),
            leading,
        },
        Leadership {
            fence,
            leading: watching,
        },
    )
}

impl Campaign {
    /// Renews or takes the lease every [`RENEW_EVERY`] until `stopped`, then gives it up so
    /// another process takes over at once.
    pub async fn run(self, mut stopped: watch::Receiver<bool>) {
        let holder = self.fence.holder().to_string();
        let mut confirmed: Option<Instant> = None;
        loop {
            let store = self.store.clone();
            let name = holder.clone();
            let attempt =
                tokio::task::spawn_blocking(move || store.acquire_lease(LEADER, &name, LEASE_TTL))
                    .await
                    .unwrap_or_else(|error| {
                        Err(crate::store::StoreError::Postgres(error.to_string()))
                    });
            match attempt {
                Ok(Some(lease)) => {
                    confirmed = Some(Instant::now());
                    if !*self.leading.borrow() {
                        tracing::info!(holder = %holder, epoch = lease.epoch, since = %lease.since, "this process leads: it polls the sources and runs the schedules");
                    }
                    self.fence.hold(lease.epoch);
                    self.leading.send_replace(true);
                }
                Ok(None) => {
                    if *self.leading.borrow() {
                        tracing::warn!(holder = %holder, "another process took the leader lease; this one stops its leader work");
                    }
                    confirmed = None;
                    self.step_down();
                }
                Err(error) => {
                    let lapsing =
                        confirmed.is_some_and(|at| at.elapsed() + STEP_DOWN_MARGIN >= LEASE_TTL);
                    tracing::warn!(%error, "cannot renew the leader lease; trying again");
                    if lapsing && *self.leading.borrow() {
                        tracing::error!("the leader lease could not be renewed in time; this process stops its leader work until it can");
                        confirmed = None;
                        self.step_down();
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(RENEW_EVERY) => {}
                _ = stopped.changed() => break,
            }
        }
        self.step_down();
        let store = self.store.clone();
        let name = holder.clone();
        let released =
            tokio::task::spawn_blocking(move || store.release_lease(LEADER, &name)).await;
        match released {
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot give up the leader lease; another process takes over when it runs out")
            }
            _ => {
                tracing::info!(holder = %holder, "stopping: this process gave up the leader lease")
            }
        }
    }

    fn step_down(&self) {
        self.fence.hold(0);
        self.leading.send_replace(false);
    }
}

impl Leadership {
    pub fn fence(&self) -> Fence {
        self.fence.clone()
    }

    /// Runs leader work for as long as this process leads, again at each new term, until
    /// `stopped`. `work` is given a receiver that turns `true` when its term (or the app)
    /// ends, as every task's shutdown signal does; what has not ended soon after is dropped.
    pub async fn while_leading<F, Fut>(&self, mut stopped: watch::Receiver<bool>, mut work: F)
    where
        F: FnMut(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let mut leading = self.leading.clone();
        loop {
            let leads = tokio::select! {
                result = leading.wait_for(|leads| *leads) => result.is_ok(),
                _ = stopped.wait_for(|stop| *stop) => return,
            };
            if !leads {
                // The campaign ended without leadership: wait for the app to stop.
                let _ = stopped.wait_for(|stop| *stop).await;
                return;
            }
            let (end, term) = watch::channel(false);
            let task = work(term);
            tokio::pin!(task);
            let lost = async {
                if leading.wait_for(|leads| !*leads).await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                _ = &mut task => return,
                _ = lost => {}
                _ = stopped.wait_for(|stop| *stop) => {}
            }
            let _ = end.send(true);
            let _ = tokio::time::timeout(HANDOVER_GRACE, &mut task).await;
            if *stopped.borrow() {
                return;
            }
        }
    }
}
