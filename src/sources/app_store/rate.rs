//! App Store Connect's `X-Rate-Limit: user-hour-lim:3600;user-hour-rem:3599;`: the requests an
//! API key has left in its rolling hour, read into the budget's terms. The hour rolls, so there
//! is no reset time: when the count runs low, polls hold back a while and let it recover.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

use crate::net::{wait, Limits};

pub const HEADER: &str = "x-rate-limit";
/// How long polls hold back when few requests are left: requests leave a rolling hour
/// continuously, so a sixth of it frees a sixth of the key's allowance.
pub const SLOWDOWN: Duration = Duration::from_secs(10 * 60);

/// What the header says, or `None` when it is absent or unreadable.
pub fn limits(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Limits> {
    let value = headers.get(HEADER)?.to_str().ok()?;
    let remaining = value
        .split(';')
        .filter_map(|pair| pair.split_once(':'))
        .find(|(name, _)| name.trim() == "user-hour-rem")
        .and_then(|(_, count)| count.trim().parse::<f64>().ok())
        .filter(|count| count.is_finite())?;
    Some(Limits {
        remaining: Some(remaining),
        reset: Some(wait::after(now, SLOWDOWN)),
        retry_after: wait::retry_after(headers, now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(HEADER, value.parse().unwrap());
        map
    }

    #[test]
    fn the_hours_remaining_requests_are_read() {
        let now = Utc::now();
        let read = limits(&headers("user-hour-lim:3600;user-hour-rem:3599;"), now).unwrap();
        assert_eq!(read.remaining, Some(3599.0));
        assert_eq!(read.wait(now), Some(SLOWDOWN));
        assert_eq!(limits(&headers("user-hour-lim:3600;"), now), None);
        assert_eq!(limits(&headers("user-hour-rem:lots"), now), None);
        assert_eq!(limits(&HeaderMap::new(), now), None);
    }
}
