//! Graph's times: Facebook writes `2026-12-01T10:00:00+0000` (no colon in the offset),
//! Instagram the same, webhooks send Unix seconds.

use chrono::{DateTime, Utc};

/// A Graph time, in either offset form.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text.trim()))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_offset_forms_parse() {
        let a = parse_time("2026-12-01T10:00:00+0000").unwrap();
        let b = parse_time("2026-12-01T11:00:00+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse_time("yesterday"), None);
    }
}
