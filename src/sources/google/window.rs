//! Which reviews a poll relays. Both Google listings come newest first (by last change), so a
//! poll reads from the top: every review on the pages it reads goes to the app, which stores
//! the new ones and revises the known ones (an edit, a reply made outside earshot); the walk
//! goes deeper only while the pages still hold reviews changed since the last poll. Between
//! polls only a [`Mark`] is kept, in the source's cursor.
//!
//! The first poll relays what changed in the last [`FIRST_LOOKBACK`], not the business's whole
//! history; reviews older than that are relayed once they change (an edit wants an answer).
//!
//! Google Play only lists the last 7 days: a source that could not read for longer than that
//! (earshot down, a revoked key) may have missed reviews, and [`Mark::gap`] says so in the
//! source's health for [`GAP_REPORTED`], long enough to reach a daily digest.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::stats::human;

/// What the first poll relays: a week, the most Google Play shows, so a one-star review of
/// the last few days gets its answer.
pub const FIRST_LOOKBACK: Duration = Duration::days(7);
/// How far before the newest change seen the next poll still walks: Google lists a change a
/// little after its update time.
pub const OVERLAP: Duration = Duration::minutes(10);
/// How long a gap in the reading stays in the source's health.
pub const GAP_REPORTED: Duration = Duration::hours(48);

/// Where a review listing was left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The newest change read.
    pub since: DateTime<Utc>,
    /// Reviews last changed before this are not relayed: the first poll's lookback.
    pub floor: DateTime<Utc>,
    /// When a poll last read the listing.
    pub read_at: DateTime<Utc>,
    /// A stretch that could not be read, still being reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
}

/// Time the source could not read the listing, longer than the network keeps reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub report_until: DateTime<Utc>,
}

impl Gap {
    /// The line for the source's health.
    pub fn problem(&self, network: &str, kept: Duration) -> String {
        format!(
            "no reviews could be read from {} to {} ({}), longer than the {} {network} keeps them: reviews may have been missed; check them on {network} itself",
            self.from.format("%Y-%m-%d %H:%M UTC"),
            self.to.format("%Y-%m-%d %H:%M UTC"),
            human(self.to - self.from),
            human(kept),
        )
    }
}

/// One poll's walk.
#[derive(Debug)]
pub struct Window {
    floor: DateTime<Utc>,
    threshold: DateTime<Utc>,
    since: DateTime<Utc>,
    gap: Option<Gap>,
}

impl Window {
    /// The walk after `mark` (`None`: a first poll) at `now`. `kept` is how long the network
    /// lists reviews, where it forgets older ones (Google Play's week).
    pub fn new(mark: Option<&Mark>, now: DateTime<Utc>, kept: Option<Duration>) -> Window {
        let Some(mark) = mark else {
            let floor = now - FIRST_LOOKBACK;
            return Window {
                floor,
                threshold: floor,
                since: floor,
                gap: None,
            };
        };
        let unread = now - mark.read_at;
        let gap = match kept {
            Some(kept) if unread > kept => Some(Gap {
                from: mark.read_at,
                to: now,
                report_until: now + GAP_REPORTED,
            }),
            _ => mark.gap.clone().filter(|gap| gap.report_until > now),
        };
        Window {
            floor: mark.floor,
            threshold: mark.since - OVERLAP,
            since: mark.since,
            gap,
        }
    }

    /// Whether a review last changed at `changed` goes to the app (new, edited, or re-read
    /// for a reply), and notes it.
    pub fn relay(&mut self, changed: DateTime<Utc>) -> bool {
        if changed < self.floor {
            return false;
        }
        self.since = self.since.max(changed);
        true
    }

    /// Whether a page whose oldest review changed at `oldest` calls for the next page.
    pub fn deeper(&self, oldest: DateTime<Utc>) -> bool {
        oldest >= self.threshold
    }

    pub fn gap(&self) -> Option<&Gap> {
        self.gap.as_ref()
    }

    /// The mark this walk leaves, read at `now`.
    pub fn mark(self, now: DateTime<Utc>) -> Mark {
        Mark {
            since: self.since,
            floor: self.floor,
            read_at: now,
            gap: self.gap,
        }
    }
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
    fn a_first_walk_relays_the_last_week_and_later_walks_stop_at_the_last_change() {
        let now = at("2026-12-10T12:00:00Z");
        let mut first = Window::new(None, now, None);
        assert!(first.relay(at("2026-12-09T08:00:00Z")));
        assert!(
            !first.relay(at("2026-11-01T08:00:00Z")),
            "older than a week"
        );
        assert!(first.deeper(at("2026-12-04T08:00:00Z")));
        let mark = first.mark(now);
        assert_eq!(mark.since, at("2026-12-09T08:00:00Z"));

        let later = now + Duration::minutes(15);
        let mut next = Window::new(Some(&mark), later, None);
        assert!(
            next.deeper(at("2026-12-09T07:55:00Z")),
            "within the overlap"
        );
        assert!(!next.deeper(at("2026-12-09T07:45:00Z")));
        assert!(
            next.relay(at("2026-12-05T00:00:00Z")),
            "re-read above the floor"
        );
        assert!(!next.relay(at("2026-11-30T00:00:00Z")), "below the floor");
        assert!(next.relay(at("2026-12-10T12:10:00Z")));
        let mark = next.mark(later);
        assert_eq!(mark.since, at("2026-12-10T12:10:00Z"));
        assert_eq!(mark.read_at, later);
        assert_eq!(mark.gap, None);
    }

    #[test]
    fn a_gap_longer_than_the_network_keeps_is_reported_for_two_days() {
        let read = at("2026-12-01T12:00:00Z");
        let mark = Mark {
            since: read,
            floor: read - Duration::days(7),
            read_at: read,
            gap: None,
        };
        let week = Some(Duration::days(7));
        let soon = Window::new(Some(&mark), read + Duration::days(6), week);
        assert_eq!(soon.gap(), None);
        let late = read + Duration::days(9);
        let window = Window::new(Some(&mark), late, week);
        let gap = window.gap().cloned().unwrap();
        assert_eq!((gap.from, gap.to), (read, late));
        let text = gap.problem("Google Play", Duration::days(7));
        assert!(text.contains("reviews may have been missed"), "{text}");
        assert!(text.contains("(9 days 0 h)"), "{text}");
        let kept = window.mark(late);
        let next = Window::new(Some(&kept), late + Duration::hours(1), week);
        assert_eq!(next.gap(), Some(&gap), "still reported");
        let after = Window::new(Some(&kept), late + GAP_REPORTED + Duration::hours(1), week);
        assert_eq!(after.gap(), None, "reported long enough");
        assert_eq!(
            Window::new(Some(&mark), late, None).gap(),
            None,
            "no window, no gap"
        );
    }
}
