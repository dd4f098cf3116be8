//! How long a server asked us to wait. Every wait a server names passes through here and comes
//! out at most [`LONGEST_WAIT`]: a `Retry-After: 99999999999999` must delay one request, not
//! overflow a clock and stop the bot. Adding a wait to a time saturates instead of panicking.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The longest wait earshot accepts from a server. A real rate-limit window is minutes; a
/// longer wait is a broken header, and waiting an hour, then asking again, is safe.
pub const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);

/// `wait`, at most [`LONGEST_WAIT`].
pub fn clamp(wait: Duration) -> Duration {
    wait.min(LONGEST_WAIT)
}

/// A number of seconds a server sent (JSON `retry_after: 1.5`, `x-ratelimit-reset: 300`), as a
/// bounded wait; `None` for a negative or non-finite number.
pub fn seconds(secs: f64) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(clamp(Duration::from_secs_f64(
        secs.min(LONGEST_WAIT.as_secs_f64()),
    )))
}

/// The time from `now` until `at`: zero when `at` is past, at most [`LONGEST_WAIT`].
pub fn until(now: DateTime<Utc>, at: DateTime<Utc>) -> Duration {
    clamp((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// `now` plus `wait` (clamped), never overflowing.
pub fn after(now: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    let wait = chrono::Duration::from_std(clamp(wait)).unwrap_or(chrono::Duration::zero());
    now.checked_add_signed(wait).unwrap_or(now)
}

/// The response's `Retry-After`, if it has a readable one.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, now)
}

/// `Retry-After` in either form RFC 9110 allows: delta-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2026 07:28:00 GMT`). A date in the past means now. Anything else (`-5`,
/// `1e9`, `soon`) is unreadable: `None`, and the caller's own backoff applies.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is still "a very long time".
        return Some(match value.parse::<u64>() {
            Ok(secs) => clamp(Duration::from_secs(secs)),
            Err(_) => LONGEST_WAIT,
        });
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    Some(until(now, date.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_retry_after_gives_a_bounded_wait() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let secs = |s| Some(Duration::from_secs(s));
        let table: &[(&str, Option<Duration>)] = &[
            ("0", secs(0)),
            ("1", secs(1)),
            ("3600", secs(3600)),
            (" 120 ", secs(120)),
            ("99999999999999", secs(3600)),
            ("18446744073709551615", secs(3600)),
            ("184467440737095516150000", secs(3600)),
            ("-5", None),
            ("1e9", None),
            ("1.5", None),
            ("soon", None),
            ("", None),
            ("Wed, 02 Dec 2026 09:00:00 GMT", secs(0)),
            ("Wed, 02 Dec 2026 10:02:00 GMT", secs(120)),
            ("Thu, 01 Jan 2099 00:00:00 GMT", secs(3600)),
            ("Wed, 02 Dec 2026 10:02:00 +0000", secs(120)),
        ];
        for (value, expected) in table {
            let wait = parse_retry_after(value, now);
            assert_eq!(wait, *expected, "Retry-After: {value:?}");
            assert!(wait.is_none_or(|wait| wait <= LONGEST_WAIT));
        }
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None, "no header");
        headers.insert(RETRY_AFTER, "30".parse().unwrap());
        assert_eq!(retry_after(&headers, now), secs(30));
    }

    #[test]
    fn server_numbers_and_time_arithmetic_never_overflow() {
        assert_eq!(seconds(1.5), Some(Duration::from_millis(1500)));
        assert_eq!(seconds(1e300), Some(LONGEST_WAIT));
        assert_eq!(seconds(f64::INFINITY), None);
        assert_eq!(seconds(f64::NAN), None);
        assert_eq!(seconds(-1.0), None);
        let now = Utc::now();
        assert_eq!(after(now, Duration::MAX), after(now, LONGEST_WAIT));
        assert_eq!(
            after(DateTime::<Utc>::MAX_UTC, LONGEST_WAIT),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(until(now, DateTime::<Utc>::MAX_UTC), LONGEST_WAIT);
        assert_eq!(until(now, DateTime::<Utc>::MIN_UTC), Duration::ZERO);
    }
}
