//! How well the team answers, from the store's history: received, answered %, time to claim and
//! to answer (median and 90th percentile), per member and per network, and per day for the chart.
//! Pure maths over mentions and their histories.
//!
//! Definitions: a mention counts in a window when earshot found it in that window. It is
//! answered when its history first reaches `answered` or `done`; ignored ones are left out of the
//! answered percentage (they needed no answer). Claimed means its first `claimed`, `assigned` or
//! `answer queued`. Percentiles are nearest-rank: the median of 1, 2, 3, 4 minutes is 2.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{HistoryEntry, Tracked};

/// Figures for one group of mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub received: usize,
    pub answered: usize,
    pub ignored: usize,
    pub to_claim: Vec<Duration>,
    pub to_answer: Vec<Duration>,
}

impl Figures {
    /// Answered out of those that needed an answer, in whole percent; `None` when none did.
    pub fn answered_percent(&self) -> Option<u32> {
        let needed = self.received.saturating_sub(self.ignored);
        (needed > 0).then(|| ((self.answered * 100 + needed / 2) / needed) as u32)
    }

    fn add(&mut self, outcome: &Outcome) {
        self.received += 1;
        if outcome.ignored {
            self.ignored += 1;
        }
        if let Some(claim) = outcome.to_claim {
            self.to_claim.push(claim);
        }
        if let Some(answer) = outcome.to_answer {
            self.answered += 1;
            self.to_answer.push(answer);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub all: Figures,
    /// Answers per member (by name), with their times to answer.
    pub members: BTreeMap<String, Figures>,
    pub networks: BTreeMap<String, Figures>,
}

/// One day of the chart.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChartDay {
    pub date: NaiveDate,
    pub received: usize,
    pub answered: usize,
    /// Median time to answer of that day's answered mentions, in minutes.
    pub median_minutes: Option<i64>,
}

/// What happened to one mention.
struct Outcome {
    to_claim: Option<Duration>,
    to_answer: Option<Duration>,
    answered_by: Option<String>,
    ignored: bool,
}

fn outcome(tracked: &Tracked, history: &[HistoryEntry]) -> Outcome {
    let since = |entry: &HistoryEntry| (entry.at - tracked.received_at).max(Duration::zero());
    let claim = history.iter().find(|entry| entry.to.takes_on());
    let answer = history.iter().find(|entry| entry.settles());
    Outcome {
        to_claim: claim.map(since),
        to_answer: answer.map(since),
        answered_by: answer.map(|entry| entry.by.name().to_string()),
        ignored: answer.is_none() && tracked.state.status() == super::Status::Ignored,
    }
}

/// The figures for mentions found in `[from, to)`.
pub fn compute(
    mentions: &[(Tracked, Vec<HistoryEntry>)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Stats {
    let mut stats = Stats::new(from, to);
    for (tracked, history) in mentions {
        stats.add(tracked, history);
    }
    stats
}

impl Stats {
    /// No figures yet for the window `[from, to)`; [`Stats::add`] counts mentions one at a
    /// time, so a long window need not be held in memory at once.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Stats {
        Stats {
            from,
            to,
            ..Stats::default()
        }
    }

    /// Counts one mention, if it was found in the window.
    pub fn add(&mut self, tracked: &Tracked, history: &[HistoryEntry]) {
        if tracked.received_at < self.from || tracked.received_at >= self.to {
            return;
        }
        let outcome = outcome(tracked, history);
        self.all.add(&outcome);
        self.networks
            .entry(tracked.mention.network.label().to_string())
            .or_default()
            .add(&outcome);
        if let Some(member) = &outcome.answered_by {
            self.members
                .entry(member.clone())
                .or_default()
                .add(&outcome);
        }
    }
}

/// Per local day of `timezone`, the `days` days up to and including `last`.
pub fn per_day(
    mentions: &[(Tracked, Vec<HistoryEntry>)],
    timezone: Tz,
    last: NaiveDate,
    days: u32,
) -> Vec<ChartDay> {
    let first = last - Duration::days(i64::from(days.max(1)) - 1);
    let mut by_day: BTreeMap<NaiveDate, Figures> = BTreeMap::new();
    for (tracked, history) in mentions {
        let date = tracked.received_at.with_timezone(&timezone).date_naive();
        if date >= first && date <= last {
            by_day
                .entry(date)
                .or_default()
                .add(&outcome(tracked, history));
        }
    }
    first
        .iter_days()
        .take_while(|date| *date <= last)
        .map(|date| {
            let figures = by_day.remove(&date).unwrap_or_default();
            ChartDay {
                date,
                received: figures.received,
                answered: figures.answered,
                median_minutes: percentile(&figures.to_answer, 50).map(|d| d.num_minutes()),
            }
        })
        .collect()
}

/// Nearest-rank percentile: the smallest value with at least `p`% of the values at or below it.
pub fn percentile(values: &[Duration], p: u32) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = (p.min(100) as usize * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// "2 h 5 min", "45 min", "3 days 4 h": a duration as a person reads it in a report.
pub fn human(duration: Duration) -> String {
    let minutes = duration.num_minutes().max(0);
    match minutes {
        0..=59 => format!("{minutes} min"),
        60..=1_439 => match minutes % 60 {
            0 => format!("{} h", minutes / 60),
            rest => format!("{} h {rest} min", minutes / 60),
        },
        _ => format!("{} days {} h", minutes / 1_440, minutes % 1_440 / 60),
    }
}

impl Stats {
    /// The report as text: what `/mentions stats` answers and the weekly report's caption.
    pub fn text(&self, title: &str) -> String {
        let mut lines = vec![format!(
            "{title}: {} – {} UTC",
            self.from.format("%Y-%m-%d %H:%M"),
            self.to.format("%Y-%m-%d %H:%M")
        )];
        lines.push(summary("All", &self.all));
        if !self.members.is_empty() {
            lines.push("By member (answers):".into());
            for (name, figures) in &self.members {
                lines.push(format!(
                    "  @{name}: {} answered, median {}",
                    figures.answered,
                    show(percentile(&figures.to_answer, 50))
                ));
            }
        }
        if !self.networks.is_empty() {
            lines.push("By network:".into());
            for (name, figures) in &self.networks {
                lines.push(format!("  {}", summary(name, figures)));
            }
        }
        lines.join("\n")
    }
}

fn summary(label: &str, figures: &Figures) -> String {
    format!(
        "{label}: {} received, {} answered ({}), {} ignored; time to claim median {} / p90 {}; time to answer median {} / p90 {}",
        figures.received,
        figures.answered,
        figures
            .answered_percent()
            .map_or("n/a".to_string(), |p| format!("{p}%")),
        figures.ignored,
        show(percentile(&figures.to_claim, 50)),
        show(percentile(&figures.to_claim, 90)),
        show(percentile(&figures.to_answer, 50)),
        show(percentile(&figures.to_answer, 90)),
    )
}

fn show(duration: Option<Duration>) -> String {
    duration.map_or("n/a".to_string(), human)
}

#[cfg(test)]
mod tests;
