//! Drains the persisted outbox: posts cards, updates them, and delivers answers to networks,
//! retrying with exponential backoff. An entry leaves the outbox only together with the record
//! of its success, so a crash or an outage delays work and never loses it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::chat::{Chat, ChatError};
use crate::domain::Action;
use crate::sources::{Source, SourceError};
use crate::store::{Effect, OutboxEntry, OutboxId, Store, StoreError};

/// The first retry waits this long; each further one twice as long as the one before.
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// Backoff stops growing here, so a chat that comes back after an outage is noticed soon.
const LONGEST_RETRY: Duration = Duration::from_secs(10 * 60);
/// An answer still failing after this many tries (about a day with the backoff above) goes back
/// to its author instead of waiting for ever.
const ANSWER_ATTEMPTS: u32 = 150;
/// A chat's refusal that no retry can fix (the app removed from the channel, a revoked token)
/// keeps its effect until a person fixes the cause; it is tried again this often, and at every
/// start, so it is delivered soon after the fix without hammering the chat meanwhile.
pub const HELD_RETRY: Duration = Duration::from_secs(30 * 60);
/// How often the running outbox refreshes the report `earshot status` reads.
const STATUS_EVERY: Duration = Duration::from_secs(30);
/// A server's Retry-After is honoured up to this; a longer one is a mistake or hostile.
const LONGEST_SERVER_WAIT: Duration = Duration::from_secs(60 * 60);
/// A server asking to retry at once is still given this pause, so a lane cannot spin.
const SHORTEST_SERVER_WAIT: Duration = Duration::from_secs(1);
/// How long a process holds an outbox lane it is delivering: longer than one delivery may
/// take (a network request times out after 30 s), renewed before each. When a process dies
/// mid-lane, another takes the lane over once this has run out.
pub const LANE_TTL: Duration = Duration::from_secs(45);
/// A lane held by another process is looked at again this soon: it releases the lane at the
/// end of its pass, and effects this process queued meanwhile may wait in it.
const LANE_RECHECK: Duration = Duration::from_secs(2);

/// An entry that has failed this many times in a row (about an hour of backoff) holds up its
/// lane: it is logged as an error and reported by `earshot status` and the digest.
pub const STUCK_ATTEMPTS: u32 = 12;

#[derive(Clone)]
pub struct Outbox {
    store: Store,
    chats: HashMap<String, Arc<dyn Chat>>,
    sources: HashMap<String, Arc<dyn Source>>,
    wake: Arc<Notify>,
    /// This outbox's name in the lane leases: processes on one database take turns per lane.
    holder: Arc<str>,
}

/// What one pass over the outbox did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub deferred: usize,
    /// When the earliest deferred entry becomes due.
    pub next_due: Option<DateTime<Utc>>,
}

enum Delivery {
    /// The entry left the outbox: delivered, or (an answer) failed for good and reported.
    Done,
    /// It stays, due again at this time, and holds up its lane.
    Later(DateTime<Utc>),
    /// The chat refused it for good: it stays, due again at this time, and holds up only the
    /// effects behind it about the same card, so the rest of the lane goes on.
    Held(DateTime<Utc>),
}

enum Failure {
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Permanent(String),
}

impl Outbox {
    pub fn new(
        store: Store,
        chats: Vec<Arc<dyn Chat>>,
        sources: Vec<Arc<dyn Source>>,
        wake: Arc<Notify>,
    ) -> Outbox {
        Outbox {
            store,
            chats: chats
                .into_iter()
                .map(|c| (c.name().to_string(), c))
                .collect(),
            sources: sources
                .into_iter()
                .map(|s| (s.name().to_string(), s))
                .collect(),
            wake,
            holder: default_holder().into(),
        }
    }

    /// Takes lanes under `holder`'s name (the process's, as in the leader lease).
    pub fn with_holder(mut self, holder: &str) -> Outbox {
        self.holder = holder.into();
        self
    }

    /// Runs until `shutdown` fires: drains what is due, then sleeps until the next entry is due
    /// or something new is queued. Effects held for a refusal are tried again first: the
    /// cause may have been fixed while earshot was stopped.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        if let Err(error) = self.retry_held(Utc::now()).await {
            tracing::error!(error = %error, "cannot release the outbox's held effects");
        }
        let mut reported: Option<std::time::Instant> = None;
        loop {
            let pass = match self.drain(Utc::now()).await {
                Ok(pass) => pass,
                Err(error) if error.is_storage() => {
                    // The disk failed: going on could deliver what the store cannot record.
                    tracing::error!(error = %error, "the outbox stops: the store cannot write");
                    return;
                }
                Err(error) => {
                    tracing::error!(error = %error, "outbox pass failed; retrying shortly");
                    Pass {
                        next_due: Some(later(Utc::now(), FIRST_RETRY)),
                        ..Pass::default()
                    }
                }
            };
            self.leave_status(&mut reported);
            let sleep = pass
                .next_due
                .map(|due| (due - Utc::now()).to_std().unwrap_or_default())
                .unwrap_or(LONGEST_RETRY)
                .min(LONGEST_RETRY);
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Leaves the status report beside the store for `earshot status` (which cannot open the
    /// store while the bot holds its lock), at most every [`STATUS_EVERY`].
    fn leave_status(&self, reported: &mut Option<std::time::Instant>) {
        if reported.is_some_and(|at| at.elapsed() < STATUS_EVERY) {
            return;
        }
        *reported = Some(std::time::Instant::now());
        // A database needs no copy: `earshot status` reads it while the bot runs.
        let crate::store::Location::Folder(path) = self.store.location() else {
            return;
        };
        if path.to_str() == Some("(temporary)") {
            return;
        }
        let written = crate::status::report(&self.store, Utc::now())
            .map_err(|error| error.to_string())
            .and_then(|text| {
                std::fs::write(crate::status::snapshot_path(path), text)
                    .map_err(|error| error.to_string())
            });
        if let Err(error) = written {
            tracing::warn!(%error, "cannot leave the status report beside the store");
        }
    }

    /// Makes every held effect due at `now` (at start-up, or once a person says it is fixed).
    pub async fn retry_held(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let released = self.store.release_held(now).await?;
        if released > 0 {
            tracing::info!(
                released,
                "retrying the outbox effects held for a chat's refusal"
            );
        }
        Ok(released)
    }

    /// Delivers every entry that is due at `now`, in queue order per lane, in the lanes no
    /// other process is delivering.
    pub async fn drain(&self, now: DateTime<Utc>) -> Result<Pass, StoreError> {
        let entries = self.store.outbox()?;
        let mut due: Vec<String> = Vec::new();
        for (_, entry) in &entries {
            let lane = entry.effect.lane();
            if entry.not_before <= now && !due.contains(&lane) {
                due.push(lane);
            }
        }
        let lanes = if due.is_empty() {
            Vec::new()
        } else {
            self.store.take_lanes(&due, &self.holder, LANE_TTL)?
        };
        let drained = self.drain_lanes(entries, &lanes, now).await;
        if !lanes.is_empty() {
            if let Err(error) = self.store.release_lanes(&lanes, &self.holder) {
                tracing::warn!(%error, "cannot hand the outbox's lanes back; other processes take them when they run out");
            }
        }
        drained
    }

    async fn drain_lanes(
        &self,
        entries: Vec<(OutboxId, OutboxEntry)>,
        lanes: &[String],
        now: DateTime<Utc>,
    ) -> Result<Pass, StoreError> {
        let mut pass = Pass::default();
        let mut waiting: HashSet<String> = HashSet::new();
        // A held entry waits for a person; only the entries behind it about the same card (an
        // update of a card not posted yet) wait with it.
        let mut held: HashSet<(String, String)> = HashSet::new();
        let mut renewed = std::time::Instant::now();
        for (id, listed) in entries {
            let lane = listed.effect.lane();
            let thread = listed.effect.thread();
            let behind_held = thread
                .as_ref()
                .is_some_and(|thread| held.contains(&(lane.clone(), thread.clone())));
            if waiting.contains(&lane) || behind_held {
                // Waits for the entry ahead of it, which sets the next wake-up.
                pass.deferred += 1;
                continue;
            }
            if listed.not_before <= now && !lanes.contains(&lane) {
                // Another process is delivering this lane; look again soon.
                waiting.insert(lane);
                pass.deferred += 1;
                pass.next_due = earliest(pass.next_due, later(now, LANE_RECHECK));
                continue;
            }
            // Read again: another process may have delivered or retried it since the listing.
            let entry = if listed.not_before <= now {
                match self.store.outbox_entry(id)? {
                    Some(entry) => entry,
                    None => continue,
                }
            } else {
                listed
            };
            if entry.not_before > now {
                if entry.held.is_some() {
                    if let Some(thread) = thread {
                        held.insert((lane, thread));
                    }
                } else {
                    waiting.insert(lane);
                }
                pass.deferred += 1;
                pass.next_due = earliest(pass.next_due, entry.not_before);
                continue;
            }
            if renewed.elapsed() >= LANE_TTL / 3 {
                renewed = std::time::Instant::now();
                let kept = self.store.take_lanes(lanes, &self.holder, LANE_TTL)?;
                if !kept.contains(&lane) {
                    waiting.insert(lane);
                    pass.deferred += 1;
                    pass.next_due = earliest(pass.next_due, later(now, LANE_RECHECK));
                    continue;
                }
            }
            match self.deliver(id, entry, now).await? {
                Delivery::Done => pass.delivered += 1,
                Delivery::Later(due) => {
                    waiting.insert(lane);
                    pass.deferred += 1;
                    pass.next_due = earliest(pass.next_due, due);
                }
                Delivery::Held(due) => {
                    if let Some(thread) = thread {
                        held.insert((lane, thread));
                    }
                    pass.deferred += 1;
                    pass.next_due = earliest(pass.next_due, due);
                }
            }
        }
        Ok(pass)
    }

    async fn deliver(
        &self,
        id: OutboxId,
        entry: OutboxEntry,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        let outcome = match &entry.effect {
            Effect::Post { chat, number } => self.post(id, &entry, chat, *number, now).await?,
            Effect::Update { chat, number, note } => {
                self.update(id, chat, *number, note, now).await?
            }
            Effect::Reply { number, text, .. } => {
                return self.reply(id, &entry, *number, text, now).await
            }
            Effect::Summary {
                chat,
                storm,
                text,
                channel,
                lane,
            } => {
                let place = (channel.as_deref(), lane.as_str());
                self.summary(id, chat, *storm, text, place, now).await?
            }
            Effect::Digest { chat, .. }
            | Effect::Alert { chat, .. }
            | Effect::Notice { chat, .. }
            | Effect::Nudge { chat, .. }
            | Effect::Remind { chat, .. }
            | Effect::Report { chat, .. } => self.notice(id, chat, &entry.effect, now).await?,
        };
        let mut entry = entry;
        match outcome {
            Ok(()) => {
                if entry.held.is_some() {
                    tracing::info!(what = %entry.describe(), "delivered what the chat had refused before");
                }
                Ok(Delivery::Done)
            }
            Err(Failure::Permanent(reason)) => {
                let due = later(now, HELD_RETRY);
                if entry.held.is_none() {
                    tracing::error!(
                        what = %entry.describe(),
                        %reason,
                        "the chat refused this for good; it is kept and tried again every {} and at start-up (`earshot status` lists what is held)",
                        humantime::format_duration(HELD_RETRY)
                    );
                } else {
                    tracing::warn!(what = %entry.describe(), %reason, "still refused; kept");
                }
                entry.attempts = entry.attempts.saturating_add(1);
                entry.held = Some(reason.clone());
                // The try may have landed unseen: a post looks in the chat before the next.
                entry.started = true;
                self.store.retry_later(id, entry, due, reason).await?;
                Ok(Delivery::Held(due))
            }
            Err(Failure::Retry { reason, after }) => {
                let due = later(now, backoff(entry.attempts, after));
                entry.held = None;
                entry.started = true;
                // A rate limit is the server saying when, not a failure: the backoff stays.
                if after.is_none() {
                    entry.attempts = entry.attempts.saturating_add(1);
                }
                if after.is_none() && entry.attempts == STUCK_ATTEMPTS {
                    tracing::error!(
                        what = %entry.describe(),
                        %reason,
                        attempts = entry.attempts,
                        "this keeps failing and the effects behind it in its lane wait (`earshot status` shows it)"
                    );
                } else {
                    tracing::warn!(what = %entry.describe(), %reason, %due, "chat delivery failed; will retry");
                }
                self.store.retry_later(id, entry, due, reason).await?;
                Ok(Delivery::Later(due))
            }
        }
    }

    async fn post(
        &self,
        id: OutboxId,
        entry: &OutboxEntry,
        chat_name: &str,
        number: u64,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Failure>, StoreError> {
        let Some(chat) = self.chats.get(chat_name) else {
            return Ok(Err(Failure::Permanent(format!(
                "chat {chat_name} is no longer configured"
            ))));
        };
        if self.store.message_ref(chat_name, number)?.is_some() {
            // Already shown; only the outbox record was left behind.
            self.store.finished(id).await?;
            return Ok(Ok(()));
        }
        let tracked = self.store.mention(number)?;
        if chat.at_most_once() {
            // Recorded first: a crash between the two leaves the card unshown (the mention is
            // still listed), never shown twice.
            let message = format!("{chat_name}-{number}");
            self.store.posted(id, chat_name, number, &message).await?;
            if let Err(error) = chat.post(&tracked, now).await {
                tracing::error!(chat = chat_name, number, %error, "card not shown");
            }
            return Ok(Ok(()));
        }
        if entry.started || entry.attempts > 0 {
            // An earlier attempt may have posted the card and died before recording it.
            match chat.find_posted(&tracked).await {
                Ok(Some(message)) => {
                    tracing::info!(
                        chat = chat_name,
                        number,
                        "found the card an earlier attempt posted"
                    );
                    self.store.posted(id, chat_name, number, &message).await?;
                    return Ok(Ok(()));
                }
                Ok(None) => {}
                Err(error) => return Ok(Err(error.into())),
            }
        } else {
            self.store.started(id, entry.clone()).await?;
        }
        match chat.post(&tracked, now).await {
            Ok(message) => {
                self.store.posted(id, chat_name, number, &message).await?;
                Ok(Ok(()))
            }
            Err(error) => Ok(Err(error.into())),
        }
    }

    async fn update(
        &self,
        id: OutboxId,
        chat_name: &str,
        number: u64,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Failure>, StoreError> {
        let Some(chat) = self.chats.get(chat_name) else {
            return Ok(Err(Failure::Permanent(format!(
                "chat {chat_name} is no longer configured"
            ))));
        };
        let Some(message) = self.store.message_ref(chat_name, number)? else {
            // The card was never shown (its post failed for good); nothing to update.
            self.store.finished(id).await?;
            return Ok(Ok(()));
        };
        let tracked = self.store.mention(number)?;
        if chat.at_most_once() {
            self.store.finished(id).await?;
            if let Err(error) = chat.update(&message, &tracked, note, now).await {
                tracing::error!(chat = chat_name, number, %error, "card update not shown");
            }
            return Ok(Ok(()));
        }
        match chat.update(&message, &tracked, note, now).await {
            Ok(()) => {
                self.store.finished(id).await?;
                Ok(Ok(()))
            }
            Err(error) => Ok(Err(error.into())),
        }
    }

    /// Posts a storm's summary card, or updates the one already posted.
    async fn summary(
        &self,
        id: OutboxId,
        chat_name: &str,
        storm: u64,
        text: &str,
        (channel, lane): (Option<&str>, &str),
        now: DateTime<Utc>,
    ) -> Result<Result<(), Failure>, StoreError> {
        let Some(chat) = self.chats.get(chat_name) else {
            return Ok(Err(Failure::Permanent(format!(
                "chat {chat_name} is no longer configured"
            ))));
        };
        // Each lane counts its own storms; its summary cards are remembered apart.
        let chat_lane = if lane.is_empty() {
            chat_name.to_string()
        } else {
            format!("{chat_name}\u{1f}{lane}")
        };
        let chat_name = chat_lane.as_str();
        let posted = self.store.summary_message(chat_name, storm)?;
        if chat.at_most_once() {
            let sent = match posted {
                Some(message) => {
                    self.store.finished(id).await?;
                    chat.update_summary(&message, text, now).await
                }
                None => {
                    let message = format!("{chat_name}-storm-{storm}");
                    self.store
                        .summary_posted(id, chat_name, storm, &message)
                        .await?;
                    chat.post_summary_in(channel, text, now).await.map(|_| ())
                }
            };
            if let Err(error) = sent {
                tracing::error!(chat = chat_name, storm, %error, "storm summary not shown");
            }
            return Ok(Ok(()));
        }
        match posted {
            Some(message) => match chat.update_summary(&message, text, now).await {
                Ok(()) => {
                    self.store.finished(id).await?;
                    Ok(Ok(()))
                }
                Err(error) => Ok(Err(error.into())),
            },
            None => match chat.post_summary_in(channel, text, now).await {
                Ok(message) => {
                    self.store
                        .summary_posted(id, chat_name, storm, &message)
                        .await?;
                    Ok(Ok(()))
                }
                Err(error) => Ok(Err(error.into())),
            },
        }
    }

    /// Delivers a digest, nudge, reminder or report, which change no card.
    async fn notice(
        &self,
        id: OutboxId,
        chat_name: &str,
        effect: &Effect,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Failure>, StoreError> {
        let Some(chat) = self.chats.get(chat_name) else {
            return Ok(Err(Failure::Permanent(format!(
                "chat {chat_name} is no longer configured"
            ))));
        };
        if chat.at_most_once() {
            self.store.finished(id).await?;
            if let Err(Failure::Retry { reason, .. } | Failure::Permanent(reason)) =
                self.send_notice(chat.as_ref(), effect, now).await?
            {
                tracing::error!(chat = chat_name, ?effect, %reason, "notice not shown");
            }
            return Ok(Ok(()));
        }
        match self.send_notice(chat.as_ref(), effect, now).await? {
            Ok(()) => {
                self.store.finished(id).await?;
                Ok(Ok(()))
            }
            Err(error) => Ok(Err(error)),
        }
    }

    async fn send_notice(
        &self,
        chat: &dyn Chat,
        effect: &Effect,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Failure>, StoreError> {
        // A card not shown (yet) has no message; chats then note it in the channel.
        let message = |number| self.store.message_ref(chat.name(), number);
        let sent = match effect {
            Effect::Digest { text, channel, .. } | Effect::Alert { text, channel, .. } => {
                chat.post_notice_in(channel.as_deref(), text, now).await
            }
            Effect::Notice { text, .. } => chat.post_notice(text, now).await,
            Effect::Nudge {
                number, text, ping, ..
            } => {
                let tracked = self.store.mention(*number)?;
                chat.nudge(message(*number)?.as_deref(), &tracked, text, ping, now)
                    .await
            }
            Effect::Remind {
                number,
                member,
                text,
                ..
            } => {
                let tracked = self.store.mention(*number)?;
                chat.notify_member(member, message(*number)?.as_deref(), &tracked, text, now)
                    .await
            }
            Effect::Report { text, days, .. } => match crate::report::chart::render(days) {
                Ok(png) => {
                    let name = format!("earshot-report-{}.png", now.format("%Y-%m-%d"));
                    chat.upload(&name, &png, text, now).await
                }
                Err(error) => return Ok(Err(Failure::Permanent(error.to_string()))),
            },
            Effect::Post { .. }
            | Effect::Update { .. }
            | Effect::Reply { .. }
            | Effect::Summary { .. } => Ok(()),
        };
        Ok(sent.map_err(Failure::from))
    }

    async fn reply(
        &self,
        id: OutboxId,
        entry: &OutboxEntry,
        number: u64,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Delivery, StoreError> {
        let tracked = self.store.mention(number)?;
        let source_name = &tracked.mention.key.source;
        // An attempt that began may have posted, whatever became of its response: recorded
        // (flushed) before the first send, so a retry, even after a restart, says so.
        let again = entry.started || entry.attempts > 0;
        let mut entry = entry.clone();
        if !again {
            self.store.started(id, entry.clone()).await?;
        }
        entry.started = true;
        let key = id.idempotency_key();
        let result = match self.sources.get(source_name) {
            Some(source) if again => source
                .reply_again(&tracked.mention, text, &key)
                .await
                .map_err(Failure::from),
            Some(source) => source
                .reply(&tracked.mention, text, &key)
                .await
                .map_err(Failure::from),
            None => Err(Failure::Permanent(format!(
                "source {source_name} is no longer configured"
            ))),
        };
        let mut reply_id = None;
        let action = match result {
            Ok(posted) => {
                reply_id = posted.id;
                Action::AnswerDelivered { link: posted.link }
            }
            Err(Failure::Retry { reason, after }) if entry.attempts + 1 < ANSWER_ATTEMPTS => {
                let due = later(now, backoff(entry.attempts, after));
                tracing::warn!(number, %reason, %due, "answer not delivered yet; will retry");
                // A rate limit is the network saying when, not a failed try.
                if after.is_none() {
                    entry.attempts = entry.attempts.saturating_add(1);
                }
                self.store.retry_later(id, entry, due, reason).await?;
                return Ok(Delivery::Later(due));
            }
            Err(Failure::Retry { reason, .. }) => Action::AnswerFailed {
                reason: format!("gave up after {ANSWER_ATTEMPTS} tries: {reason}"),
            },
            Err(Failure::Permanent(reason)) => Action::AnswerFailed { reason },
        };
        match self
            .store
            .answer_settled(id, number, &action, reply_id.as_deref(), now)
            .await
        {
            Ok(_) => {}
            // Someone reopened or closed the mention meanwhile; the delivery result stands in the log.
            Err(StoreError::Refused(refusal)) => {
                tracing::warn!(number, %refusal, ?action, "answer settled on a mention that moved on");
                self.store.finished(id).await?;
            }
            Err(error) => return Err(error),
        }
        self.wake.notify_one();
        Ok(Delivery::Done)
    }
}

/// How long to wait before the next try after `attempts` failed ones: what the server asked
/// for, when it said (within sane bounds), else an exponential backoff.
pub fn backoff(attempts: u32, server_asked: Option<Duration>) -> Duration {
    match server_asked {
        Some(wait) => wait.clamp(SHORTEST_SERVER_WAIT, LONGEST_SERVER_WAIT),
        None => FIRST_RETRY
            .saturating_mul(1u32.checked_shl(attempts.min(16)).unwrap_or(u32::MAX))
            .min(LONGEST_RETRY),
    }
}

/// `now + wait`, saturating: no wait a server sends can overflow the clock.
pub fn later(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(wait)
        .ok()
        .and_then(|wait| now.checked_add_signed(wait))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A name for an outbox no process name was given to (a test's, `run --once`'s): unique in the
/// process, so two of them take turns as two processes would.
fn default_holder() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("outbox-{}-{n}", std::process::id())
}

fn earliest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

impl From<ChatError> for Failure {
    fn from(error: ChatError) -> Failure {
        match error {
            ChatError::Retry { reason, after } => Failure::Retry { reason, after },
            ChatError::Permanent(reason) => Failure::Permanent(reason),
        }
    }
}

impl From<SourceError> for Failure {
    fn from(error: SourceError) -> Failure {
        match error {
            SourceError::Retry { reason, after } => Failure::Retry { reason, after },
            SourceError::Permanent(reason) => Failure::Permanent(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{backoff, later};
    use std::time::Duration;

    #[test]
    fn backoff_doubles_caps_and_honours_the_server() {
        let secs = |s| Duration::from_secs(s);
        assert_eq!(backoff(0, None), secs(2));
        assert_eq!(backoff(1, None), secs(4));
        assert_eq!(backoff(5, None), secs(64));
        assert_eq!(backoff(9, None), secs(600));
        assert_eq!(backoff(u32::MAX, None), secs(600));
        assert_eq!(backoff(0, Some(secs(30))), secs(30));
        assert_eq!(backoff(9, Some(secs(3600))), secs(3600));
        // The server's word, not the failure count, sets the wait...
        assert_eq!(backoff(5, Some(secs(1))), secs(1));
        // ...within bounds: never a spin, never longer than an hour.
        assert_eq!(backoff(0, Some(secs(0))), secs(1));
        assert_eq!(backoff(0, Some(Duration::MAX)), secs(3600));
    }

    #[test]
    fn later_never_overflows() {
        let now = chrono::Utc::now();
        assert_eq!(
            later(now, Duration::from_secs(2)),
            now + chrono::Duration::seconds(2)
        );
        assert_eq!(
            later(now, Duration::MAX),
            chrono::DateTime::<chrono::Utc>::MAX_UTC
        );
        let end = chrono::DateTime::<chrono::Utc>::MAX_UTC;
        assert_eq!(later(end, Duration::from_secs(1)), end);
    }
}
