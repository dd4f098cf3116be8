//! Google Play's read quota for reviews: about 200 `reviews.list`/`reviews.get` requests an hour
//! per app. earshot reads pages (up to 100 reviews each), never single reviews, and counts its
//! reads in a rolling hour so that a short `every` cannot spend the app's quota.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::net::wait;
use crate::net::Failure;

/// Reads allowed in any hour: Google's ~200, less a margin for the Play Console's own tools.
pub const READS_PER_HOUR: usize = 180;

#[derive(Default)]
pub struct ReadQuota {
    reads: Mutex<VecDeque<DateTime<Utc>>>,
}

impl ReadQuota {
    /// Takes one read at `now`, or says how long until one is free.
    pub fn spend(&self, now: DateTime<Utc>) -> Result<(), Failure> {
        let mut reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        let hour_ago = now - Duration::hours(1);
        while reads.front().is_some_and(|at| *at <= hour_ago) {
            reads.pop_front();
        }
        if reads.len() >= READS_PER_HOUR {
            let free = reads.front().map_or(now, |at| *at + Duration::hours(1));
            let after = wait::until(now, free);
            return Err(Failure::Retry {
                reason: format!(
                    "Google Play's review quota (about 200 reads an hour per app) is spent for now: {READS_PER_HOUR} pages read in the last hour; reading again in {}s",
                    after.as_secs()
                ),
                after: Some(after),
            });
        }
        reads.push_back(now);
        Ok(())
    }

    pub fn used(&self, now: DateTime<Utc>) -> usize {
        let reads = self.reads.lock().unwrap_or_else(|p| p.into_inner());
        let hour_ago = now - Duration::hours(1);
        reads.iter().filter(|at| **at > hour_ago).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_counted_in_a_rolling_hour() {
        let quota = ReadQuota::default();
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        for minute in 0..READS_PER_HOUR as i64 {
            quota.spend(start + Duration::seconds(minute * 10)).unwrap();
        }
        let refused = quota.spend(start + Duration::minutes(40)).unwrap_err();
        assert!(
            matches!(&refused, Failure::Retry { after: Some(after), .. } if after.as_secs() == 20 * 60),
            "{refused:?}"
        );
        assert_eq!(quota.used(start + Duration::minutes(40)), READS_PER_HOUR);
        quota.spend(start + Duration::minutes(60)).unwrap();
    }
}
