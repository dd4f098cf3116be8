//! The requests a network still allows, as its headers last said, and how long it asked us to
//! hold back. When the window runs low, polls wait for the reset while answers still go out
//! (Reddit bans clients that keep going at zero; X charges for requests that fail). Time comes
//! from an injected [`Clock`], so tests move it instead of sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use super::failure::Failure;
use super::wait;

/// Where the time comes from: the wall clock, or a test's.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

pub fn wall_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Which share of the window a request may use: polls leave a reserve for answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Poll,
    Answer,
}

/// What one response said about the rate limit.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Limits {
    pub remaining: Option<f64>,
    pub reset: Option<DateTime<Utc>>,
    pub retry_after: Option<Duration>,
}

impl Limits {
    /// How long the server asked to wait: `Retry-After`, else until the window resets.
    pub fn wait(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.retry_after
            .or_else(|| self.reset.map(|reset| wait::until(now, reset)))
    }
}

/// How a network's `reset` header counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// Seconds from now (Reddit: `x-ratelimit-reset: 300`).
    SecondsFromNow,
    /// A Unix time in seconds (X, atproto).
    UnixSeconds,
    /// An RFC 3339 time (Mastodon).
    Rfc3339,
}

/// The names of a network's rate-limit headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHeaders {
    pub remaining: &'static str,
    pub reset: &'static str,
    pub form: Reset,
}

impl RateHeaders {
    /// `Retry-After` only: the network announces no window.
    pub const NONE: RateHeaders = RateHeaders {
        remaining: "",
        reset: "",
        form: Reset::SecondsFromNow,
    };

    pub fn read(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Limits {
        let text = |name: &str| -> Option<&str> {
            if name.is_empty() {
                return None;
            }
            headers.get(name)?.to_str().ok().map(str::trim)
        };
        let number = |name: &str| {
            text(name)?
                .parse::<f64>()
                .ok()
                .filter(|value| value.is_finite())
        };
        let reset = match self.form {
            Reset::SecondsFromNow => number(self.reset)
                .and_then(wait::seconds)
                .map(|wait| wait::after(now, wait)),
            Reset::UnixSeconds => number(self.reset)
                .filter(|secs| secs.abs() < 1e12)
                .and_then(|secs| DateTime::from_timestamp(secs as i64, 0))
                .map(|at| at.min(wait::after(now, wait::LONGEST_WAIT))),
            Reset::Rfc3339 => text(self.reset)
                .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                .map(|at| {
                    at.with_timezone(&Utc)
                        .min(wait::after(now, wait::LONGEST_WAIT))
                }),
        };
        Limits {
            remaining: number(self.remaining),
            reset,
            retry_after: wait::retry_after(headers, now),
        }
    }
}

pub struct Budget {
    clock: Clock,
    /// Polls stop when the requests left in the window fall to this many.
    reserve: f64,
    /// After a 429 or 5xx, hold everything back this long when the server named no wait.
    /// `None`: the network's window headers are exact, and only they hold requests back.
    pause_on_refusal: Option<Duration>,
    state: Mutex<Pause>,
}

#[derive(Debug, Default)]
struct Pause {
    /// After a 429 or 5xx: no requests at all.
    all: Option<DateTime<Utc>>,
    /// The window is nearly spent: polls wait.
    polls: Option<DateTime<Utc>>,
    /// The window is spent: answers wait too.
    answers: Option<DateTime<Utc>>,
}

impl Budget {
    pub fn new(reserve: u32) -> Budget {
        Budget {
            clock: wall_clock(),
            reserve: f64::from(reserve),
            pause_on_refusal: None,
            state: Mutex::new(Pause::default()),
        }
    }

    /// Also holds every request back after a 429 or 5xx: as long as the server asked, else
    /// `default`.
    pub fn pausing_on_refusal(mut self, default: Duration) -> Budget {
        self.pause_on_refusal = Some(wait::clamp(default));
        self
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Whether a request for `purpose` may go now; otherwise a retry-later naming the wait.
    pub fn check(&self, service: &str, purpose: Purpose) -> Result<(), Failure> {
        let now = self.now();
        let pause = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let window = match purpose {
            Purpose::Poll => pause.polls,
            Purpose::Answer => pause.answers,
        };
        match [pause.all, window].into_iter().flatten().max() {
            Some(until) if until > now => Err(Failure::Retry {
                reason: format!(
                    "{service}'s rate limit asks earshot to wait {}s, until {until}",
                    wait::until(now, until).as_secs()
                ),
                after: Some(wait::until(now, until)),
            }),
            _ => Ok(()),
        }
    }

    /// Notes what a response said. A new window replaces the old one; half a header (no
    /// reset time) changes nothing.
    pub fn note(&self, status: StatusCode, limits: Limits) {
        let now = self.now();
        let reset = limits.reset.filter(|reset| *reset > now);
        let mut pause = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(default) = self.pause_on_refusal {
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                let asked = limits.wait(now).filter(|wait| !wait.is_zero());
                pause.all = Some(wait::after(now, asked.unwrap_or(default)));
            }
        }
        if let (Some(remaining), Some(reset)) = (limits.remaining, reset) {
            pause.polls = (remaining <= self.reserve).then_some(reset);
            pause.answers = (remaining < 1.0).then_some(reset);
        }
    }

    /// What is left of the pause on everything.
    pub fn wait(&self) -> Option<Duration> {
        let now = self.now();
        let pause = self.state.lock().unwrap_or_else(|p| p.into_inner());
        pause
            .all
            .filter(|until| *until > now)
            .map(|until| wait::until(now, until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> (Clock, Arc<Mutex<DateTime<Utc>>>) {
        let now = Arc::new(Mutex::new(Utc::now()));
        let reading = now.clone();
        (Arc::new(move || *reading.lock().unwrap()), now)
    }

    #[test]
    fn the_budget_holds_polls_back_until_the_window_resets() {
        let (clock, now) = clock();
        let mut budget = Budget::new(5);
        budget.set_clock(clock);
        let at = |secs| Some(*now.lock().unwrap() + chrono::Duration::seconds(secs));
        let window = |remaining: f64, secs| Limits {
            remaining: Some(remaining),
            reset: at(secs),
            retry_after: None,
        };
        assert!(
            budget.check("N", Purpose::Poll).is_ok(),
            "nothing known yet"
        );
        budget.note(StatusCode::OK, window(50.0, 100));
        assert!(budget.check("N", Purpose::Poll).is_ok());
        budget.note(StatusCode::OK, window(5.0, 100));
        let waits = |purpose| match budget.check("N", purpose) {
            Err(Failure::Retry { after, .. }) => after,
            _ => None,
        };
        assert_eq!(waits(Purpose::Poll), Some(Duration::from_secs(100)));
        assert_eq!(waits(Purpose::Answer), None, "answers may use the reserve");
        *now.lock().unwrap() += chrono::Duration::seconds(40);
        assert_eq!(waits(Purpose::Poll), Some(Duration::from_secs(60)));
        budget.note(StatusCode::OK, window(0.0, 60));
        assert_eq!(waits(Purpose::Answer), Some(Duration::from_secs(60)));
        *now.lock().unwrap() += chrono::Duration::seconds(60);
        assert_eq!(waits(Purpose::Poll), None, "a new window");
        budget.note(
            StatusCode::OK,
            Limits {
                remaining: Some(0.0),
                ..Limits::default()
            },
        );
        assert_eq!(waits(Purpose::Poll), None, "half a header changes nothing");
        budget.note(StatusCode::TOO_MANY_REQUESTS, Limits::default());
        assert_eq!(
            waits(Purpose::Poll),
            None,
            "no pause on refusal unless asked for"
        );
    }

    #[test]
    fn a_refusal_pauses_everything_for_as_long_as_asked_at_most_an_hour() {
        let (clock, now) = clock();
        let mut budget = Budget::new(1).pausing_on_refusal(Duration::from_secs(60));
        budget.set_clock(clock);
        budget.note(
            StatusCode::TOO_MANY_REQUESTS,
            Limits {
                retry_after: Some(Duration::from_secs(30)),
                ..Limits::default()
            },
        );
        assert_eq!(budget.wait(), Some(Duration::from_secs(30)));
        assert!(budget.check("N", Purpose::Answer).is_err());
        *now.lock().unwrap() += chrono::Duration::seconds(31);
        assert!(budget.check("N", Purpose::Answer).is_ok());
        budget.note(StatusCode::BAD_GATEWAY, Limits::default());
        assert_eq!(budget.wait(), Some(Duration::from_secs(60)), "the default");
        budget.note(
            StatusCode::SERVICE_UNAVAILABLE,
            Limits {
                retry_after: Some(Duration::MAX),
                ..Limits::default()
            },
        );
        assert_eq!(budget.wait(), Some(wait::LONGEST_WAIT));
    }

    #[test]
    fn headers_in_each_form_are_read_and_bounded() {
        let now = Utc::now();
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        let reddit = RateHeaders {
            remaining: "x-ratelimit-remaining",
            reset: "x-ratelimit-reset",
            form: Reset::SecondsFromNow,
        };
        let limits = reddit.read(
            &headers(&[
                ("x-ratelimit-remaining", "3.0"),
                ("x-ratelimit-reset", "300"),
            ]),
            now,
        );
        assert_eq!(limits.remaining, Some(3.0));
        assert_eq!(limits.wait(now), Some(Duration::from_secs(300)));
        let huge = reddit.read(&headers(&[("x-ratelimit-reset", "1e300")]), now);
        assert_eq!(huge.wait(now), Some(wait::LONGEST_WAIT));
        let unix = RateHeaders {
            form: Reset::UnixSeconds,
            ..reddit
        };
        let far = unix.read(&headers(&[("x-ratelimit-reset", "99999999999999")]), now);
        assert_eq!(far.wait(now), None, "beyond any date is unreadable");
        let year_3000 = unix.read(&headers(&[("x-ratelimit-reset", "32503680000")]), now);
        assert_eq!(year_3000.wait(now), Some(wait::LONGEST_WAIT));
        let rfc = RateHeaders {
            form: Reset::Rfc3339,
            ..reddit
        };
        let at = (now + chrono::Duration::seconds(90)).to_rfc3339();
        let limits = rfc.read(
            &headers(&[("x-ratelimit-reset", &at), ("retry-after", "5")]),
            now,
        );
        assert_eq!(
            limits.wait(now),
            Some(Duration::from_secs(5)),
            "Retry-After first"
        );
        assert!(RateHeaders::NONE.read(&headers(&[]), now) == Limits::default());
    }
}
