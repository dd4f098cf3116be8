//! What the operator is told about delivery: how much waits in the outbox, which effects a chat
//! refused for good (held until a person fixes the cause) and why, and which keep failing and
//! hold up their lane. `earshot status` prints it, the digest carries its problems, and the
//! running bot leaves a copy beside the store (sled locks the store while the bot runs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::outbox::{HELD_RETRY, STUCK_ATTEMPTS};
use crate::store::{OutboxEntry, Store, StoreError, LEADER};

/// How many entries, oldest first, the digest's look at the outbox reads: held and stuck
/// entries are at the head of their lanes, and a long backlog must not page every entry in.
pub const DIGEST_SCAN: usize = 2_000;
/// How many effects a report names per reason; the rest it counts.
const NAMED: usize = 5;

/// The outbox as the operator sees it.
#[derive(Debug, Clone, Default)]
pub struct Backlog {
    /// Every entry waiting, delivered or not yet due (with a limit: of the entries read).
    pub pending: usize,
    /// Effects a chat refused for good, by reason.
    pub held: BTreeMap<String, Vec<OutboxEntry>>,
    /// Effects that have failed again and again and hold up their lane.
    pub stuck: Vec<OutboxEntry>,
}

impl Backlog {
    /// Reads the outbox, or its first `limit` entries.
    pub fn read(store: &Store, limit: Option<usize>) -> Result<Backlog, StoreError> {
        let entries = match limit {
            Some(limit) => store.outbox_head(limit)?,
            None => store.outbox()?,
        };
        // Counted from what was read: sled's `len` walks the whole tree, and the digest, which
        // reads a bounded head, must not page in a backlog of 100k effects to count it.
        let mut backlog = Backlog {
            pending: entries.len(),
            ..Backlog::default()
        };
        for (_, entry) in entries {
            if let Some(reason) = &entry.held {
                backlog.held.entry(reason.clone()).or_default().push(entry);
            } else if entry.attempts >= STUCK_ATTEMPTS {
                backlog.stuck.push(entry);
            }
        }
        Ok(backlog)
    }

    /// What needs a person, one line each (and the effects it concerns, indented); empty when
    /// delivery is healthy.
    pub fn problems(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (reason, entries) in &self.held {
            let since = entries
                .iter()
                .filter_map(|entry| entry.queued_at)
                .min()
                .map(|at| format!(" since {}", at.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            lines.push(format!(
                "{} held{since}, refused for good: {reason}. Kept and tried again every {} and at start-up; fix the cause and they go out.",
                count(entries.len()),
                humantime::format_duration(HELD_RETRY)
            ));
            lines.extend(named(entries));
        }
        for entry in &self.stuck {
            lines.push(format!(
                "{} has failed {} times in a row and holds up what follows it: {}",
                entry.describe(),
                entry.attempts,
                entry.last_error.as_deref().unwrap_or("unknown error")
            ));
        }
        lines
    }
}

/// The whole report `earshot status` prints.
pub fn report(store: &Store, now: DateTime<Utc>) -> Result<String, StoreError> {
    let backlog = Backlog::read(store, None)?;
    let mut lines = vec![format!(
        "earshot status at {} (store {})",
        now.format("%Y-%m-%d %H:%M:%S UTC"),
        store.location()
    )];
    lines.push(leader(store)?);
    lines.push(format!(
        "Outbox: {} waiting to be delivered.",
        count(backlog.pending)
    ));
    lines.extend(oldest(store, now)?);
    let problems = backlog.problems();
    if problems.is_empty() {
        lines.push("Delivery: nothing held, nothing stuck.".into());
    } else {
        lines.push("Delivery that needs a look:".into());
        lines.extend(problems.into_iter().map(|line| format!("  {line}")));
    }
    let sources: Vec<String> = store
        .all_source_health()?
        .iter()
        .filter_map(|(name, health)| health.problem(name, now))
        .collect();
    if sources.is_empty() {
        lines.push("Sources: all working.".into());
    } else {
        lines.push("Sources that need a look:".into());
        lines.extend(sources.into_iter().map(|line| format!("  {line}")));
    }
    Ok(lines.join("\n"))
}

/// Which process leads and what waits to be delivered, in a few lines: `/mentions health`.
pub fn health(store: &Store, now: DateTime<Utc>) -> Result<String, StoreError> {
    let mut lines = vec![leader(store)?];
    lines.push(format!(
        "Outbox: {} waiting to be delivered.",
        count(store.outbox_len())
    ));
    lines.extend(oldest(store, now)?);
    Ok(lines.join("\n"))
}

/// Who holds the leader lease, since when; or that nobody does.
fn leader(store: &Store) -> Result<String, StoreError> {
    Ok(match store.lease(LEADER)? {
        Some(lease) if lease.live => format!(
            "Leader: {} since {} (term {}).",
            lease.holder,
            lease.since.format("%Y-%m-%d %H:%M:%S UTC"),
            lease.epoch
        ),
        Some(lease) => format!(
            "Leader: none; the lease of {} ran out at {}. A running process takes over within {} s.",
            lease.holder,
            lease.expires.format("%Y-%m-%d %H:%M:%S UTC"),
            (crate::app::LEASE_TTL + crate::app::RENEW_EVERY).as_secs()
        ),
        None => "Leader: none; no earshot process holds the lease (is one running?).".into(),
    })
}

/// The effect that has waited longest, and for how long.
fn oldest(store: &Store, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
    let head = store.outbox_head(1)?;
    Ok(head.first().map(|(_, entry)| match entry.queued_at {
        Some(at) => {
            let waited = (now - at).to_std().unwrap_or_default();
            let waited = std::time::Duration::from_secs(waited.as_secs());
            format!(
                "Oldest undelivered: {}, queued {} ({} ago).",
                entry.describe(),
                at.format("%Y-%m-%d %H:%M:%S UTC"),
                humantime::format_duration(waited)
            )
        }
        None => format!("Oldest undelivered: {}.", entry.describe()),
    }))
}

/// Where the running bot leaves its latest report: beside the store's folder.
pub fn snapshot_path(store: &Path) -> PathBuf {
    let mut name = store.file_name().unwrap_or_default().to_os_string();
    name.push(".status.txt");
    store.with_file_name(name)
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 effect".into()
    } else {
        format!("{n} effects")
    }
}

fn named(entries: &[OutboxEntry]) -> Vec<String> {
    let mut lines: Vec<String> = entries
        .iter()
        .take(NAMED)
        .map(|entry| format!("  - {}", entry.describe()))
        .collect();
    if entries.len() > NAMED {
        lines.push(format!("  - … and {} more", entries.len() - NAMED));
    }
    lines
}
