//! Business hours ("mon-fri 09:00-17:00" in a time zone): reminders count only the time the team
//! is at work, so a mention found on Friday evening is not "late" on Monday morning.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::schedule::{local_instant, parse_time, parse_weekday};

/// Business days looked at before giving up: a year covers any sane request.
const HORIZON_DAYS: i64 = 366;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    days: Vec<Weekday>,
    open: NaiveTime,
    close: NaiveTime,
    timezone: Tz,
}

impl BusinessHours {
    /// Every hour of every day counts.
    pub fn always(timezone: Tz) -> BusinessHours {
        BusinessHours {
            days: ALL_DAYS.to_vec(),
            open: NaiveTime::MIN,
            close: NaiveTime::MIN,
            timezone,
        }
    }

    /// "mon-fri 09:00-17:00", "mon,wed,fri 08:30-12:00", "always".
    pub fn parse(text: &str, timezone: Tz) -> Result<BusinessHours, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("always") {
            return Ok(BusinessHours::always(timezone));
        }
        let usage = || {
            format!("`{text}` is not business hours; write them like \"mon-fri 09:00-17:00\" (or \"always\")")
        };
        let (days, hours) = text.split_once(' ').ok_or_else(usage)?;
        let (open, close) = hours.trim().split_once('-').ok_or_else(usage)?;
        let (open, close) = (parse_time(open)?, parse_time(close)?);
        if open >= close {
            return Err(format!("business hours `{hours}` close before they open"));
        }
        let mut chosen = Vec::new();
        for part in days.split(',') {
            match part.split_once('-') {
                Some((first, last)) => {
                    let (mut day, last) = (parse_weekday(first)?, parse_weekday(last)?);
                    chosen.push(day);
                    while day != last {
                        day = day.succ();
                        chosen.push(day);
                    }
                }
                None => chosen.push(parse_weekday(part)?),
            }
        }
        Ok(BusinessHours {
            days: chosen,
            open,
            close,
            timezone,
        })
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// Business time between `from` and `to` (zero if `to` is earlier).
    pub fn elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let mut total = Duration::zero();
        let first = from.with_timezone(&self.timezone).date_naive();
        for (open, close) in self.windows(first).take_while(|(open, _)| *open < to) {
            let start = open.max(from);
            let end = close.min(to);
            if end > start {
                total += end - start;
            }
        }
        total
    }

    /// The instant at which `span` of business time has passed since `from`.
    pub fn after(&self, from: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
        let mut left = span;
        let first = from.with_timezone(&self.timezone).date_naive();
        for (open, close) in self.windows(first) {
            let start = open.max(from);
            if close <= start {
                continue;
            }
            if close - start >= left {
                return start + left;
            }
            left -= close - start;
        }
        from + span
    }

    /// When the next business day opens after `now`'s local date: what "tomorrow" means.
    pub fn next_opening(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let today = now.with_timezone(&self.timezone).date_naive();
        self.windows(today)
            .map(|(open, _)| open)
            .find(|open| open.with_timezone(&self.timezone).date_naive() > today)
            .unwrap_or(now + Duration::days(1))
    }

    /// The opening hours of each business day from `first` on, as UTC intervals.
    fn windows(
        &self,
        first: NaiveDate,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        (0..HORIZON_DAYS)
            .filter_map(move |offset| first.checked_add_signed(Duration::days(offset)))
            .filter(|day| self.days.contains(&day.weekday()))
            .map(|day| {
                let open = local_instant(&self.timezone, day, self.open);
                let close = if self.close == NaiveTime::MIN {
                    // "always": the day runs to the next midnight.
                    day.succ_opt().map_or(open + Duration::days(1), |next| {
                        local_instant(&self.timezone, next, NaiveTime::MIN)
                    })
                } else {
                    local_instant(&self.timezone, day, self.close)
                };
                (open, close)
            })
    }
}

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::examples::utc;
    use chrono_tz::Europe::Amsterdam;

    fn office() -> BusinessHours {
        BusinessHours::parse("mon-fri 09:00-17:00", Amsterdam).unwrap()
    }

    #[test]
    fn counts_only_open_hours() {
        let hours = office();
        // Friday 2026-03-20 16:30 CET (15:30 UTC) to Monday 09:30 CET: 30 + 30 minutes.
        assert_eq!(
            hours.elapsed(utc("2026-03-20T15:30:00Z"), utc("2026-03-23T08:30:00Z")),
            Duration::minutes(60)
        );
        // A whole weekday is eight hours; a weekend nothing.
        assert_eq!(
            hours.elapsed(utc("2026-03-24T00:00:00Z"), utc("2026-03-25T00:00:00Z")),
            Duration::hours(8)
        );
        assert_eq!(
            hours.elapsed(utc("2026-03-21T00:00:00Z"), utc("2026-03-23T00:00:00Z")),
            Duration::zero()
        );
        assert_eq!(
            hours.elapsed(utc("2026-03-24T12:00:00Z"), utc("2026-03-24T11:00:00Z")),
            Duration::zero()
        );
    }

    #[test]
    fn after_is_the_inverse_of_elapsed_across_nights_weekends_and_dst() {
        let hours = office();
        // Found Friday 16:30 CET: 30 business minutes later is Friday 17:00.
        assert_eq!(
            hours.after(utc("2026-03-20T15:30:00Z"), Duration::minutes(30)),
            utc("2026-03-20T16:00:00Z")
        );
        // 45 minutes: Monday 09:15 CET.
        assert_eq!(
            hours.after(utc("2026-03-20T15:30:00Z"), Duration::minutes(45)),
            utc("2026-03-23T08:15:00Z")
        );
        // Friday 2026-03-27 16:00 CET + 2h: Monday 2026-03-30 10:00 CEST = 08:00 UTC (summer time).
        assert_eq!(
            hours.after(utc("2026-03-27T15:00:00Z"), Duration::hours(2)),
            utc("2026-03-30T08:00:00Z")
        );
        // Saturday night: the clock starts Monday 09:00.
        assert_eq!(
            hours.after(utc("2026-03-21T22:00:00Z"), Duration::minutes(1)),
            utc("2026-03-23T08:01:00Z")
        );
    }

    #[test]
    fn tomorrow_is_the_next_business_opening_and_bad_hours_are_refused() {
        let hours = office();
        assert_eq!(
            hours.next_opening(utc("2026-03-20T10:00:00Z")),
            utc("2026-03-23T08:00:00Z")
        );
        assert_eq!(
            hours.next_opening(utc("2026-03-23T06:00:00Z")),
            utc("2026-03-24T08:00:00Z")
        );
        let always = BusinessHours::parse("always", Amsterdam).unwrap();
        assert_eq!(
            always.elapsed(utc("2026-03-21T00:00:00Z"), utc("2026-03-23T00:00:00Z")),
            Duration::hours(48)
        );
        assert_eq!(
            BusinessHours::parse("sat-sun 10:00-12:00", Amsterdam)
                .unwrap()
                .days,
            vec![Weekday::Sat, Weekday::Sun]
        );
        for bad in [
            "mon-fri",
            "mon-fri 17:00-09:00",
            "someday 09:00-17:00",
            "mon-fri 9-5",
        ] {
            assert!(BusinessHours::parse(bad, Amsterdam).is_err(), "{bad}");
        }
    }
}
