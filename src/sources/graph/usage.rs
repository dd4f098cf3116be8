//! Meta's usage headers: `X-App-Usage` and `X-Page-Usage` (`{"call_count":28,"total_time":25,
//! "total_cputime":25}`, percentages of the app's or the Page's rolling hour) and
//! `X-Business-Use-Case-Usage` (`{"<id>":[{"type":"pages","call_count":..,"total_cputime":..,
//! "total_time":..,"estimated_time_to_regain_access":minutes}]}`), read into the budget's terms:
//! what is left is 100 minus the highest percentage, and the window resets when Meta estimates
//! access comes back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::net::{wait, Limits};

/// How long polls hold back when usage is high and Meta names no time to regain access: the
/// app's and the Page's windows roll over an hour, so ten minutes lets usage fall back.
pub const SLOWDOWN: Duration = Duration::from_secs(10 * 60);

const HEADERS: [&str; 3] = ["x-app-usage", "x-page-usage", "x-business-use-case-usage"];

/// What the usage headers say, or `None` when the response carries none (or none readable).
pub fn usage_limits(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Limits> {
    let mut highest: Option<f64> = None;
    let mut regain_minutes: f64 = 0.0;
    for name in HEADERS {
        let Some(value) = headers.get(name).and_then(|value| value.to_str().ok()) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<Value>(value) else {
            tracing::debug!(header = name, value, "unreadable Graph usage header");
            continue;
        };
        let mut read = |entry: &Value| {
            for field in ["call_count", "total_time", "total_cputime"] {
                if let Some(percent) = entry.get(field).and_then(Value::as_f64) {
                    if percent.is_finite() {
                        highest = Some(highest.map_or(percent, |high: f64| high.max(percent)));
                    }
                }
            }
            if let Some(minutes) = entry
                .get("estimated_time_to_regain_access")
                .and_then(Value::as_f64)
                .filter(|minutes| minutes.is_finite())
            {
                regain_minutes = regain_minutes.max(minutes);
            }
        };
        match &json {
            // The business-use-case header: entries per business id, each a list.
            Value::Object(map) if name == "x-business-use-case-usage" => {
                for entries in map.values() {
                    for entry in entries.as_array().into_iter().flatten() {
                        read(entry);
                    }
                }
            }
            entry => read(entry),
        }
    }
    let highest = highest?;
    let regain = wait::seconds(regain_minutes * 60.0).filter(|wait| !wait.is_zero());
    Some(Limits {
        remaining: Some((100.0 - highest).max(0.0)),
        reset: Some(wait::after(now, regain.unwrap_or(SLOWDOWN))),
        retry_after: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_highest_percentage_of_any_header_counts() {
        let now = Utc::now();
        let limits = usage_limits(
            &headers(&[
                ("x-app-usage", r#"{"call_count":28,"total_time":25,"total_cputime":25}"#),
                (
                    "x-business-use-case-usage",
                    r#"{"1234":[{"type":"pages","call_count":95,"total_cputime":10,"total_time":12,"estimated_time_to_regain_access":3}]}"#,
                ),
            ]),
            now,
        )
        .unwrap();
        assert_eq!(limits.remaining, Some(5.0));
        assert_eq!(limits.wait(now), Some(Duration::from_secs(180)));
        let quiet = usage_limits(
            &headers(&[(
                "x-page-usage",
                r#"{"call_count":2,"total_time":1,"total_cputime":1}"#,
            )]),
            now,
        )
        .unwrap();
        assert_eq!(quiet.remaining, Some(98.0));
        assert_eq!(quiet.wait(now), Some(SLOWDOWN), "no estimate: the slowdown");
        assert_eq!(usage_limits(&headers(&[]), now), None);
        assert_eq!(
            usage_limits(&headers(&[("x-app-usage", "not json")]), now),
            None
        );
    }
}
