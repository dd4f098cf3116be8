//! Reviews read again: a reviewer who edits a review (new stars, new text) or a business reply
//! made outside earshot changes a mention the store already holds. Each such change is one
//! transaction: the mention, its indexes, a history entry and the card updates.

use super::engine::{Tree, Tx, TxResult};
use super::mentions::read_tracked;
use super::outbox::{Effect, OutboxEntry};
use super::{decode, encode, keys, Result, Store};
use crate::domain::lifecycle::{self, Subject};
use crate::domain::review::{self, BusinessReply};
use crate::domain::{Action, Actor, HistoryEntry, Mention, State, Step, Tracked};
use chrono::{DateTime, Utc};

/// How much of a reply a history note quotes; `show` has room, a thread line should not wrap
/// for long.
const QUOTED_REPLY: usize = 280;

impl Store {
    /// Applies what changed in the reviews of `batch` that the store already holds (found by
    /// `source` and the network's id); new reviews are [`Store::ingest`]'s. An edit updates the
    /// mention, notes "edited: 2★ → 4★" and reopens it if it was answered, done or ignored; a
    /// business reply seen for the first time (or changed) is remembered, and answers the
    /// mention if it was still owed. A read that changes nothing writes nothing. Returns how
    /// many mentions changed; flushed before it returns.
    pub fn revise(&self, source: &str, batch: &[Mention], now: DateTime<Utc>) -> Result<usize> {
        let mut changed = 0;
        for read in batch.iter().filter(|mention| mention.review.is_some()) {
            let Some(number) = self.engine.get(Tree::Keys, &keys::mention_key(&read.key))? else {
                continue;
            };
            let number = keys::read_u64(&number);
            // Most re-reads change nothing; they are sorted out without a transaction.
            let stored = self.mention(number)?;
            if review::revise(&stored.mention, read).is_empty() {
                continue;
            }
            if self.revise_one(number, read, now)? {
                tracing::debug!(source, number, "a known review changed on the network");
                changed += 1;
            }
        }
        if changed > 0 {
            self.flush_now()?;
        }
        Ok(changed)
    }

    fn revise_one(&self, number: u64, read: &Mention, now: DateTime<Utc>) -> Result<bool> {
        // Scored before the transaction, whose closure sled may run again on a conflict.
        let priority = self.priority_of(read);
        let trees = [
            Tree::Mentions,
            Tree::ByStatus,
            Tree::ByOwner,
            Tree::History,
            Tree::Outbox,
            Tree::Settled,
        ];
        self.engine.transaction(&trees, |tx| {
            let key = keys::number(number);
            let mut tracked = read_tracked(tx, number)?;
            let revision = review::revise(&tracked.mention, read);
            if revision.is_empty() {
                return Ok(false);
            }
            let before = tracked.state.clone();
            let mut entries = Vec::new();
            if let Some(edit) = &revision.edit {
                let known_reply = tracked
                    .mention
                    .review
                    .as_ref()
                    .and_then(|known| known.reply.clone());
                tracked.mention = read.clone();
                if let Some(found) = tracked.mention.review.as_mut() {
                    found.reply = found.reply.take().or(known_reply);
                }
                tracked.priority = priority.clone();
                entries.push(edited(&mut tracked, edit, now));
            }
            if let Some(reply) = revision.reply {
                if let Some(entry) = replied(&mut tracked, reply, now) {
                    entries.push(entry);
                }
            }
            reindex(
                tx,
                number,
                &keys::rank(&tracked.priority),
                &before,
                &tracked.state,
            )?;
            tx.insert(Tree::Mentions, &key, &encode(&tracked))?;
            for entry in &entries {
                self.record_step(tx, number, entry, now)?;
            }
            Ok(true)
        })
    }
}

/// The reviewer changed the review: noted, and reopened if it was closed, so the new text gets
/// an answer. An owed mention stays with whoever holds it.
fn edited(tracked: &mut Tracked, edit: &str, now: DateTime<Utc>) -> HistoryEntry {
    let status = tracked.state.status();
    let (to, note) = if status.is_owed() {
        (Step::Edited, edit.to_string())
    } else {
        tracked.state = State::Open;
        (Step::Reopened, format!("edited: {edit}"))
    };
    let note = Some(note);
    HistoryEntry {
        at: now,
        by: Actor::System,
        from: Some(status),
        to,
        note,
    }
}

/// The network shows a reply by the business that earshot did not know: remembered, and if the
/// mention was still owed (and no answer of earshot's is on its way), it is answered, with the
/// reply's text in its history.
fn replied(
    tracked: &mut Tracked,
    reply: BusinessReply,
    now: DateTime<Utc>,
) -> Option<HistoryEntry> {
    let how = format!(
        "answered outside earshot: reply on {}: {}",
        tracked.mention.network,
        review::quote(&reply.text, QUOTED_REPLY)
    );
    if let Some(found) = tracked.mention.review.as_mut() {
        found.reply = Some(reply);
    }
    let answering = matches!(
        tracked.state,
        State::Claimed {
            answering: true,
            ..
        }
    );
    if !tracked.state.status().is_owed() || answering {
        return None;
    }
    let subject = Subject {
        number: tracked.number,
        network: tracked.mention.network,
        link: tracked.mention.link.as_deref(),
        state: &tracked.state,
    };
    let transition = lifecycle::apply(
        subject,
        &Actor::System,
        &Action::AnsweredElsewhere { how },
        now,
    )
    .ok()?;
    tracked.state = transition.state;
    Some(transition.entry)
}

/// Earshot's own answer to a review landed: it is now the reply under the review, the one the
/// next answer replaces (and a re-read that shows it is no news).
pub(super) fn record_own_reply(
    tracked: &mut Tracked,
    tx: &mut dyn Tx,
    outbox_key: &[u8],
    now: DateTime<Utc>,
) -> TxResult<()> {
    let Some(found) = tracked.mention.review.as_mut() else {
        return Ok(());
    };
    let Some(bytes) = tx.get(Tree::Outbox, outbox_key)? else {
        return Ok(());
    };
    let entry: OutboxEntry = decode("outbox entry", &bytes)?;
    if let Effect::Reply { text, .. } = entry.effect {
        found.reply = Some(BusinessReply {
            text,
            at: Some(now),
        });
    }
    Ok(())
}

/// Moves the mention's index entries from `before` to `after`, with its new rank; whatever the
/// index keeps after the rank is carried over unchanged.
fn reindex(
    tx: &mut dyn Tx,
    number: u64,
    rank: &[u8],
    before: &State,
    after: &State,
) -> TxResult<()> {
    let old = tx
        .take(Tree::ByStatus, &keys::by_status(before.status(), number))?
        .unwrap_or_default();
    let mut value = rank.to_vec();
    value.extend_from_slice(old.get(rank.len()..).unwrap_or_default());
    tx.insert(
        Tree::ByStatus,
        &keys::by_status(after.status(), number),
        &value,
    )?;
    if let Some(holder) = before.holder() {
        tx.remove(Tree::ByOwner, &keys::by_owner(&holder.id, number))?;
    }
    if let Some(holder) = after.holder() {
        tx.insert(Tree::ByOwner, &keys::by_owner(&holder.id, number), &[])?;
    }
    Ok(())
}
