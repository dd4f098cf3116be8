//! Storm mode in the store: the [`Weather`] lives under one meta key and changes in the same
//! transaction as the effects it queues (held cards, the summary card, the one alert).

use super::engine::{Scan, Tree, Tx, TxResult};
use super::outbox::{enqueue, Effect};
use super::{decode, encode, keys, OutboxId, Result, Store};
use crate::domain::routing::lane_channel;
use crate::domain::storm::{Change, StormPolicy, Weather};
use crate::domain::Tracked;
use chrono::{DateTime, Utc};

const WEATHER_KEY: &[u8] = b"storm_weather";

/// Where a lane's weather is kept: unrouted mentions under the key storm mode always used,
/// each route's lane (its channels, see `Placement::lane`) under its own.
fn weather_key(lane: &str) -> Vec<u8> {
    let mut key = WEATHER_KEY.to_vec();
    if !lane.is_empty() {
        key.push(b':');
        key.extend_from_slice(lane.as_bytes());
    }
    key
}

/// The weather of each lane an ingest touched, read on first use inside its transaction:
/// storm mode counts arrivals per channel, so a flood in one route's channel leaves the
/// others their cards.
#[derive(Debug, Default)]
pub(super) struct Skies {
    lanes: std::collections::BTreeMap<String, Weather>,
    /// The lanes whose summary card needs a new version.
    held: std::collections::BTreeSet<String>,
}

/// Storm mode's settings: the policy, and the command name for the hints on the summary card.
#[derive(Debug, Clone)]
pub struct StormMode {
    pub policy: StormPolicy,
    pub command: String,
}

impl Store {
    /// Turns storm mode on with `mode` (it is off in a store until this is called).
    pub fn with_storm(mut self, mode: StormMode) -> Store {
        self.storm = Some(std::sync::Arc::new(mode));
        self
    }

    /// The storm state of unrouted mentions, as stored.
    pub fn weather(&self) -> Result<Weather> {
        self.weather_in("")
    }

    /// The storm state of `lane` (see `Placement::lane`), as stored.
    pub fn weather_in(&self, lane: &str) -> Result<Weather> {
        match self.engine.get(Tree::Meta, &weather_key(lane))? {
            Some(bytes) => decode("storm weather", &bytes),
            None => Ok(Weather::default()),
        }
    }

    /// Undelivered cards in the busiest chat (0 when storm mode is off).
    pub(super) fn card_backlog(&self) -> Result<usize> {
        if self.storm.is_none() {
            return Ok(0);
        }
        let mut per_chat = std::collections::HashMap::<String, usize>::new();
        for (_, entry) in self.outbox()? {
            if let Effect::Post { chat, .. } = entry.effect {
                *per_chat.entry(chat).or_default() += 1;
            }
        }
        Ok(per_chat.into_values().max().unwrap_or(0))
    }

    /// Whether a storm holds back `tracked`'s card, arriving at `now`; queues the alert when
    /// one starts and the summary's last version when one ends. `held` becomes true when the
    /// summary card needs a new version.
    /// An imported mention (`import`: found on its source's first poll, or already old when
    /// found) does not count as an arrival; it is still held when a storm is on.
    #[expect(
        clippy::too_many_arguments,
        reason = "one ingest transaction's trees and state, all needed here"
    )]
    pub(super) fn storm_arrival(
        &self,
        skies: &mut Option<Skies>,
        tracked: &Tracked,
        import: bool,
        backlog: usize,
        tx: &mut dyn Tx,
        held: &mut bool,
        now: DateTime<Utc>,
    ) -> TxResult<bool> {
        let (Some(mode), Some(skies)) = (&self.storm, skies.as_mut()) else {
            return Ok(false);
        };
        let lane = tracked.place.lane();
        if !skies.lanes.contains_key(&lane) {
            let stored = match tx.get(Tree::Meta, &weather_key(&lane))? {
                Some(bytes) => decode("storm weather", &bytes)?,
                None => Weather::default(),
            };
            skies.lanes.insert(lane.clone(), stored);
        }
        let Some(weather) = skies.lanes.get_mut(&lane) else {
            return Ok(false);
        };
        let made = if import {
            Vec::new()
        } else {
            vec![tracked.mention.created_at]
        };
        let change = weather.observe_made(&mode.policy, &made, backlog, now);
        self.storm_changed(mode, &change, weather, &lane, tx, now)?;
        let Some(storm) = weather.storm.as_mut() else {
            return Ok(false);
        };
        let mention = &tracked.mention;
        storm.hold(
            tracked.number,
            &tracked.priority,
            mention.direct,
            format!(
                "{} · {} · {}",
                mention.network,
                mention.author.display(),
                mention.excerpt(60)
            ),
        );
        *held = true;
        skies.held.insert(lane);
        Ok(true)
    }

    fn storm_changed(
        &self,
        mode: &StormMode,
        change: &Change,
        weather: &Weather,
        lane: &str,
        tx: &mut dyn Tx,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        match change {
            Change::Started => {
                if let Some(storm) = &weather.storm {
                    let text = storm.alert(&mode.policy, &mode.command);
                    for chat in &self.chats {
                        let effect = Effect::Alert {
                            chat: chat.clone(),
                            text: text.clone(),
                            channel: lane_channel(lane, chat).map(str::to_string),
                        };
                        enqueue(tx, effect, now)?;
                    }
                }
            }
            Change::Ended(storm) if storm.held > 0 => {
                let text = storm.ended(now, &mode.command);
                self.queue_summary(storm.id, &text, lane, tx, now)?;
            }
            Change::Ended(_) | Change::Calm | Change::Continues => {}
        }
        Ok(())
    }

    /// The summary card's new version `text` for storm `storm` of `lane`, in every chat.
    fn queue_summary(
        &self,
        storm: u64,
        text: &str,
        lane: &str,
        tx: &mut dyn Tx,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        for chat in &self.chats {
            let effect = Effect::Summary {
                chat: chat.clone(),
                storm,
                text: text.to_string(),
                channel: lane_channel(lane, chat).map(str::to_string),
                lane: lane.to_string(),
            };
            enqueue(tx, effect, now)?;
        }
        Ok(())
    }

    /// Whether `made` is already old when found at `now`: older than the storm window.
    pub(super) fn old_when_found(&self, made: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.storm
            .as_ref()
            .is_some_and(|mode| made <= now - mode.policy.window)
    }

    /// The effects for an import of `numbers` from `source`: one card each when they are few;
    /// when they are as many as a storm, one notice that pings nobody instead of a flood.
    pub(super) fn imported(
        &self,
        source: &str,
        numbers: &[u64],
        tx: &mut dyn Tx,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        let (Some(mode), Some(first), Some(last)) = (&self.storm, numbers.first(), numbers.last())
        else {
            return Ok(());
        };
        if numbers.len() < mode.policy.threshold.max(1) {
            for &number in numbers {
                for chat in &self.chats {
                    let effect = Effect::Post {
                        chat: chat.clone(),
                        number,
                    };
                    enqueue(tx, effect, now)?;
                }
            }
            return Ok(());
        }
        let text = import_notice(source, numbers.len(), *first, *last, &mode.command);
        for chat in &self.chats {
            let effect = Effect::Notice {
                chat: chat.clone(),
                text: text.clone(),
            };
            enqueue(tx, effect, now)?;
        }
        Ok(())
    }

    /// The lanes' weather for one transaction, if storm mode is on (each lane is read from
    /// the meta tree when an arrival first needs it).
    pub(super) fn read_weather(&self) -> Option<Skies> {
        self.storm.as_ref().map(|_| Skies::default())
    }

    /// Writes the weather back and, when mentions were held, queues the summary card's new
    /// version for every chat.
    pub(super) fn write_weather(
        &self,
        skies: &Option<Skies>,
        held: bool,
        tx: &mut dyn Tx,
        now: DateTime<Utc>,
    ) -> TxResult<()> {
        let (Some(mode), Some(skies)) = (&self.storm, skies) else {
            return Ok(());
        };
        for (lane, weather) in &skies.lanes {
            tx.insert(Tree::Meta, &weather_key(lane), &encode(weather))?;
            if let (true, true, Some(storm)) = (held, skies.held.contains(lane), &weather.storm) {
                let text = storm.summary(&mode.command);
                self.queue_summary(storm.id, &text, lane, tx, now)?;
            }
        }
        Ok(())
    }

    /// Checks the clock alone: ends a storm that has calmed down, queueing the summary card's
    /// last version in the same transaction. Returns whether one ended.
    pub async fn storm_tick(&self, now: DateTime<Utc>) -> Result<bool> {
        let Some(mode) = self.storm.clone() else {
            return Ok(false);
        };
        let backlog = self.card_backlog()?;
        let mut ended = false;
        // Every lane that has weather: the unrouted one, and each route's that ever had arrivals.
        let keys: Vec<Vec<u8>> = self
            .engine
            .scan(Tree::Meta, Scan::prefix(WEATHER_KEY).keys())
            .map(|entry| entry.map(|(key, _)| key))
            .collect::<Result<_>>()?;
        for key in keys {
            let lane = String::from_utf8_lossy(&key[WEATHER_KEY.len()..])
                .trim_start_matches(':')
                .to_string();
            ended |= self.engine.transaction(&[Tree::Meta, Tree::Outbox], |tx| {
                let Some(bytes) = tx.get(Tree::Meta, &key)? else {
                    return Ok(false);
                };
                let mut weather: Weather = decode("storm weather", &bytes)?;
                if !weather.stormy() {
                    return Ok(false);
                }
                let change = weather.observe(&mode.policy, 0, backlog, now);
                self.storm_changed(&mode, &change, &weather, &lane, tx, now)?;
                tx.insert(Tree::Meta, &key, &encode(&weather))?;
                Ok(matches!(change, Change::Ended(_)))
            })?;
        }
        if ended {
            self.flush().await?;
        }
        Ok(ended)
    }

    /// The chat's id for storm `storm`'s summary card, once it is posted.
    pub fn summary_message(&self, chat: &str, storm: u64) -> Result<Option<String>> {
        Ok(self
            .engine
            .get(Tree::Messages, &keys::storm_message(chat, storm))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// A summary card was posted: remember its message id and drop the entry, durably.
    pub async fn summary_posted(
        &self,
        id: OutboxId,
        chat: &str,
        storm: u64,
        message: &str,
    ) -> Result<()> {
        self.engine
            .transaction(&[Tree::Outbox, Tree::Messages], |tx| {
                tx.insert(
                    Tree::Messages,
                    &keys::storm_message(chat, storm),
                    message.as_bytes(),
                )?;
                tx.remove(Tree::Outbox, &keys::number(id.0))
            })?;
        self.flush().await
    }
}

/// "Imported 120 earlier mentions from mastodon (#1–#120); `/mentions list` shows them."
fn import_notice(source: &str, count: usize, first: u64, last: u64, command: &str) -> String {
    let span = if first == last {
        format!("#{first}")
    } else {
        format!("#{first}–#{last}")
    };
    format!(
        "📥 Imported {count} earlier mentions from {source} ({span}): posts from before earshot watched it, or already old when found, so they get no card of their own. `{command} list` shows them."
    )
}
