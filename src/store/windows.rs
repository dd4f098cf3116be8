//! Reads by time window: what stats, the weekly chart and the digest compute from. They read
//! only the mentions in the window, so the bot's memory and the time a report takes follow the
//! window, not the years of mentions behind it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::engine::{Scan, Tree};
use super::mentions::Firsts;
use super::{decode, keys, Result, Store};
use crate::domain::routing::lane_channel;
use crate::domain::{HistoryEntry, Status, Tracked};

/// One member's claimed mentions: how many, and the most urgent of them.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub total: usize,
    /// Complaints first (the highest score first), then oldest first.
    pub first: Vec<Tracked>,
}

impl Store {
    /// Mentions found at or after `from`, with their histories, oldest first: what the chart
    /// and the digest's figures compute from.
    pub fn received_since(&self, from: DateTime<Utc>) -> Result<Vec<(Tracked, Vec<HistoryEntry>)>> {
        let mut found = Vec::new();
        self.visit_received_since(from, |tracked, history| {
            found.push((tracked, history));
        })?;
        found.reverse();
        Ok(found)
    }

    /// Hands each mention found at or after `from` to `visit` with its history, newest first,
    /// holding one at a time: `stats 366d` costs a year of reading, not a year of memory. Reads
    /// back from the newest only as far as the window goes.
    pub fn visit_received_since(
        &self,
        from: DateTime<Utc>,
        mut visit: impl FnMut(Tracked, Vec<HistoryEntry>),
    ) -> Result<()> {
        // Numbers follow arrival, but sources ingest concurrently, each stamping its own batch:
        // keep reading a while past the first one older than the window.
        let stop = from - chrono::Duration::hours(1);
        for item in self.engine.scan(Tree::Mentions, Scan::all().rev()) {
            let tracked: Tracked = decode("mention", &item?.1)?;
            if tracked.received_at < stop {
                break;
            }
            if tracked.received_at >= from {
                let history = self.history(tracked.number)?;
                visit(tracked, history);
            }
        }
        Ok(())
    }

    /// Mentions that reached answered or done in `[from, to)`, whenever they were found.
    pub fn settled_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(Tracked, Vec<HistoryEntry>)>> {
        let window = Scan::between(&keys::settled_time(from), &keys::settled_time(to)).keys();
        let mut numbers: Vec<u64> = self
            .engine
            .scan(Tree::Settled, window)
            .map(|entry| entry.map(|(key, _)| keys::trailing_number(&key)))
            .collect::<Result<_>>()?;
        numbers.sort_unstable();
        numbers.dedup();
        let found = self.numbered(numbers)?;
        self.with_histories(found)
    }

    /// Mentions found or settled since `from`, each once, oldest first: what the digest's
    /// figures for yesterday read.
    pub fn received_or_settled_since(
        &self,
        from: DateTime<Utc>,
    ) -> Result<Vec<(Tracked, Vec<HistoryEntry>)>> {
        let mut all: BTreeMap<u64, (Tracked, Vec<HistoryEntry>)> = BTreeMap::new();
        for tracked in self
            .received_since(from)?
            .into_iter()
            .chain(self.settled_between(from, DateTime::<Utc>::MAX_UTC)?)
        {
            all.insert(tracked.0.number, tracked);
        }
        Ok(all.into_values().collect())
    }

    /// How many mentions are in `status`, and the first `limit` of them, complaints first,
    /// then oldest first: picked from the status index, so only those are read.
    pub fn most_urgent(&self, status: Status, limit: usize) -> Result<(usize, Vec<Tracked>)> {
        let (total, numbers) = self.ranked(&[status], 0, limit)?;
        Ok((total, self.numbered(numbers)?))
    }

    /// [`Store::most_urgent`] of the mentions that live in `channel` on `chat` (`None`: the
    /// chat's own channel), from the status index alone.
    pub fn most_urgent_in(
        &self,
        status: Status,
        limit: usize,
        chat: &str,
        channel: Option<&str>,
    ) -> Result<(usize, Vec<Tracked>)> {
        let (total, numbers) = self.ranked_by(&[status], 0, limit, |lane| {
            (lane_channel(lane, chat) == channel).then_some(false)
        })?;
        Ok((total, self.numbered(numbers)?))
    }

    /// Every member's claimed mentions, each member's first `limit` picked from the status and
    /// owner indexes, so only those are read: reading all of them would page in a node of the
    /// mentions tree for nearly each one (they are spread over the years), which sled's cache
    /// does not give back. `here` (a chat, and its channel or `None` for the chat's own) keeps
    /// the mentions that live there; `None` keeps all.
    pub fn most_urgent_held(
        &self,
        limit: usize,
        here: Option<(&str, Option<&str>)>,
    ) -> Result<Vec<Held>> {
        let mut owners: HashMap<u64, Vec<u8>> = HashMap::new();
        for entry in self.engine.scan(Tree::ByOwner, Scan::all().keys()) {
            let (key, _) = entry?;
            owners.insert(keys::trailing_number(&key), keys::owner_of(&key).to_vec());
        }
        let mut held: BTreeMap<Vec<u8>, Firsts<keys::RankOrder>> = BTreeMap::new();
        let claimed = Scan::prefix(&keys::status_prefix(Status::Claimed));
        for entry in self.engine.scan(Tree::ByStatus, claimed) {
            let (key, value) = entry?;
            if here
                .is_some_and(|(chat, channel)| lane_channel(&keys::lane(&value), chat) != channel)
            {
                continue;
            }
            let number = keys::trailing_number(&key);
            let owner = match owners.remove(&number) {
                Some(owner) => owner,
                // Both indexes change in one transaction; should they ever disagree, the
                // mention itself says who holds it.
                None => self
                    .mention(number)?
                    .state
                    .holder()
                    .map(|member| member.id.as_bytes().to_vec())
                    .unwrap_or_default(),
            };
            let first = held.entry(owner).or_insert_with(|| Firsts::new(limit));
            first.push(keys::rank_order(&value, number));
        }
        held.into_values()
            .map(|first| {
                let total = first.total();
                let numbers = first.into_sorted().into_iter().map(|rank| rank.2);
                Ok(Held {
                    total,
                    first: self.numbered(numbers.collect())?,
                })
            })
            .collect()
    }

    /// The lanes of the mentions still owed an answer, from the status index alone: the
    /// digest goes to every channel that holds one, even one no route names any more.
    pub fn owed_lanes(&self) -> Result<std::collections::BTreeSet<String>> {
        let mut lanes = std::collections::BTreeSet::new();
        for status in [Status::Open, Status::Claimed] {
            let scan = Scan::prefix(&keys::status_prefix(status));
            for entry in self.engine.scan(Tree::ByStatus, scan) {
                let (_, value) = entry?;
                let lane = keys::lane(&value);
                if !lane.is_empty() && !lanes.contains(lane.as_ref()) {
                    lanes.insert(lane.into_owned());
                }
            }
        }
        Ok(lanes)
    }

    fn with_histories(&self, found: Vec<Tracked>) -> Result<Vec<(Tracked, Vec<HistoryEntry>)>> {
        found
            .into_iter()
            .map(|tracked| {
                let history = self.history(tracked.number)?;
                Ok((tracked, history))
            })
            .collect()
    }
}
