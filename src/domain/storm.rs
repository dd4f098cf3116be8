//! Storm mode: when mentions arrive faster than a channel can take them, one summary card per
//! chat stands in for the flood until it calms. Whether a storm starts, goes on or ends is a pure
//! function of the recent arrivals, the backlog of undelivered cards and `now`
//! ([`Weather::observe`]); the store keeps the [`Weather`] and changes it in the same transaction
//! as the effects it queues.
//!
//! Hysteresis, so it does not flap: a storm starts at `threshold` arrivals within `window` (or a
//! backlog of `backlog` cards), and ends only once the arrivals within `window` are below half the
//! threshold, the backlog below half its limit, and neither start condition has held for `calm`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::priority::Priority;
use super::stats::human;

/// How many mentions a summary card names.
pub const HIGHLIGHTS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StormPolicy {
    /// Arrivals within `window` that start a storm.
    pub threshold: usize,
    pub window: Duration,
    /// Undelivered cards (per chat) that start a storm.
    pub backlog: usize,
    /// How long the start conditions must have been off before a storm ends.
    pub calm: Duration,
    /// Who the one alert per storm pings (empty: `@channel`).
    pub alert: Vec<String>,
}

impl Default for StormPolicy {
    fn default() -> StormPolicy {
        StormPolicy {
            threshold: 20,
            window: Duration::minutes(5),
            backlog: 50,
            calm: Duration::minutes(15),
            alert: Vec::new(),
        }
    }
}

impl StormPolicy {
    fn hot(&self, arrivals: usize, backlog: usize) -> bool {
        arrivals >= self.threshold || backlog >= self.backlog
    }

    /// Below the start levels by half: the lower edge of the hysteresis band.
    fn cool(&self, arrivals: usize, backlog: usize) -> bool {
        arrivals * 2 < self.threshold && backlog * 2 < self.backlog
    }
}

/// What the store keeps between arrivals: the latest arrival times and the storm, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weather {
    /// The latest arrival times, newest last; at most `threshold` of them are needed.
    pub arrivals: Vec<DateTime<Utc>>,
    pub storm: Option<Storm>,
    /// How many storms there have been: the next one's id.
    pub storms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storm {
    pub id: u64,
    pub started_at: DateTime<Utc>,
    /// The last time a start condition held.
    pub last_hot: DateTime<Utc>,
    pub last_arrival: DateTime<Utc>,
    /// The mentions that arrived during the storm: numbered and listed, but no card of their own.
    pub held: u64,
    pub first: Option<u64>,
    pub last: Option<u64>,
    /// The most urgent of them, most urgent first.
    pub top: Vec<Highlight>,
    /// Arrivals within the window when it started, for the alert.
    pub started_with: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Highlight {
    pub number: u64,
    pub score: u32,
    pub complaint: bool,
    /// Addressed to the brand (a mention, a reply).
    pub direct: bool,
    /// "X · @jane · first words…"
    pub line: String,
}

impl Highlight {
    fn rank(&self) -> (bool, u32, bool, std::cmp::Reverse<u64>) {
        (
            self.complaint,
            self.score,
            self.direct,
            std::cmp::Reverse(self.number),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// No storm, none starting.
    Calm,
    Started,
    Continues,
    /// The storm ended; here is how it ended.
    Ended(Storm),
}

impl Weather {
    /// Records `arriving` new mentions at `now` with `backlog` cards undelivered in the busiest
    /// chat, and decides. `arriving = 0` is a check on the clock alone (a tick).
    pub fn observe(
        &mut self,
        policy: &StormPolicy,
        arriving: usize,
        backlog: usize,
        now: DateTime<Utc>,
    ) -> Change {
        self.observe_made(policy, &vec![now; arriving], backlog, now)
    }

    /// Like [`Weather::observe`], with each new mention counted at the time its post was made
    /// (`made`), not when it was found: posts already older than the window when found (an
    /// import, a source catching up after an outage) are no flood and start no storm. A time
    /// in the future (a skewed clock) counts as now.
    pub fn observe_made(
        &mut self,
        policy: &StormPolicy,
        made: &[DateTime<Utc>],
        backlog: usize,
        now: DateTime<Utc>,
    ) -> Change {
        let arriving = made.len();
        let since = now - policy.window;
        self.arrivals.extend(
            made.iter()
                .map(|at| (*at).min(now))
                .filter(|at| *at > since),
        );
        self.arrivals.sort();
        self.arrivals.retain(|at| *at > since);
        let keep = policy.threshold.max(1);
        if self.arrivals.len() > keep {
            self.arrivals.drain(..self.arrivals.len() - keep);
        }
        let recent = self.arrivals.len();
        let hot = policy.hot(recent, backlog);
        match &mut self.storm {
            None if hot => {
                self.storms += 1;
                self.storm = Some(Storm {
                    id: self.storms,
                    started_at: now,
                    last_hot: now,
                    last_arrival: now,
                    held: 0,
                    first: None,
                    last: None,
                    top: Vec::new(),
                    started_with: recent,
                });
                Change::Started
            }
            None => Change::Calm,
            Some(storm) => {
                if hot {
                    storm.last_hot = now;
                }
                if arriving > 0 {
                    storm.last_arrival = now;
                }
                if policy.cool(recent, backlog) && now - storm.last_hot >= policy.calm {
                    match self.storm.take() {
                        Some(storm) => Change::Ended(storm),
                        None => Change::Calm,
                    }
                } else {
                    Change::Continues
                }
            }
        }
    }

    /// Whether a storm is on: new mentions are held rather than carded.
    pub fn stormy(&self) -> bool {
        self.storm.is_some()
    }
}

impl Storm {
    /// Counts mention `number` as arrived during the storm, keeping the most urgent few.
    pub fn hold(&mut self, number: u64, priority: &Priority, direct: bool, line: String) {
        self.held += 1;
        self.first = Some(self.first.map_or(number, |first| first.min(number)));
        self.last = Some(self.last.map_or(number, |last| last.max(number)));
        self.top.push(Highlight {
            number,
            score: priority.score,
            complaint: priority.complaint,
            direct,
            line,
        });
        self.top.sort_by_key(|h| std::cmp::Reverse(h.rank()));
        self.top.truncate(HIGHLIGHTS);
    }

    fn span(&self) -> String {
        match (self.first, self.last) {
            (Some(first), Some(last)) if first != last => format!(" (#{first}–#{last})"),
            (Some(first), _) => format!(" (#{first})"),
            _ => String::new(),
        }
    }

    fn plural(n: u64) -> &'static str {
        if n == 1 {
            "mention"
        } else {
            "mentions"
        }
    }

    /// The summary card while the storm goes on.
    pub fn summary(&self, command: &str) -> String {
        let lasted = match self.last_arrival - self.started_at {
            short if short < Duration::minutes(1) => "under a minute".to_string(),
            long => human(long),
        };
        let mut lines = vec![format!(
            "⚡ Mention storm: {} new {} in {lasted}{}, gathered here instead of one card each.",
            self.held,
            Storm::plural(self.held),
            self.span()
        )];
        if !self.top.is_empty() {
            lines.push(format!("The {} most urgent:", self.top.len()));
            for highlight in &self.top {
                lines.push(format!(
                    "  {}#{} · {}",
                    if highlight.complaint { "⚠ " } else { "" },
                    highlight.number,
                    highlight.line
                ));
            }
        }
        lines.push(format!(
            "`{command} list` shows them all; `{command} show N` and `{command} claim N` work as usual."
        ));
        lines.join("\n")
    }

    /// The summary card's last version, when the storm is over.
    pub fn ended(&self, now: DateTime<Utc>, command: &str) -> String {
        format!(
            "Storm over after {}: {} {} arrived during it{} and got no card of their own; `{command} list` shows those still open. New mentions get a card again.",
            human(now - self.started_at),
            self.held,
            Storm::plural(self.held),
            self.span()
        )
    }

    /// The one alert per storm.
    pub fn alert(&self, policy: &StormPolicy, command: &str) -> String {
        let ping = if policy.alert.is_empty() {
            "@channel".to_string()
        } else {
            policy.alert.join(" ")
        };
        format!(
            "{ping} ⚡ Mention storm: {} mentions in the last {}. Cards pause; one summary card is kept up to date instead. `{command} list` shows every mention.",
            self.started_with,
            human(policy.window)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn posts_old_when_found_start_no_storm_and_recent_ones_do() {
        let policy = StormPolicy {
            threshold: 10,
            ..StormPolicy::default()
        };
        let mut weather = Weather::default();
        let old = vec![t0() - Duration::days(3); 200];
        assert_eq!(weather.observe_made(&policy, &old, 0, t0()), Change::Calm);
        assert!(weather.arrivals.is_empty());
        // Ten made within the window, found together, are a storm.
        let recent: Vec<_> = (0..10).map(|i| t0() - Duration::seconds(i * 20)).collect();
        assert_eq!(
            weather.observe_made(&policy, &recent, 0, t0()),
            Change::Started
        );
        // A post dated in the future counts as now, not for ever.
        let mut skewed = Weather::default();
        skewed.observe_made(&policy, &[t0() + Duration::days(365)], 0, t0());
        assert_eq!(skewed.arrivals, vec![t0()]);
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn policy() -> StormPolicy {
        StormPolicy {
            threshold: 10,
            window: Duration::minutes(5),
            backlog: 8,
            calm: Duration::minutes(15),
            alert: vec!["@oncall".into()],
        }
    }

    #[test]
    fn starts_at_the_threshold_not_below() {
        let policy = policy();
        let mut weather = Weather::default();
        for i in 0..9 {
            let change = weather.observe(&policy, 1, 0, t0() + Duration::seconds(i));
            assert_eq!(change, Change::Calm, "arrival {}", i + 1);
        }
        assert_eq!(
            weather.observe(&policy, 1, 0, t0() + Duration::seconds(9)),
            Change::Started
        );
        assert!(weather.stormy());
        assert_eq!(weather.storm.as_ref().map(|s| s.started_with), Some(10));
        assert_eq!(
            weather.observe(&policy, 1, 0, t0() + Duration::seconds(10)),
            Change::Continues
        );
    }

    #[test]
    fn arrivals_outside_the_window_do_not_count() {
        let policy = policy();
        let mut weather = Weather::default();
        // 9 at t0, 1 just after the window closed on them: never 10 within 5 minutes.
        weather.observe(&policy, 9, 0, t0());
        let change = weather.observe(&policy, 1, 0, t0() + Duration::minutes(5));
        assert_eq!(change, Change::Calm);
        // One batch of 10 at once is a storm.
        let mut weather = Weather::default();
        assert_eq!(weather.observe(&policy, 10, 0, t0()), Change::Started);
    }

    #[test]
    fn a_backlog_starts_a_storm_at_its_limit() {
        let policy = policy();
        let mut weather = Weather::default();
        assert_eq!(weather.observe(&policy, 1, 7, t0()), Change::Calm);
        assert_eq!(weather.observe(&policy, 1, 8, t0()), Change::Started);
    }

    #[test]
    fn ends_only_after_the_calm_period_below_half_the_threshold() {
        let policy = policy();
        let mut weather = Weather::default();
        weather.observe(&policy, 10, 0, t0());
        // Still hot a minute later: the calm period counts from here.
        assert_eq!(
            weather.observe(&policy, 0, 0, t0() + Duration::minutes(1)),
            Change::Continues
        );
        // 14m59s after the last hot moment: not yet.
        assert_eq!(
            weather.observe(&policy, 0, 0, t0() + Duration::seconds(15 * 60 + 59)),
            Change::Continues
        );
        let ended = weather.observe(&policy, 0, 0, t0() + Duration::minutes(16));
        assert!(matches!(ended, Change::Ended(_)), "{ended:?}");
        assert!(!weather.stormy());
    }

    #[test]
    fn hysteresis_a_rate_between_half_and_the_threshold_keeps_it_going() {
        let policy = policy();
        let mut weather = Weather::default();
        weather.observe(&policy, 10, 0, t0());
        // 5 per window (half the threshold): neither hot nor cool. It must not end, however long.
        for minute in 1..=60 {
            let now = t0() + Duration::minutes(minute);
            let change = weather.observe(&policy, 1, 0, now);
            assert_eq!(change, Change::Continues, "minute {minute}");
        }
        // Then 4 per window (below half): it ends once `calm` has passed since the last hot moment.
        let mut ended_at = None;
        for step in 1..=40 {
            let now = t0() + Duration::minutes(60) + Duration::seconds(75 * step);
            if let Change::Ended(_) = weather.observe(&policy, 1, 0, now) {
                ended_at = Some(now);
                break;
            }
        }
        assert!(ended_at.is_some());
        // And calm below the threshold does not restart it: 9 in the window is not a storm.
        let after = ended_at.unwrap_or_default() + Duration::minutes(10);
        assert_eq!(weather.observe(&policy, 9, 0, after), Change::Calm);
        assert_eq!(weather.observe(&policy, 1, 0, after), Change::Started);
        assert_eq!(weather.storm.as_ref().map(|s| s.id), Some(2));
    }

    #[test]
    fn a_backlog_above_half_its_limit_keeps_it_going() {
        let policy = policy();
        let mut weather = Weather::default();
        weather.observe(&policy, 0, 8, t0());
        let later = t0() + Duration::hours(1);
        assert_eq!(weather.observe(&policy, 0, 4, later), Change::Continues);
        assert!(matches!(
            weather.observe(&policy, 0, 3, later),
            Change::Ended(_)
        ));
    }

    #[test]
    fn arrival_memory_is_bounded_by_the_threshold() {
        let policy = policy();
        let mut weather = Weather::default();
        weather.observe(&policy, 10_000, 0, t0());
        assert_eq!(weather.arrivals.len(), 10);
    }

    #[test]
    fn the_summary_names_the_count_and_the_most_urgent() {
        let policy = policy();
        let mut weather = Weather::default();
        weather.observe(&policy, 10, 0, t0());
        weather.observe(&policy, 1, 0, t0() + Duration::minutes(4));
        let storm = weather.storm.as_mut().expect("a storm");
        for number in 20..57u64 {
            let priority = Priority {
                score: (number % 7) as u32,
                complaint: number == 33 || number == 40,
                reasons: vec![],
            };
            storm.hold(number, &priority, false, format!("post {number}"));
        }
        let text = storm.summary("/mentions");
        assert!(
            text.starts_with("⚡ Mention storm: 37 new mentions in 4 min (#20–#56)"),
            "{text}"
        );
        // Complaints first, then the highest score (6: #20, #27, #34...), oldest first.
        let listed: Vec<&str> = text.lines().skip(2).take(5).collect();
        assert_eq!(
            listed,
            [
                "  ⚠ #33 · post 33",
                "  ⚠ #40 · post 40",
                "  #20 · post 20",
                "  #27 · post 27",
                "  #34 · post 34"
            ]
        );
        assert!(text.ends_with("`/mentions claim N` work as usual."));
        let alert = storm.alert(&policy, "/mentions");
        assert!(alert.starts_with("@oncall ⚡ Mention storm: 10 mentions in the last 5 min."));
        let over = storm.ended(t0() + Duration::minutes(30), "/mentions");
        assert!(
            over.starts_with("Storm over after 30 min: 37 mentions arrived during it (#20–#56)")
        );
    }
}
