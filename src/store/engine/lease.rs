//! Leases: a named right held by one process at a time until it expires, with an epoch that
//! grows each time the right changes hands. The leader lease says which process polls and
//! runs the schedules; the epoch fences a process that lost it (its writes are refused); lane
//! leases say which process delivers an outbox lane. On PostgreSQL they are rows of
//! `earshot_leases` timed by the database's clock, the one clock every process shares; a sled
//! store is opened by one process only, so its leases live in that process's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Who holds a lease, since when, until when, and in which term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    /// Grows by one each time another holder takes the lease: a fencing token.
    pub epoch: u64,
    /// When the current holder took it.
    pub since: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    /// Whether it had not expired when read.
    pub live: bool,
}

/// A sled store's leases, in memory: one process, one clock.
#[derive(Clone, Default)]
pub struct MemoryLeases {
    leases: Arc<Mutex<HashMap<String, Lease>>>,
}

impl MemoryLeases {
    pub fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Option<Lease> {
        let now = Utc::now();
        let expires = chrono::TimeDelta::from_std(ttl)
            .ok()
            .and_then(|ttl| now.checked_add_signed(ttl))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut leases = self
            .leases
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match leases.get_mut(name) {
            Some(lease) if lease.holder == holder => {
                lease.expires = expires;
                lease.live = true;
                Some(lease.clone())
            }
            Some(lease) if lease.expires > now => None,
            found => {
                let epoch = found.map_or(1, |lease| lease.epoch + 1);
                let lease = Lease {
                    holder: holder.to_string(),
                    epoch,
                    since: now,
                    expires,
                    live: true,
                };
                leases.insert(name.to_string(), lease.clone());
                Some(lease)
            }
        }
    }

    /// Takes those of `names` that nobody else holds.
    pub fn take(&self, names: &[String], holder: &str, ttl: Duration) -> Vec<String> {
        names
            .iter()
            .filter(|name| self.acquire(name, holder, ttl).is_some())
            .cloned()
            .collect()
    }

    /// Ends `holder`'s lease at once (kept with its epoch, so the next holder's is greater).
    pub fn release(&self, name: &str, holder: &str) {
        let mut leases = self
            .leases
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(lease) = leases.get_mut(name).filter(|lease| lease.holder == holder) {
            lease.expires = Utc::now() - chrono::TimeDelta::milliseconds(1);
        }
    }

    pub fn forget(&self, names: &[String], holder: &str) {
        let mut leases = self
            .leases
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        for name in names {
            if leases.get(name).is_some_and(|lease| lease.holder == holder) {
                leases.remove(name);
            }
        }
    }

    pub fn read(&self, name: &str) -> Option<Lease> {
        let leases = self
            .leases
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        leases.get(name).cloned().map(|mut lease| {
            lease.live = lease.expires > Utc::now();
            lease
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_one_holders_until_it_expires_and_then_the_next_term_begins() {
        let leases = MemoryLeases::default();
        let long = Duration::from_secs(60);
        let first = leases.acquire("leader", "a", long).unwrap();
        assert_eq!(first.epoch, 1);
        assert_eq!(leases.acquire("leader", "b", long), None);
        // Renewing keeps the term.
        assert_eq!(leases.acquire("leader", "a", long).unwrap().epoch, 1);
        leases.release("leader", "a");
        let taken = leases.acquire("leader", "b", long).unwrap();
        assert_eq!((taken.holder.as_str(), taken.epoch), ("b", 2));
        assert!(leases.read("leader").unwrap().live);
        // Another's release changes nothing.
        leases.release("leader", "a");
        assert!(leases.read("leader").unwrap().live);
    }

    #[test]
    fn lanes_are_taken_only_where_free_and_forgotten_by_their_holder() {
        let leases = MemoryLeases::default();
        let long = Duration::from_secs(60);
        let lanes = vec!["chat:slack".to_string(), "reply:4".to_string()];
        assert_eq!(leases.take(&lanes[..1], "a", long), lanes[..1].to_vec());
        assert_eq!(leases.take(&lanes, "b", long), lanes[1..].to_vec());
        leases.forget(&lanes, "a");
        assert_eq!(leases.take(&lanes[..1], "b", long), lanes[..1].to_vec());
        assert_eq!(leases.read("reply:4").unwrap().holder, "b");
    }
}
