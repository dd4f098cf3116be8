//! What earshot keeps to follow mentions up: the last day each scheduled post went out, how far
//! each mention has been chased (and its snooze), and each source's health.

use super::engine::{Scan, Tree};
use super::mentions::read_tracked;
use super::mentions::Applied;
use super::outbox::{enqueue, Effect};
use super::{decode, encode, keys, Result, Store};
use crate::domain::health::SourceHealth;
use crate::domain::lifecycle::{self, Subject};
use crate::domain::sla::Chase;
use crate::domain::{Action, Actor};
use chrono::{DateTime, NaiveDate, Utc};

impl Store {
    /// The last local date the scheduled post `kind` ("digest", "report") was queued for.
    pub fn last_sent(&self, kind: &str) -> Result<Option<NaiveDate>> {
        match self.engine.get(Tree::Meta, &sent_key(kind))? {
            Some(bytes) => decode("sent date", &bytes),
            None => Ok(None),
        }
    }

    /// Queues `effects` as the `kind` post for `date`, unless one was already queued for that
    /// date or a later one: the date and the effects are written in one transaction and
    /// flushed, so a crash or restart can neither lose the post nor send it twice. Returns
    /// whether it was queued.
    pub async fn queue_once(
        &self,
        kind: &str,
        date: NaiveDate,
        effects: Vec<Effect>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let key = sent_key(kind);
        let queued = self.engine.transaction(&[Tree::Meta, Tree::Outbox], |tx| {
            self.check_fence(tx)?;
            if let Some(bytes) = tx.get(Tree::Meta, &key)? {
                let sent: NaiveDate = decode("sent date", &bytes)?;
                if sent >= date {
                    return Ok(false);
                }
            }
            tx.insert(Tree::Meta, &key, &encode(&date))?;
            for effect in &effects {
                enqueue(tx, effect.clone(), now)?;
            }
            Ok(true)
        })?;
        self.flush().await?;
        Ok(queued)
    }

    /// How far reminders for mention `number` have gone.
    pub fn chase(&self, number: u64) -> Result<Chase> {
        match self.engine.get(Tree::Chase, &keys::number(number))? {
            Some(bytes) => decode("chase", &bytes),
            None => Ok(Chase::default()),
        }
    }

    /// Records a reminder step and queues what it sends, in one transaction, if the record is
    /// still `before` (so two schedulers, or a tick racing a snooze, cannot send one step twice).
    /// Returns whether it was recorded.
    pub async fn chased(
        &self,
        number: u64,
        before: &Chase,
        after: &Chase,
        effects: Vec<Effect>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let key = keys::number(number);
        let recorded = self
            .engine
            .transaction(&[Tree::Chase, Tree::Outbox], |tx| {
                self.check_fence(tx)?;
                let current: Chase = match tx.get(Tree::Chase, &key)? {
                    Some(bytes) => decode("chase", &bytes)?,
                    None => Chase::default(),
                };
                if &current != before {
                    return Ok(false);
                }
                tx.insert(Tree::Chase, &key, &encode(after))?;
                for effect in &effects {
                    enqueue(tx, effect.clone(), now)?;
                }
                Ok(true)
            })?;
        self.flush().await?;
        Ok(recorded)
    }

    /// Silences reminders for `number` until `until`, as the lifecycle allows (`Action::Snooze`):
    /// the snooze, its history entry and a note for every chat in one transaction, flushed.
    pub async fn snooze(
        &self,
        number: u64,
        actor: impl Into<Actor>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        let action = Action::Snooze { until };
        let actor = actor.into();
        let trees = [Tree::Mentions, Tree::History, Tree::Outbox, Tree::Chase];
        let applied = self.engine.transaction(&trees, |tx| {
            let key = keys::number(number);
            let tracked = read_tracked(tx, number)?;
            let subject = Subject {
                number,
                network: tracked.mention.network,
                link: tracked.mention.link.as_deref(),
                state: &tracked.state,
            };
            // A snooze leaves the state as it is: only the history and the chase change.
            let entry = lifecycle::apply(subject, &actor, &action, now)?.entry;
            let mut chased: Chase = match tx.get(Tree::Chase, &key)? {
                Some(bytes) => decode("chase", &bytes)?,
                None => Chase::default(),
            };
            chased.snoozed_until = Some(until);
            tx.insert(Tree::Chase, &key, &encode(&chased))?;
            self.record_step(tx, number, &entry, now)?;
            Ok(Applied {
                tracked: tracked.clone(),
                entry,
            })
        })?;
        self.flush().await?;
        Ok(applied)
    }

    /// Notes the outcome of one poll of `source`: how many new mentions, or why it failed.
    pub fn record_poll(
        &self,
        source: &str,
        outcome: Result<usize, String>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let current = self.source_health(source)?;
        let next = current.after_poll(outcome, now);
        self.engine
            .insert(Tree::Health, source.as_bytes(), &encode(&next))
    }

    pub fn source_health(&self, source: &str) -> Result<SourceHealth> {
        match self.engine.get(Tree::Health, source.as_bytes())? {
            Some(bytes) => decode("source health", &bytes),
            None => Ok(SourceHealth::default()),
        }
    }

    /// Every source's health, by name.
    pub fn all_source_health(&self) -> Result<Vec<(String, SourceHealth)>> {
        self.engine
            .scan(Tree::Health, Scan::all())
            .map(|item| {
                let (key, bytes) = item?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode("source health", &bytes)?,
                ))
            })
            .collect()
    }
}

fn sent_key(kind: &str) -> Vec<u8> {
    format!("sent:{kind}").into_bytes()
}
