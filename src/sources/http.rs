//! What the polled networks (Hacker News, Reddit, X) share on the wire: sending a request and
//! sorting its failure, reading JSON without trusting it, the rate-limit budget their headers
//! announce, and secrets that never reach a log.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::{http_status_error, retry_after, SourceError};

/// A token or password from the config: usable, but never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"…\"")
    }
}

/// Sends `request` and checks its status: a network failure is worth retrying, an HTTP failure
/// is sorted by status. `what` names the call in errors ("Hacker News search"); `wait` reads how
/// long the server asked to wait, for networks whose rate-limit headers say more than
/// `Retry-After`.
pub async fn send(
    what: &str,
    request: reqwest::RequestBuilder,
    wait: impl Fn(&reqwest::header::HeaderMap) -> Option<Duration>,
) -> Result<reqwest::Response, SourceError> {
    check_status(what, transmit(what, request).await?, wait).await
}

/// Sends `request`; only a failure to get any answer is an error here.
pub async fn transmit(
    what: &str,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, SourceError> {
    request.send().await.map_err(|error| SourceError::Retry {
        reason: format!("cannot reach {what}: {}", error_chain(&error)),
        after: None,
    })
}

/// The response if it succeeded; otherwise an error sorted by status, with a short piece of
/// the body, which usually says why (a deleted post, a revoked token).
pub async fn check_status(
    what: &str,
    response: reqwest::Response,
    wait: impl Fn(&reqwest::header::HeaderMap) -> Option<Duration>,
) -> Result<reqwest::Response, SourceError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers();
    let after = retry_after(headers).or_else(|| wait(headers));
    let mut error = http_status_error(what, status, after);
    let body = response.text().await.unwrap_or_default();
    let detail = body.trim();
    if !detail.is_empty() {
        let detail: String = detail.chars().take(300).collect();
        match &mut error {
            SourceError::Retry { reason, .. } | SourceError::Permanent(reason) => {
                reason.push_str(": ");
                reason.push_str(&detail);
            }
        }
    }
    Err(error)
}

/// The body as `T`. A body that does not parse is the network's fault, not the person's: it
/// is reported and the poll tried again later, with the cursor where it was.
pub async fn read_json<T: DeserializeOwned>(
    what: &str,
    response: reqwest::Response,
) -> Result<T, SourceError> {
    let body = response.bytes().await.map_err(|error| SourceError::Retry {
        reason: format!("reading {what} failed: {}", error_chain(&error)),
        after: None,
    })?;
    serde_json::from_slice(&body).map_err(|error| SourceError::Retry {
        reason: format!("{what} sent a response earshot cannot read: {error}"),
        after: None,
    })
}

/// A header as a number ("42", "599.0").
pub fn header_number(headers: &reqwest::header::HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
}

/// The requests a network still allows in its current window, as its headers last said.
/// When they run low, earshot waits for the window to reset instead of being cut off (Reddit
/// bans clients that keep going at zero; X charges for requests that fail).
#[derive(Debug)]
pub struct Budget {
    /// Keep this many requests in hand: answers must still get through.
    reserve: f64,
    state: Mutex<Option<Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    remaining: f64,
    resets_at: Instant,
}

impl Budget {
    pub fn new(reserve: u32) -> Budget {
        Budget {
            reserve: f64::from(reserve),
            state: Mutex::new(None),
        }
    }

    /// Whether a poll may spend a request now; otherwise how long until the window resets.
    pub fn check_poll(&self) -> Result<(), Duration> {
        self.check(self.reserve)
    }

    /// Whether an answer may spend a request now (answers may use the reserve).
    pub fn check_answer(&self) -> Result<(), Duration> {
        self.check(0.0)
    }

    fn check(&self, keep: f64) -> Result<(), Duration> {
        let Ok(state) = self.state.lock() else {
            return Ok(());
        };
        match *state {
            Some(window) if window.remaining <= keep => {
                let now = Instant::now();
                if window.resets_at > now {
                    Err(window.resets_at - now)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Notes what a response said: requests left and seconds until the window resets.
    pub fn record(&self, remaining: Option<f64>, resets_in: Option<Duration>) {
        let (Some(remaining), Some(resets_in)) = (remaining, resets_in) else {
            return;
        };
        if let Ok(mut state) = self.state.lock() {
            *state = Some(Window {
                remaining,
                resets_at: Instant::now() + resets_in,
            });
        }
    }
}

pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// "https://api.example/v1/" and "https://api.example/v1" both mean the same base.
pub fn base_url(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_budget_holds_polls_back_until_the_window_resets() {
        let budget = Budget::new(5);
        assert_eq!(budget.check_poll(), Ok(()), "nothing known yet");
        budget.record(Some(50.0), Some(Duration::from_secs(100)));
        assert_eq!(budget.check_poll(), Ok(()));
        budget.record(Some(5.0), Some(Duration::from_secs(100)));
        assert_eq!(budget.check_poll(), Err(Duration::from_secs(100)));
        assert_eq!(budget.check_answer(), Ok(()), "answers may use the reserve");
        tokio::time::advance(Duration::from_secs(40)).await;
        assert_eq!(budget.check_poll(), Err(Duration::from_secs(60)));
        budget.record(Some(0.0), Some(Duration::from_secs(60)));
        assert_eq!(budget.check_answer(), Err(Duration::from_secs(60)));
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(budget.check_poll(), Ok(()), "a new window");
        budget.record(None, Some(Duration::from_secs(1)));
        assert_eq!(budget.check_poll(), Ok(()), "half a header changes nothing");
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "\"…\"");
        assert_eq!(secret.expose(), "hunter2");
    }
}
