//! The persisted outbox: every side effect (a card to post, a card to update, an answer to
//! deliver) is written in the same transaction as the change that caused it, and leaves the
//! outbox only in the same transaction as the record of its success.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{TransactionalTree, UnabortableTransactionError};
use sled::Transactional;

use super::mentions::{Applied, Settling};
use super::{decode, encode, keys, settle, Result, Store};
use crate::domain::{Action, Member};

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
}

impl Effect {
    pub fn number(&self) -> u64 {
        match self {
            Effect::Post { number, .. }
            | Effect::Update { number, .. }
            | Effect::Reply { number, .. }
            | Effect::Nudge { number, .. }
            | Effect::Remind { number, .. } => *number,
            // Not about one mention.
            Effect::Digest { .. }
            | Effect::Report { .. }
            | Effect::Summary { .. }
            | Effect::Alert { .. } => 0,
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
            | Effect::Alert { chat, .. } => format!("chat:{chat}"),
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

pub(super) fn enqueue(
    outbox: &TransactionalTree,
    effect: Effect,
    now: DateTime<Utc>,
) -> std::result::Result<(), UnabortableTransactionError> {
    let entry = OutboxEntry {
        effect,
        attempts: 0,
        not_before: now,
        last_error: None,
        started: false,
    };
    outbox.insert(&keys::number(outbox.generate_id()?), encode(&entry))?;
    Ok(())
}

impl Store {
    /// Every pending entry, in the order it was queued.
    pub fn outbox(&self) -> Result<Vec<(OutboxId, OutboxEntry)>> {
        self.outbox
            .iter()
            .map(|item| {
                let (key, bytes) = item?;
                Ok((
                    OutboxId(keys::read_u64(&key)),
                    decode("outbox entry", &bytes)?,
                ))
            })
            .collect()
    }

    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// A card was posted: remember its message id and drop the entry, durably.
    pub async fn posted(&self, id: OutboxId, chat: &str, number: u64, message: &str) -> Result<()> {
        settle(
            (&self.outbox, &self.messages).transaction(|(outbox, messages)| {
                messages.insert(keys::message(chat, number), message.as_bytes())?;
                outbox.remove(&keys::number(id.0))?;
                Ok(())
            }),
        )?;
        self.flush().await
    }

    /// The effect is done (or can never be done and was reported): drop it, durably.
    pub async fn finished(&self, id: OutboxId) -> Result<()> {
        self.outbox.remove(keys::number(id.0))?;
        self.flush().await
    }

    /// Records, durably, that a delivery of the entry is about to start.
    pub async fn started(&self, id: OutboxId, mut entry: OutboxEntry) -> Result<()> {
        entry.started = true;
        self.outbox.insert(keys::number(id.0), encode(&entry))?;
        self.flush().await
    }

    /// Try again later.
    pub async fn retry_later(
        &self,
        id: OutboxId,
        mut entry: OutboxEntry,
        not_before: DateTime<Utc>,
        error: String,
    ) -> Result<()> {
        entry.attempts = entry.attempts.saturating_add(1);
        entry.not_before = not_before;
        entry.last_error = Some(error);
        self.outbox.insert(keys::number(id.0), encode(&entry))?;
        self.flush().await
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
        let system = Member::new("earshot", "earshot");
        let outbox_key = keys::number(id.0);
        let settling = Settling {
            outbox_key: &outbox_key,
            reply_id,
        };
        let applied = self.apply_in_transaction(number, &system, action, now, Some(settling))?;
        self.flush().await?;
        Ok(applied)
    }
}
