//! The persisted outbox: every side effect (a card to post, a card to update, an answer to
//! deliver) is written in the same transaction as the change that caused it, and leaves the
//! outbox only in the same transaction as the record of its success.

use super::engine::{Scan, Tree, Tx, TxResult};
use super::mentions::{Applied, Settling};
use super::{decode, encode, keys, Result, Store};
use crate::domain::{Action, Actor, Member};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Show a new mention in a chat.
    Post { chat: String, number: u64 },
    /// Re-render a mention's message in a chat and note what changed.
    Update {
        chat: String,
        number: u64,
        note: String,
    },
    /// Deliver an answer to the network the mention came from.
    Reply {
        number: u64,
        text: String,
        by: Member,
    },
    /// Post the daily digest to a chat's channel (`channel`: a route's; absent: the chat's own).
    Digest {
        chat: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
    },
    /// Chase an unclaimed mention in its thread, pinging `ping`.
    Nudge {
        chat: String,
        number: u64,
        text: String,
        ping: Vec<String>,
    },
    /// Remind the member who holds a mention, directly where the chat can.
    Remind {
        chat: String,
        number: u64,
        member: Member,
        text: String,
    },
    /// Post the weekly report: its text and the figures its chart is drawn from.
    Report {
        chat: String,
        text: String,
        days: Vec<crate::domain::stats::ChartDay>,
    },
    /// Post or update (in place, where the chat can) storm `storm`'s summary card.
    Summary {
        chat: String,
        storm: u64,
        text: String,
        /// The route's channel the storm is in; absent: the chat's own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
        /// The lane (see `Placement::lane`) whose storm this is; empty: unrouted mentions.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        lane: String,
    },
    /// Alert the team once: a storm started.
    Alert {
        chat: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
    },
    /// Tell the channel something that pings nobody (an import of earlier mentions).
    Notice { chat: String, text: String },
}

impl Effect {
    /// The mention an effect is about; `None` for those about no single mention (a digest, a
    /// report, a storm's summary, an alert, a notice).
    pub fn mention(&self) -> Option<u64> {
        match self {
            Effect::Post { number, .. }
            | Effect::Update { number, .. }
            | Effect::Reply { number, .. }
            | Effect::Nudge { number, .. }
            | Effect::Remind { number, .. } => Some(*number),
            Effect::Digest { .. }
            | Effect::Report { .. }
            | Effect::Summary { .. }
            | Effect::Alert { .. }
            | Effect::Notice { .. } => None,
        }
    }

    /// The card (or storm summary) an effect is about, if any: the effects about one card keep
    /// their order even when a refusal holds the first of them out of its lane.
    pub fn thread(&self) -> Option<String> {
        match (self, self.mention()) {
            (_, Some(number)) => Some(format!("mention:{number}")),
            (Effect::Summary { storm, .. }, None) => Some(format!("storm:{storm}")),
            _ => None,
        }
    }

    /// Effects on one lane are delivered in order; a lane waiting on a retry holds back the
    /// effects behind it, and other lanes go on.
    pub fn lane(&self) -> String {
        match self {
            Effect::Post { chat, .. }
            | Effect::Update { chat, .. }
            | Effect::Digest { chat, .. }
            | Effect::Nudge { chat, .. }
            | Effect::Remind { chat, .. }
            | Effect::Report { chat, .. }
            | Effect::Summary { chat, .. }
            | Effect::Alert { chat, .. }
            | Effect::Notice { chat, .. } => format!("chat:{chat}"),
            Effect::Reply { number, .. } => format!("reply:{number}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub effect: Effect,
    pub attempts: u32,
    pub not_before: DateTime<Utc>,
    pub last_error: Option<String>,
    /// A delivery was started: it may have landed even if no answer came back.
    #[serde(default)]
    pub started: bool,
    /// Why the chat refused it for good (the app removed from the channel, a revoked token):
    /// it is kept until a person fixes the cause, retried at a long interval and at start-up.
    #[serde(default)]
    pub held: Option<String>,
    /// When it was queued, to tell how long it has waited.
    #[serde(default)]
    pub queued_at: Option<DateTime<Utc>>,
}

impl OutboxEntry {
    /// One line for the operator: what the effect is, in plain words.
    pub fn describe(&self) -> String {
        match &self.effect {
            Effect::Post { chat, number } => format!("the card for #{number} in {chat}"),
            Effect::Update { chat, number, .. } => {
                format!("an update of #{number}'s card in {chat}")
            }
            Effect::Reply { number, .. } => format!("the answer to #{number}"),
            Effect::Digest { chat, .. } => format!("the daily digest in {chat}"),
            Effect::Nudge { chat, number, .. } => format!("a reminder about #{number} in {chat}"),
            Effect::Remind {
                chat,
                number,
                member,
                ..
            } => {
                format!("a reminder to {member} about #{number} in {chat}")
            }
            Effect::Report { chat, .. } => format!("the weekly report in {chat}"),
            Effect::Summary { chat, storm, .. } => format!("storm {storm}'s summary in {chat}"),
            Effect::Alert { chat, .. } => format!("a storm alert in {chat}"),
            Effect::Notice { chat, .. } => format!("a notice in {chat}"),
        }
    }
}

/// The outbox key of an entry: its place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutboxId(pub u64);

impl OutboxId {
    /// A key unique to this entry, for networks and chats that de-duplicate retried requests.
    pub fn idempotency_key(self) -> String {
        format!("earshot-{:016x}", self.0)
    }
}

pub(super) fn enqueue(tx: &mut dyn Tx, effect: Effect, now: DateTime<Utc>) -> TxResult<()> {
    let entry = OutboxEntry {
        effect,
        attempts: 0,
        not_before: now,
        last_error: None,
        started: false,
        held: None,
        queued_at: Some(now),
    };
    let id = tx.generate_id()?;
    tx.insert(Tree::Outbox, &keys::number(id), &encode(&entry))
}

impl Store {
    /// Every pending entry, in the order it was queued.
    pub fn outbox(&self) -> Result<Vec<(OutboxId, OutboxEntry)>> {
        self.engine
            .scan(Tree::Outbox, Scan::all())
            .map(outbox_entry)
            .collect()
    }

    /// The first `limit` pending entries, in queue order: what reports look at, so a long
    /// backlog does not page the whole outbox in.
    pub fn outbox_head(&self, limit: usize) -> Result<Vec<(OutboxId, OutboxEntry)>> {
        self.engine
            .scan(Tree::Outbox, Scan::all())
            .take(limit)
            .map(outbox_entry)
            .collect()
    }

    /// Entry `id` as it stands now (`None`: it left the outbox), read again just before a
    /// delivery: another process may have delivered it since it was listed.
    pub fn outbox_entry(&self, id: OutboxId) -> Result<Option<OutboxEntry>> {
        self.engine
            .get(Tree::Outbox, &keys::number(id.0))?
            .map(|bytes| decode("outbox entry", &bytes))
            .transpose()
    }

    /// How many entries wait (0 if the store cannot be read: the caller only reports it).
    pub fn outbox_len(&self) -> usize {
        self.engine.len(Tree::Outbox).unwrap_or(0)
    }

    /// A card was posted: remember its message id and drop the entry, durably.
    pub async fn posted(&self, id: OutboxId, chat: &str, number: u64, message: &str) -> Result<()> {
        self.engine
            .transaction(&[Tree::Outbox, Tree::Messages], |tx| {
                tx.insert(
                    Tree::Messages,
                    &keys::message(chat, number),
                    message.as_bytes(),
                )?;
                tx.remove(Tree::Outbox, &keys::number(id.0))
            })?;
        self.flush().await
    }

    /// The effect is done (or can never be done and was reported): drop it, durably.
    pub async fn finished(&self, id: OutboxId) -> Result<()> {
        self.engine.remove(Tree::Outbox, &keys::number(id.0))?;
        self.flush().await
    }

    /// Records, durably, that a delivery of the entry is about to start.
    pub async fn started(&self, id: OutboxId, mut entry: OutboxEntry) -> Result<()> {
        entry.started = true;
        self.engine
            .insert(Tree::Outbox, &keys::number(id.0), &encode(&entry))?;
        self.flush().await
    }

    /// Try again at `not_before`; `entry` carries the attempts and the reason (or the refusal it
    /// is held for) as the outbox decided them.
    pub async fn retry_later(
        &self,
        id: OutboxId,
        mut entry: OutboxEntry,
        not_before: DateTime<Utc>,
        error: String,
    ) -> Result<()> {
        entry.not_before = not_before;
        entry.last_error = Some(error);
        self.engine
            .insert(Tree::Outbox, &keys::number(id.0), &encode(&entry))?;
        self.flush().await
    }

    /// Makes every held entry due at `now`: at start-up the cause may have been fixed.
    pub async fn release_held(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut released = 0;
        for (id, mut entry) in self.outbox()? {
            if entry.held.is_some() && entry.not_before > now {
                entry.not_before = now;
                self.engine
                    .insert(Tree::Outbox, &keys::number(id.0), &encode(&entry))?;
                released += 1;
            }
        }
        if released > 0 {
            self.flush().await?;
        }
        Ok(released)
    }

    /// The network took (or refused for good) a queued answer: settle the mention and drop the
    /// entry in one transaction.
    pub async fn answer_settled(
        &self,
        id: OutboxId,
        number: u64,
        action: &Action,
        reply_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Applied> {
        let outbox_key = keys::number(id.0);
        let settling = Settling {
            outbox_key: &outbox_key,
            reply_id,
        };
        let applied =
            self.apply_in_transaction(number, &Actor::System, action, now, Some(settling))?;
        self.flush().await?;
        Ok(applied)
    }
}

fn outbox_entry(item: Result<super::engine::Entry>) -> Result<(OutboxId, OutboxEntry)> {
    let (key, bytes) = item?;
    Ok((
        OutboxId(keys::read_u64(&key)),
        decode("outbox entry", &bytes)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::Effect;

    #[test]
    fn an_effect_names_its_mention_only_when_it_has_one() {
        let post = Effect::Post {
            chat: "slack".into(),
            number: 7,
        };
        assert_eq!(post.mention(), Some(7));
        assert_eq!(post.thread().as_deref(), Some("mention:7"));
        let summary = Effect::Summary {
            chat: "slack".into(),
            storm: 2,
            text: "a storm".into(),
            channel: None,
            lane: String::new(),
        };
        assert_eq!(summary.mention(), None);
        assert_eq!(summary.thread().as_deref(), Some("storm:2"));
        let notice = Effect::Notice {
            chat: "slack".into(),
            text: "imported".into(),
        };
        assert_eq!((notice.mention(), notice.thread()), (None, None));
    }
}
