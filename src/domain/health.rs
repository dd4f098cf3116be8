//! Is a source still working? Each poll's outcome is recorded; a source is worth a line in the
//! digest when its last poll failed, or when it has found nothing for far longer than usual.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A source is "quiet" after this many times its usual gap between finds...
const QUIET_FACTOR: i32 = 4;
/// ...and never before a day: a slow source with a few posts a day is not broken at night.
const QUIET_AT_LEAST: Duration = Duration::days(1);
/// Finds needed before the usual gap means anything.
const FINDS_TO_LEARN: u32 = 3;

/// What a source's webhook pushed is recorded under `<source>#webhook`, apart from its polls:
/// a poll that works must not hide a notification that could not be read, which stays
/// reported until a later one is read. Source names are `[A-Za-z0-9_-]`, so this is no
/// source's own name.
pub fn pushed(source: &str) -> String {
    format!("{source}{PUSHED}")
}

const PUSHED: &str = "#webhook";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceHealth {
    pub last_ok: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Failed polls since the last one that worked.
    pub failures: u32,
    /// The last poll that found new mentions.
    pub last_found: Option<DateTime<Utc>>,
    pub finds: u32,
    /// The running mean of the time between polls that found something, in seconds.
    pub usual_gap_secs: i64,
}

impl SourceHealth {
    /// The record after a poll at `now` that worked and found `new` mentions, or failed.
    pub fn after_poll(&self, outcome: Result<usize, String>, now: DateTime<Utc>) -> SourceHealth {
        let mut next = self.clone();
        match outcome {
            Ok(new) => {
                next.last_ok = Some(now);
                next.failures = 0;
                if new > 0 {
                    if let Some(last) = self.last_found {
                        let gap = (now - last).num_seconds().max(0);
                        let seen = i64::from(self.finds.max(1));
                        next.usual_gap_secs = (self.usual_gap_secs * (seen - 1) + gap) / seen;
                    }
                    next.finds = self.finds.saturating_add(1);
                    next.last_found = Some(now);
                }
            }
            Err(error) => {
                next.last_failure = Some(now);
                next.last_error = Some(error);
                next.failures = self.failures.saturating_add(1);
            }
        }
        next
    }

    /// What is wrong with the source named `name` at `now`, if anything.
    pub fn problem(&self, name: &str, now: DateTime<Utc>) -> Option<String> {
        if self.failures > 0 {
            let since = self
                .last_failure
                .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string());
            let (name, tries) = match name.strip_suffix(PUSHED) {
                Some(source) => (format!("{source}'s webhook"), "notification(s)"),
                None => (name.to_string(), "poll(s)"),
            };
            return Some(format!(
                "{name} is failing ({} {tries} in a row, last at {}): {}",
                self.failures,
                since.unwrap_or_default(),
                self.last_error.as_deref().unwrap_or("unknown error")
            ));
        }
        let last = self.last_found?;
        if self.finds < FINDS_TO_LEARN {
            return None;
        }
        let usual = Duration::seconds(self.usual_gap_secs);
        let quiet = now - last;
        (quiet > (usual * QUIET_FACTOR).max(QUIET_AT_LEAST)).then(|| {
            format!(
                "{name} has found nothing for {} (usually something every {})",
                super::stats::human(quiet),
                super::stats::human(usual)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_and_quiet_sources_are_reported_healthy_ones_are_not() {
        let t0 = DateTime::parse_from_rfc3339("2026-03-23T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut health = SourceHealth::default();
        for hour in 0..4 {
            health = health.after_poll(Ok(2), t0 + Duration::hours(hour));
        }
        assert_eq!(health.usual_gap_secs, 3600);
        assert_eq!(health.problem("x", t0 + Duration::hours(20)), None);
        assert_eq!(
            health
                .problem("x", t0 + Duration::hours(3) + Duration::days(2))
                .as_deref(),
            Some("x has found nothing for 2 days 0 h (usually something every 1 h)")
        );
        let failing = health.after_poll(Err("503 from api".into()), t0 + Duration::hours(5));
        assert!(failing
            .problem("x", t0 + Duration::hours(5))
            .unwrap()
            .contains("x is failing (1 poll(s) in a row"));
        let recovered = failing.after_poll(Ok(0), t0 + Duration::hours(6));
        assert_eq!(recovered.problem("x", t0 + Duration::hours(6)), None);
        let pushed = SourceHealth::default().after_poll(Err("token revoked".into()), t0);
        assert_eq!(
            pushed.problem(&super::pushed("x"), t0).as_deref(),
            Some("x's webhook is failing (1 notification(s) in a row, last at 2026-03-23 08:00 UTC): token revoked")
        );
    }
}
