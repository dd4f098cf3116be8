//! When a snooze ends, from what was typed: the rules for `snooze N 2h|tomorrow|<date>`.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use super::Refusal;
use crate::domain::business_hours::BusinessHours;
use crate::domain::command::SnoozeUntil;
use crate::domain::schedule::local_instant;

/// The longest span a snooze may name: ten years is a typo, not a plan.
const LONGEST: i64 = 3660;

/// The moment reminders resume: `2h` from `now`, `tomorrow` at the team's next opening, a date
/// at its start in `timezone`. Refused when it is too far off or already past.
pub fn snooze_until(
    typed: &SnoozeUntil,
    timezone: &Tz,
    hours: &BusinessHours,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Refusal> {
    let until = match typed {
        SnoozeUntil::For(span) => match Duration::from_std(*span) {
            Ok(span) if span < Duration::days(LONGEST) => now + span,
            _ => return Err(Refusal::SnoozeTooLong),
        },
        SnoozeUntil::Tomorrow => hours.next_opening(now),
        SnoozeUntil::Date(date) => local_instant(timezone, *date, NaiveTime::MIN),
    };
    if until <= now {
        return Err(Refusal::SnoozePassed);
    }
    Ok(until)
}
