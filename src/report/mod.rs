//! Figures on how well the team answers: `/mentions stats` (see [`crate::desk`]) and the weekly
//! report, queued once on its day with the figures its chart is drawn from.

pub mod chart;

use chrono::{DateTime, Duration, Utc};

use crate::domain::schedule::Daily;
use crate::domain::stats;
use crate::store::{Effect, Store, StoreError};

/// Days the weekly report covers.
const REPORT_DAYS: u32 = 7;

pub struct Reporter {
    store: Store,
    schedule: Daily,
}

impl Reporter {
    pub fn new(store: Store, schedule: Daily) -> Reporter {
        Reporter { store, schedule }
    }

    /// Queues the weekly report for every chat if it is due at `now` and not sent yet.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let Some(date) = self.schedule.due(now, self.store.last_sent("report")?) else {
            return Ok(false);
        };
        let from = now - Duration::days(i64::from(REPORT_DAYS));
        // The chart's first local midnight can be up to a day before `from`.
        let mentions = self.store.received_since(from - Duration::days(1))?;
        let text = stats::compute(&mentions, from, now).text("Weekly report");
        // The chart covers the seven full local days before the report's day.
        let days = stats::per_day(
            &mentions,
            self.schedule.timezone,
            date - Duration::days(1),
            REPORT_DAYS,
        );
        let effects = self
            .store
            .chats()
            .iter()
            .map(|chat| Effect::Report {
                chat: chat.clone(),
                text: text.clone(),
                days: days.clone(),
            })
            .collect();
        self.store.queue_once("report", date, effects, now).await
    }
}
