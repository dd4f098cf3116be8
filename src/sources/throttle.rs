//! How long a network asked us to hold back: after a 429 or a 5xx nothing is sent until the
//! wait is over; when the rate-limit window is nearly spent, polls wait for the reset while
//! answers still go out. Time comes from an injected clock so tests need not sleep.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;

use super::SourceError;

/// Where the time comes from: the wall clock, or a test's.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How long to pause after a 429 or 5xx that says nothing about when to come back.
const DEFAULT_PAUSE: Duration = Duration::from_secs(60);

pub struct Throttle {
    clock: Clock,
    /// Polls stop when the requests left in the window fall to this many.
    reserve: u64,
    pause: Mutex<Pause>,
}

#[derive(Debug, Default)]
struct Pause {
    /// After a 429 or 5xx: no requests at all.
    all: Option<DateTime<Utc>>,
    /// The window is nearly spent: no polling, answers only.
    polls: Option<DateTime<Utc>>,
}

/// What a response said about the rate limit.
#[derive(Debug, Default, Clone, Copy)]
pub struct Limits {
    pub remaining: Option<u64>,
    pub reset: Option<DateTime<Utc>>,
    pub retry_after: Option<Duration>,
}

impl Throttle {
    pub fn new(reserve: u64) -> Throttle {
        Throttle {
            clock: Arc::new(Utc::now),
            reserve,
            pause: Mutex::new(Pause::default()),
        }
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Refuses to send while paused (`poll`: the request is a poll, not an answer).
    pub fn check(&self, host: &str, poll: bool) -> Result<(), SourceError> {
        let now = self.now();
        let pause = self.pause.lock().unwrap_or_else(|p| p.into_inner());
        let until = [pause.all, pause.polls.filter(|_| poll)]
            .into_iter()
            .flatten()
            .max();
        match until {
            Some(until) if until > now => Err(SourceError::Retry {
                reason: format!("{host} asked to wait until {until}"),
                after: (until - now).to_std().ok(),
            }),
            _ => Ok(()),
        }
    }

    /// Records what a response said: pauses everything after a 429 or 5xx (as long as the
    /// server asked, else [`DEFAULT_PAUSE`]), and pauses polls when the budget is nearly spent.
    pub fn note(&self, status: StatusCode, limits: Limits) {
        let now = self.now();
        let reset = limits.reset.filter(|reset| *reset > now);
        let mut pause = self.pause.lock().unwrap_or_else(|p| p.into_inner());
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let asked = limits
                .retry_after
                .and_then(|wait| chrono::Duration::from_std(wait).ok())
                .map(|wait| now + wait)
                .or(reset);
            let fallback = chrono::Duration::from_std(DEFAULT_PAUSE).unwrap_or_default();
            pause.all = Some(asked.unwrap_or(now + fallback));
        }
        if let (Some(remaining), Some(reset)) = (limits.remaining, reset) {
            if remaining <= self.reserve {
                pause.polls = Some(reset);
            }
        }
    }

    /// What is left of the pause on everything, for a `SourceError::Retry`.
    pub fn wait(&self) -> Option<Duration> {
        let pause = self.pause.lock().unwrap_or_else(|p| p.into_inner());
        pause
            .all
            .and_then(|until| (until - self.now()).to_std().ok())
    }
}
