//! YouTube's daily quota, kept by earshot itself: the API announces no remaining units, it only
//! refuses with `quotaExceeded` once a project's day is spent, and then nothing works (answers
//! included) until midnight Pacific time. So earshot counts what it spends per bucket, lets
//! polls use only their share, and stops everything it may stop before YouTube has to.
//!
//! Two buckets, as Google documents them: about 10,000 units a day for every endpoint but
//! search (a list call costs 1, an insert 50), and `search.list` its own ~100 calls a day.

use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Los_Angeles;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::net::{wait, Failure, Purpose};

/// Google's default allocation per project and day.
pub const DAILY_UNITS: u32 = 10_000;
/// `search.list` calls per day, in their own bucket.
pub const DAILY_SEARCHES: u32 = 100;
/// Polls (and answered-detection reads) may spend this share of the units; the rest is for
/// answers, 50 units each.
pub const POLL_SHARE_PERCENT: u32 = 50;
/// The share of the search bucket earshot plans to use: a few spare for a retry.
pub const PLANNED_SEARCH_PERCENT: u32 = 90;
/// What a list call costs.
pub const LIST_COST: u32 = 1;
/// What comments.insert and commentThreads.insert cost.
pub const INSERT_COST: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Units,
    Search,
}

/// One Pacific day's spending. Kept in the source's cursor (`@quota`) after every poll, so a
/// restart does not hand the day's quota out a second time.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Day {
    /// The Pacific date these counts are for.
    date: Option<NaiveDate>,
    poll_units: u32,
    answer_units: u32,
    searches: u32,
    /// YouTube said `quotaExceeded` for this bucket today.
    units_refused: bool,
    searches_refused: bool,
}

#[derive(Debug)]
pub struct Quota {
    /// The project's allocation: units a day, and searches a day.
    units: u32,
    searches: u32,
    day: Mutex<Day>,
}

impl Default for Quota {
    fn default() -> Quota {
        Quota::new(DAILY_UNITS, DAILY_SEARCHES)
    }
}

/// The Pacific date at `now`.
fn pacific_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Los_Angeles).date_naive()
}

/// The next midnight in Pacific time after `now`, in UTC (DST-aware: 07:00 or 08:00 UTC).
pub fn next_reset(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = pacific_date(now)
        .succ_opt()
        .unwrap_or_else(|| pacific_date(now));
    let midnight = tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default();
    Los_Angeles
        .from_local_datetime(&midnight)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| now + Duration::hours(24))
}

impl Quota {
    /// A project whose allocation Google raised (or a test's small one).
    pub fn new(units: u32, searches: u32) -> Quota {
        Quota {
            units,
            searches,
            day: Mutex::new(Day::default()),
        }
    }

    fn today(&self, now: DateTime<Utc>) -> std::sync::MutexGuard<'_, Day> {
        let mut day = self.day.lock().unwrap_or_else(|p| p.into_inner());
        let date = pacific_date(now);
        if day.date != Some(date) {
            *day = Day {
                date: Some(date),
                ..Day::default()
            };
        }
        day
    }

    /// Takes `cost` from `bucket` for `purpose`, or says why not and until when.
    pub fn spend(
        &self,
        bucket: Bucket,
        purpose: Purpose,
        cost: u32,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let mut day = self.today(now);
        let refused = match bucket {
            Bucket::Units => day.units_refused,
            Bucket::Search => day.searches_refused,
        };
        if refused {
            return Err(spent(
                now,
                "YouTube answered quotaExceeded: the project's daily quota is spent",
            ));
        }
        match (bucket, purpose) {
            (Bucket::Search, _) => {
                if day.searches + cost > self.searches {
                    return Err(spent(
                        now,
                        &format!("today's {} YouTube searches are used", self.searches),
                    ));
                }
                day.searches += cost;
            }
            (Bucket::Units, Purpose::Poll) => {
                let share = self.units * POLL_SHARE_PERCENT / 100;
                if day.poll_units + cost > share {
                    return Err(spent(
                        now,
                        &format!("polling has used its share of today's YouTube quota ({share} of {} units; the rest is kept for answers)", self.units),
                    ));
                }
                day.poll_units += cost;
            }
            (Bucket::Units, Purpose::Answer) => {
                if day.poll_units + day.answer_units + cost > self.units {
                    return Err(spent(
                        now,
                        &format!("today's {} YouTube quota units are used", self.units),
                    ));
                }
                day.answer_units += cost;
            }
        }
        Ok(())
    }

    /// YouTube refused with `quotaExceeded`: nothing more from `bucket` until the reset.
    pub fn refused(&self, bucket: Bucket, now: DateTime<Utc>) -> Failure {
        let mut day = self.today(now);
        match bucket {
            Bucket::Units => day.units_refused = true,
            Bucket::Search => day.searches_refused = true,
        }
        spent(
            now,
            "YouTube answered quotaExceeded: the project's daily quota is spent",
        )
    }

    /// Today's spending, to keep with the cursor.
    pub fn snapshot(&self, now: DateTime<Utc>) -> Value {
        serde_json::to_value(&*self.today(now)).unwrap_or(Value::Null)
    }

    /// Takes over what was kept before a restart when it is for today: the larger of each
    /// count (answers may have spent since), and a refusal stays a refusal. Anything else (an
    /// earlier day, an unreadable note) is yesterday's news and ignored.
    pub fn restore(&self, kept: &Value, now: DateTime<Utc>) {
        let Ok(kept) = serde_json::from_value::<Day>(kept.clone()) else {
            return;
        };
        let mut day = self.today(now);
        if kept.date != day.date {
            return;
        }
        day.poll_units = day.poll_units.max(kept.poll_units);
        day.answer_units = day.answer_units.max(kept.answer_units);
        day.searches = day.searches.max(kept.searches);
        day.units_refused |= kept.units_refused;
        day.searches_refused |= kept.searches_refused;
    }

    /// The project's allocation: units a day, and searches a day.
    pub fn allocation(&self) -> (u32, u32) {
        (self.units, self.searches)
    }

    /// Units spent today by polls and by answers, and searches.
    pub fn used(&self, now: DateTime<Utc>) -> (u32, u32, u32) {
        let day = self.today(now);
        (day.poll_units, day.answer_units, day.searches)
    }
}

/// The failure for a spent bucket: retried after the reset (the outbox waits at most an hour a
/// time and asks again; polls fail until then, which the digest's source health shows).
fn spent(now: DateTime<Utc>, why: &str) -> Failure {
    let reset = next_reset(now);
    Failure::Retry {
        reason: format!(
            "{why}; earshot stops YouTube polling until the quota resets at midnight Pacific ({} UTC), and queued answers wait in the outbox",
            reset.format("%Y-%m-%d %H:%M")
        ),
        after: Some(wait::until(now, reset)),
    }
}

/// How far apart one search watch's searches must be so that `watches` of them fit a bucket of
/// `daily` searches.
pub fn search_spacing(watches: usize, daily: u32) -> std::time::Duration {
    let watches = u64::try_from(watches.max(1)).unwrap_or(u64::MAX);
    let per_day = u64::from((daily * PLANNED_SEARCH_PERCENT / 100).max(1));
    std::time::Duration::from_secs((86_400u64.saturating_mul(watches)).div_ceil(per_day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_day_resets_at_midnight_pacific_in_winter_and_summer() {
        assert_eq!(
            next_reset(at("2026-12-02T03:00:00Z")),
            at("2026-12-02T08:00:00Z")
        );
        assert_eq!(
            next_reset(at("2026-12-02T08:00:00Z")),
            at("2026-12-03T08:00:00Z")
        );
        assert_eq!(
            next_reset(at("2026-07-01T12:00:00Z")),
            at("2026-07-02T07:00:00Z")
        );
    }

    #[test]
    fn polls_keep_to_their_share_answers_get_the_rest() {
        let quota = Quota::default();
        let now = at("2026-12-02T10:00:00Z");
        for _ in 0..5_000 {
            quota
                .spend(Bucket::Units, Purpose::Poll, LIST_COST, now)
                .unwrap();
        }
        let refused = quota
            .spend(Bucket::Units, Purpose::Poll, LIST_COST, now)
            .unwrap_err();
        assert!(refused.reason().contains("share"), "{refused}");
        for _ in 0..100 {
            quota
                .spend(Bucket::Units, Purpose::Answer, INSERT_COST, now)
                .unwrap();
        }
        assert!(quota
            .spend(Bucket::Units, Purpose::Answer, INSERT_COST, now)
            .is_err());
        let next_day = at("2026-12-03T08:00:01Z");
        assert!(quota
            .spend(Bucket::Units, Purpose::Poll, LIST_COST, next_day)
            .is_ok());
        assert_eq!(quota.used(next_day), (1, 0, 0));
    }

    #[test]
    fn what_was_spent_before_a_restart_counts_today_and_only_today() {
        let now = at("2026-12-02T10:00:00Z");
        let before = Quota::new(100, 10);
        for _ in 0..40 {
            before.spend(Bucket::Units, Purpose::Poll, 1, now).unwrap();
        }
        before.spend(Bucket::Search, Purpose::Poll, 1, now).unwrap();
        let kept = before.snapshot(now);

        let after = Quota::new(100, 10);
        after
            .spend(Bucket::Units, Purpose::Answer, 50, now)
            .unwrap();
        after.restore(&kept, now);
        assert_eq!(after.used(now), (40, 50, 1));
        for _ in 0..10 {
            after.spend(Bucket::Units, Purpose::Poll, 1, now).unwrap();
        }
        assert!(after.spend(Bucket::Units, Purpose::Poll, 1, now).is_err());

        let tomorrow = at("2026-12-03T09:00:00Z");
        let next_day = Quota::new(100, 10);
        next_day.restore(&kept, tomorrow);
        assert_eq!(
            next_day.used(tomorrow),
            (0, 0, 0),
            "yesterday's spending is gone"
        );
        next_day.restore(&serde_json::json!("garbage"), tomorrow);
        assert_eq!(next_day.used(tomorrow), (0, 0, 0));
    }

    #[test]
    fn a_refusal_holds_until_the_reset() {
        let quota = Quota::default();
        let now = at("2026-12-02T10:00:00Z");
        let failure = quota.refused(Bucket::Units, now);
        assert!(matches!(failure, Failure::Retry { after: Some(_), .. }));
        assert!(quota
            .spend(Bucket::Units, Purpose::Answer, INSERT_COST, now)
            .is_err());
        assert!(quota.spend(Bucket::Search, Purpose::Poll, 1, now).is_ok());
        assert!(quota
            .spend(Bucket::Units, Purpose::Poll, 1, at("2026-12-03T08:00:00Z"))
            .is_ok());
    }

    #[test]
    fn searches_are_spaced_to_fit_the_bucket() {
        assert_eq!(search_spacing(1, 100).as_secs(), 960);
        assert_eq!(search_spacing(2, 100).as_secs(), 1920);
        assert_eq!(search_spacing(0, 100).as_secs(), 960);
        assert_eq!(search_spacing(1, 300).as_secs(), 320, "a raised bucket");
        assert_eq!(
            search_spacing(1, 1).as_secs(),
            86_400,
            "never more than the bucket"
        );
    }
}
