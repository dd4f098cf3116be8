//! The daily digest: what is still owed (unclaimed oldest first, claimed grouped by owner,
//! likely complaints first), yesterday's figures, and sources that look broken. The text is
//! composed by a pure function of the store's contents and `now`; [`Digester::tick`] queues it
//! exactly once per scheduled local day.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::domain::health::SourceHealth;
use crate::domain::lifecycle::ago;
use crate::domain::priority::complaints_first;
use crate::domain::routing::lane_channel;
use crate::domain::schedule::{local_instant, Daily};
use crate::domain::stats::{human, percentile};
use crate::domain::{Actor, HistoryEntry, ListFilter, State, Status, Tracked};
use crate::store::{Effect, Store, StoreError};

/// How many unclaimed mentions, and how many per owner, the digest names; the rest it counts.
pub const DIGEST_LINES: usize = 15;

/// What is still owed, as the digest shows it.
#[derive(Debug, Clone, Default)]
pub struct Owed {
    /// How many mentions nobody has claimed.
    pub unclaimed: usize,
    /// The most urgent of them, complaints first, then oldest first.
    pub unclaimed_first: Vec<Tracked>,
    /// Every claimed mention not answered yet.
    pub claimed: Vec<Tracked>,
}

/// The digest as of `now`, with "yesterday" the local day before `now`'s in `timezone`.
/// `recent` holds at least the mentions found or settled since yesterday's local midnight.
pub fn compose(
    owed: &Owed,
    recent: &[(Tracked, Vec<HistoryEntry>)],
    health: &[(String, SourceHealth)],
    timezone: Tz,
    now: DateTime<Utc>,
) -> String {
    let today = now.with_timezone(&timezone).date_naive();
    let mut lines = vec![format!("Daily digest for {}", today.format("%A %-d %B %Y"))];

    let mut claimed: BTreeMap<String, Vec<&Tracked>> = BTreeMap::new();
    for tracked in &owed.claimed {
        if let State::Claimed { by, .. } = &tracked.state {
            claimed.entry(by.to_string()).or_default().push(tracked);
        }
    }

    if owed.unclaimed == 0 && claimed.is_empty() {
        lines.push("All clear: nothing is owed an answer.".into());
    }
    if owed.unclaimed > 0 {
        lines.push(format!("Unclaimed ({}):", owed.unclaimed));
        for tracked in &owed.unclaimed_first {
            lines.push(format!("  {}", line(tracked, now)));
        }
        let more = owed.unclaimed.saturating_sub(owed.unclaimed_first.len());
        if more > 0 {
            lines.push(format!("  … and {more} more"));
        }
    }
    if !claimed.is_empty() {
        lines.push("Claimed, not answered yet:".into());
        for (owner, mut held) in claimed {
            held.sort_by_key(|tracked| tracked.received_at);
            complaints_first(&mut held, |tracked| &tracked.priority);
            lines.push(format!("  {owner} ({}):", held.len()));
            for tracked in held.iter().take(DIGEST_LINES) {
                lines.push(format!("    {}", line(tracked, now)));
            }
            if held.len() > DIGEST_LINES {
                lines.push(format!("    … and {} more", held.len() - DIGEST_LINES));
            }
        }
    }

    let midnight = |date| local_instant(&timezone, date, NaiveTime::MIN);
    let from = midnight(today - Duration::days(1));
    let to = midnight(today);
    let new = recent
        .iter()
        .filter(|(tracked, _)| tracked.received_at >= from && tracked.received_at < to)
        .count();
    let answered: Vec<Duration> = recent
        .iter()
        .filter_map(|(tracked, history)| {
            let answer = history.iter().find(|entry| entry.settles())?;
            (answer.at >= from && answer.at < to).then(|| answer.at - tracked.received_at)
        })
        .collect();
    lines.push(format!(
        "Yesterday: {new} new, {} answered{}.",
        answered.len(),
        percentile(&answered, 50)
            .map(|median| format!(", median time to answer {}", human(median)))
            .unwrap_or_default()
    ));

    let problems: Vec<String> = health
        .iter()
        .filter_map(|(name, health)| health.problem(name, now))
        .collect();
    if problems.is_empty() {
        lines.push("Sources: all working.".into());
    } else {
        lines.push("Sources that need a look:".into());
        for problem in problems {
            lines.push(format!("  {problem}"));
        }
    }
    lines.join("\n")
}

/// "⚠ #12 · X · @jane · waiting 3 days · first words… (likely complaint: refund)".
fn line(tracked: &Tracked, now: DateTime<Utc>) -> String {
    let mention = &tracked.mention;
    let waiting = ago(tracked.received_at, now).replace(" ago", "");
    let mut text = format!(
        "{}#{} · {} · {} · waiting {waiting} · {}",
        if tracked.priority.complaint {
            "⚠ "
        } else {
            ""
        },
        tracked.number,
        mention.network,
        mention.author.display(),
        crate::domain::review::excerpt(mention, 50)
    );
    if let Some(flag) = tracked.priority.flag() {
        text.push_str(&format!(" ({flag})"));
    }
    text
}

/// Queues the digest on its schedule.
pub struct Digester {
    store: Store,
    schedule: Daily,
}

impl Digester {
    pub fn new(store: Store, schedule: Daily) -> Digester {
        Digester { store, schedule }
    }

    /// The digest text as of `now`, from the store.
    pub fn text(store: &Store, timezone: Tz, now: DateTime<Utc>) -> Result<String, StoreError> {
        // Yesterday's local midnight is at most two days back, whatever the timezone.
        let since = now - Duration::days(2);
        let (unclaimed, first) = store.most_urgent(Status::Open, DIGEST_LINES)?;
        let owed = Owed {
            unclaimed,
            unclaimed_first: first,
            claimed: store.list(ListFilter::Claimed, Actor::System)?,
        };
        let mut text = compose(
            &owed,
            &store.received_or_settled_since(since)?,
            &store.all_source_health()?,
            timezone,
            now,
        );
        // Effects a chat refused or keeps failing: the team hears of them here too.
        let delivery =
            crate::status::Backlog::read(store, Some(crate::status::DIGEST_SCAN))?.problems();
        if !delivery.is_empty() {
            text.push_str("\nDelivery that needs a look (`earshot status` has the details):");
            for line in delivery {
                text.push_str(&format!("\n  {line}"));
            }
        }
        Ok(text)
    }

    /// The digest of the mentions that live in `channel` on `chat` (`None`: the chat's own
    /// channel), as of `now`: what is owed there, and yesterday's figures there.
    pub fn text_in(
        store: &Store,
        timezone: Tz,
        now: DateTime<Utc>,
        chat: &str,
        channel: Option<&str>,
    ) -> Result<String, StoreError> {
        let here = |tracked: &Tracked| tracked.place.channel(chat) == channel;
        let since = now - Duration::days(2);
        let (unclaimed, first) = store.most_urgent_in(Status::Open, DIGEST_LINES, chat, channel)?;
        let mut claimed = store.list(ListFilter::Claimed, Actor::System)?;
        claimed.retain(|tracked| here(tracked));
        let owed = Owed {
            unclaimed,
            unclaimed_first: first,
            claimed,
        };
        let mut recent = store.received_or_settled_since(since)?;
        recent.retain(|(tracked, _)| here(tracked));
        Ok(compose(
            &owed,
            &recent,
            &store.all_source_health()?,
            timezone,
            now,
        ))
    }

    /// The channels the digest goes to on `chat`: its own, every route's, and any that still
    /// holds a mention owed an answer (a route since removed), each once.
    pub fn channels(
        store: &Store,
        chat: &str,
        owed_lanes: &BTreeSet<String>,
    ) -> Vec<Option<String>> {
        let mut channels: Vec<Option<String>> = vec![None];
        let owed = owed_lanes
            .iter()
            .filter_map(|lane| lane_channel(lane, chat).map(str::to_string));
        for channel in store.routes().channels(chat).into_iter().chain(owed) {
            if !channels.contains(&Some(channel.clone())) {
                channels.push(Some(channel));
            }
        }
        channels
    }

    /// Queues today's digest for every chat if it is due at `now` and not sent yet: one per
    /// channel mentions live in, each with that channel's mentions (a channel with nothing
    /// owed gets "all clear", on the scheduled days only, as the whole digest does). Returns
    /// whether it queued one.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(date) = self.schedule.due(now, self.store.last_sent("digest")?) else {
            return Ok(false);
        };
        let timezone = self.schedule.timezone;
        let owed_lanes = self.store.owed_lanes()?;
        // No routes and nothing routed still owed: each chat's channel holds every mention.
        let whole = self.store.routes().is_empty() && owed_lanes.is_empty();
        let mut effects = Vec::new();
        for chat in self.store.chats() {
            for channel in Digester::channels(&self.store, chat, &owed_lanes) {
                let text = if whole {
                    Digester::text(&self.store, timezone, now)?
                } else {
                    Digester::text_in(&self.store, timezone, now, chat, channel.as_deref())?
                };
                effects.push(Effect::Digest {
                    chat: chat.clone(),
                    text,
                    channel,
                });
            }
        }
        self.store.queue_once("digest", date, effects, now).await
    }

    /// When to look again.
    pub fn next_at(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
        Ok(self.schedule.next_at(now, self.store.last_sent("digest")?))
    }
}
