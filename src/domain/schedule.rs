//! When daily and weekly work falls due: a wall-clock time on chosen weekdays in one time zone.
//! Pure functions of `now` and of the last local date that was done, so the scheduler that calls
//! them can be driven by any clock, and a restart or a daylight-saving change cannot make a day
//! run twice: a day is a local date, and a date that is done stays done.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daily {
    pub at: NaiveTime,
    pub timezone: Tz,
    pub days: Vec<Weekday>,
}

impl Daily {
    /// The local date whose run is due at `now` and not yet done: today, once its time has
    /// passed. A day missed entirely (the bot was down all day) is not caught up the next day;
    /// the next day has its own run.
    pub fn due(&self, now: DateTime<Utc>, done: Option<NaiveDate>) -> Option<NaiveDate> {
        let today = now.with_timezone(&self.timezone).date_naive();
        let scheduled = self.days.contains(&today.weekday())
            && now >= local_instant(&self.timezone, today, self.at)
            && done.is_none_or(|done| done < today);
        scheduled.then_some(today)
    }

    /// When the next run falls due at or after `now` (`now` itself if one is due).
    pub fn next_at(&self, now: DateTime<Utc>, done: Option<NaiveDate>) -> DateTime<Utc> {
        if self.due(now, done).is_some() {
            return now;
        }
        let today = now.with_timezone(&self.timezone).date_naive();
        (0..8)
            .filter_map(|offset| today.checked_add_signed(Duration::days(offset)))
            .filter(|day| self.days.contains(&day.weekday()) && done.is_none_or(|d| d < *day))
            .map(|day| local_instant(&self.timezone, day, self.at))
            .find(|at| *at > now)
            // No weekday at all cannot happen (config requires one); look again in a day.
            .unwrap_or(now + Duration::days(1))
    }
}

/// The instant a local wall-clock time happens on `date`. In the autumn overlap the first of the
/// two is taken; a time skipped by the spring change happens when the clocks resume.
pub fn local_instant(timezone: &Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut local = date.and_time(time);
    // Gaps are at most a few hours; stepping by minutes finds the first time that exists.
    for _ in 0..(24 * 60) {
        match timezone.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                return at.with_timezone(&Utc)
            }
            LocalResult::None => local += Duration::minutes(1),
        }
    }
    local.and_utc()
}

/// "mon", "tuesday", "Wed": a weekday as people write it in a config.
pub fn parse_weekday(text: &str) -> Result<Weekday, String> {
    text.trim().parse::<Weekday>().map_err(|_| {
        format!("`{text}` is not a weekday; write mon, tue, wed, thu, fri, sat or sun")
    })
}

/// "09:00" (or "9:00").
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| format!("`{text}` is not a time of day; write it like \"09:00\""))
}

pub fn parse_timezone(text: &str) -> Result<Tz, String> {
    text.trim().parse::<Tz>().map_err(|_| {
        format!(
            "`{text}` is not a time zone; use an IANA name like \"Europe/Amsterdam\" or \"UTC\""
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::examples::utc;
    use chrono_tz::Europe::Amsterdam;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn weekdays(at: &str) -> Daily {
        Daily {
            at: parse_time(at).unwrap(),
            timezone: Amsterdam,
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
        }
    }

    #[test]
    fn due_once_a_scheduled_day_after_its_local_time_and_caught_up_later_that_day() {
        let daily = weekdays("09:00");
        // Monday 2026-03-23, CET (UTC+1): 09:00 local is 08:00 UTC.
        assert_eq!(daily.due(utc("2026-03-23T07:59:59Z"), None), None);
        assert_eq!(
            daily.due(utc("2026-03-23T08:00:00Z"), None),
            Some(date("2026-03-23"))
        );
        // Down at nine, up at four: still that day's digest.
        assert_eq!(
            daily.due(utc("2026-03-23T15:00:00Z"), Some(date("2026-03-20"))),
            Some(date("2026-03-23"))
        );
        assert_eq!(
            daily.due(utc("2026-03-23T15:00:00Z"), Some(date("2026-03-23"))),
            None
        );
        // Saturday is not scheduled.
        assert_eq!(daily.due(utc("2026-03-28T10:00:00Z"), None), None);
        // Near midnight UTC it is already the next local day in Amsterdam.
        assert_eq!(
            daily.due(utc("2026-03-23T23:30:00Z"), Some(date("2026-03-23"))),
            None
        );
    }

    #[test]
    fn daylight_saving_moves_the_utc_time_not_the_local_one() {
        let daily = weekdays("09:00");
        // After the March switch (2026-03-29) Amsterdam is UTC+2: 09:00 is 07:00 UTC.
        assert_eq!(
            daily.next_at(utc("2026-03-27T09:00:00Z"), Some(date("2026-03-27"))),
            utc("2026-03-30T07:00:00Z")
        );
        assert_eq!(
            daily.due(utc("2026-03-30T07:00:00Z"), Some(date("2026-03-27"))),
            Some(date("2026-03-30"))
        );
        // After the October switch (2026-10-25) it is UTC+1 again.
        assert_eq!(
            daily.next_at(utc("2026-10-23T12:00:00Z"), Some(date("2026-10-23"))),
            utc("2026-10-26T08:00:00Z")
        );
    }

    #[test]
    fn skipped_and_repeated_local_times_run_once() {
        let every_day = Daily {
            at: parse_time("02:30").unwrap(),
            timezone: Amsterdam,
            days: vec![Weekday::Sun],
        };
        // 2026-03-29 02:30 does not exist in Amsterdam: it runs when the clocks jump to 03:00.
        assert_eq!(
            local_instant(&Amsterdam, date("2026-03-29"), every_day.at),
            utc("2026-03-29T01:00:00Z")
        );
        // 2026-10-25 02:30 happens twice: the first one counts, the second finds the day done.
        let first = utc("2026-10-25T00:30:00Z");
        assert_eq!(every_day.due(first, None), Some(date("2026-10-25")));
        let second = utc("2026-10-25T01:30:00Z");
        assert_eq!(every_day.due(second, Some(date("2026-10-25"))), None);
    }

    #[test]
    fn config_values_parse_or_explain() {
        assert_eq!(parse_weekday("Mon"), Ok(Weekday::Mon));
        assert!(parse_weekday("someday")
            .unwrap_err()
            .contains("not a weekday"));
        assert!(parse_time("9am").is_err());
        assert!(parse_timezone("Mars/Olympus").is_err());
        assert_eq!(parse_timezone("Europe/Amsterdam"), Ok(Amsterdam));
    }
}
