//! Bringing a store written by an earlier earshot forward, once, at open (a folder) or by
//! `earshot migrate` (a database).
//!
//! Each step can be run again: a store interrupted mid-upgrade still has its old version and
//! is upgraded again from the start at the next open.

use super::engine::{Scan, Tree};
use super::{decode, encode, keys, Result, Store, SCHEMA_KEY, SCHEMA_VERSION};
use crate::domain::{Actor, HistoryEntry, State, Tracked};

impl Store {
    /// Brings a store of schema version `found` (1 or 2) forward to [`SCHEMA_VERSION`].
    pub(super) fn upgrade(&self, found: u64) -> Result<()> {
        if found < 2 {
            self.index_settled_and_ranks()?;
        }
        if found < 3 {
            self.name_earshot()?;
        }
        self.engine
            .insert(Tree::Meta, SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())?;
        self.engine.flush_blocking(super::FLUSH_LIMIT)?;
        tracing::info!(store = %self.location, "upgraded the store from schema version {found} to {SCHEMA_VERSION}");
        Ok(())
    }

    /// Version 1 to 2: builds the `settled` index from the histories, and gives the status
    /// index the ranks that lists sort by.
    fn index_settled_and_ranks(&self) -> Result<()> {
        let indexed: Vec<Vec<u8>> = self
            .engine
            .scan(Tree::ByStatus, Scan::all().keys())
            .map(|item| item.map(|(key, _)| key))
            .collect::<Result<_>>()?;
        for key in indexed {
            let tracked = self.mention(keys::trailing_number(&key))?;
            let ranked = keys::ranked(&tracked.priority, &tracked.place.lane());
            self.engine.insert(Tree::ByStatus, &key, &ranked)?;
        }
        for item in self.engine.scan(Tree::History, Scan::all()) {
            let (key, bytes) = item?;
            let entry: HistoryEntry = decode("history entry", &bytes)?;
            if entry.settles() {
                let number = keys::read_u64(&key[..key.len().min(8)]);
                self.engine
                    .insert(Tree::Settled, &keys::settled(entry.at, number), &[])?;
            }
        }
        Ok(())
    }

    /// Version 2 to 3: what earshot did itself was recorded as done by a member with the id
    /// and name "earshot"; it is now [`Actor::System`], in history entries and in the state of
    /// the mentions it closed (an answer found elsewhere).
    fn name_earshot(&self) -> Result<()> {
        let mut entries = Vec::new();
        for item in self.engine.scan(Tree::History, Scan::all()) {
            let (key, bytes) = item?;
            let mut entry: HistoryEntry = decode("history entry", &bytes)?;
            if as_system(&mut entry.by) {
                entries.push((key, encode(&entry)));
            }
        }
        for (key, bytes) in entries {
            self.engine.insert(Tree::History, &key, &bytes)?;
        }
        let mut mentions = Vec::new();
        for item in self.engine.scan(Tree::Mentions, Scan::all()) {
            let (key, bytes) = item?;
            let mut tracked: Tracked = decode("mention", &bytes)?;
            let closer = match &mut tracked.state {
                State::Answered { by, .. } | State::Done { by, .. } | State::Ignored { by, .. } => {
                    Some(by)
                }
                State::Open | State::Claimed { .. } => None,
            };
            if closer.is_some_and(as_system) {
                mentions.push((key, encode(&tracked)));
            }
        }
        for (key, bytes) in mentions {
            self.engine.insert(Tree::Mentions, &key, &bytes)?;
        }
        Ok(())
    }
}

/// How version 2 wrote earshot: a member with this id and name. A person in the terminal who
/// called themselves "earshot" looked the same and is read as earshot too.
const EARSHOT_AS_MEMBER: &str = "earshot";

/// Makes `actor` [`Actor::System`] if version 2 wrote earshot there; whether it did.
fn as_system(actor: &mut Actor) -> bool {
    let was_earshot = actor
        .member()
        .is_some_and(|member| member.id == EARSHOT_AS_MEMBER && member.name == EARSHOT_AS_MEMBER);
    if was_earshot {
        *actor = Actor::System;
    }
    was_earshot
}
