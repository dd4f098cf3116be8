//! Graph API errors (`{"error":{"message","type","code","error_subcode","fbtrace_id"}}`) as a
//! failure a person can act on. The code decides, not the HTTP status (Meta sends most errors
//! as 400):
//! - 4, 17, 32, 613 and 80001-80014 are throttling: retried after Meta's estimate, or
//!   [`THROTTLE_WAIT`];
//! - 1 and 2 are Meta's own passing trouble: retried;
//! - 190 (and 102, 463, 467) is a token expired or revoked: the operator is told what to renew;
//! - 100 with subcode 33 is a post or comment that is gone (or out of reach): the answer goes
//!   back to the person;
//! - the rest (permissions, bad parameters) needs a person, with Meta's message.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use crate::net::transport::snippet;
use crate::net::{classify, Class, Failure};

/// How long to hold back after a throttling error when Meta names no time.
pub const THROTTLE_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub code: Option<i64>,
    pub error_subcode: Option<i64>,
    pub fbtrace_id: Option<String>,
    /// Meta's own wording for a person, when it has one.
    pub error_user_msg: Option<String>,
}

impl GraphError {
    /// The error in `body`, if it holds one.
    pub fn read(body: &[u8]) -> Option<GraphError> {
        #[derive(Deserialize)]
        struct Envelope {
            error: GraphError,
        }
        serde_json::from_slice::<Envelope>(body)
            .ok()
            .map(|envelope| envelope.error)
            .or_else(|| {
                // Not JSON: keep a piece of it for the message.
                let text = String::from_utf8_lossy(body);
                (!text.trim().is_empty()).then(|| GraphError {
                    message: snippet(&text),
                    ..GraphError::default()
                })
            })
    }

    fn describe(&self) -> String {
        let mut text = self.message.clone();
        if let Some(code) = self.code {
            text.push_str(&format!(" (code {code}"));
            if let Some(subcode) = self.error_subcode {
                text.push_str(&format!(", subcode {subcode}"));
            }
            if let Some(trace) = &self.fbtrace_id {
                text.push_str(&format!(", fbtrace_id {trace}"));
            }
            text.push(')');
        }
        text
    }
}

pub fn is_throttling(code: i64) -> bool {
    matches!(code, 4 | 17 | 32 | 613 | 80001..=80014)
}

/// The failure a Graph error means. `wait` is what the usage headers estimated.
pub fn failure(
    what: &str,
    status: StatusCode,
    error: Option<GraphError>,
    wait: Option<Duration>,
    renew_hint: &str,
) -> Failure {
    let Some(error) = error else {
        return Failure::of(
            http_class(status),
            format!("{what} answered {status}"),
            wait,
        );
    };
    let said = error.describe();
    match (error.code, error.error_subcode) {
        (Some(code), _) if is_throttling(code) => Failure::Retry {
            reason: format!("{what} is rate limited by Meta: {said}"),
            after: Some(wait.unwrap_or(THROTTLE_WAIT)),
        },
        (Some(1 | 2), _) => Failure::Retry {
            reason: format!("{what} failed on Meta's side: {said}"),
            after: wait,
        },
        (Some(190 | 102 | 463 | 467), _) => Failure::Permanent(format!(
            "Meta refused the access token for {what}: {said}. The token has expired or was revoked: create a new long-lived token, set {renew_hint} to it, and restart earshot"
        )),
        (Some(100), Some(33)) => Failure::Permanent(format!(
            "{what}: the post or comment is gone, or earshot may not see it any more: {said}"
        )),
        (Some(10 | 200..=299), _) => Failure::Permanent(format!(
            "{what}: the token lacks a permission it needs: {said}"
        )),
        _ if status.is_server_error() => Failure::Retry {
            reason: format!("{what} answered {status}: {said}"),
            after: wait,
        },
        _ => Failure::Permanent(format!("{what} was refused: {said}")),
    }
}

/// A status without a Graph error: 401 is not renewable here (the token is configured), so it
/// needs a person like any other refusal.
fn http_class(status: StatusCode) -> Class {
    match classify(status) {
        Class::TokenExpired => Class::NeedsPerson,
        class => class,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: i64, subcode: Option<i64>) -> Option<GraphError> {
        Some(GraphError {
            message: "m".into(),
            code: Some(code),
            error_subcode: subcode,
            ..GraphError::default()
        })
    }

    #[test]
    fn codes_decide_what_a_failure_means() {
        let bad = StatusCode::BAD_REQUEST;
        for code in [4, 17, 32, 613, 80001] {
            assert!(
                matches!(
                    failure("w", bad, error(code, None), None, "t"),
                    Failure::Retry { after: Some(after), .. } if after == THROTTLE_WAIT
                ),
                "{code}"
            );
        }
        let waited = failure("w", bad, error(4, None), Some(Duration::from_secs(60)), "t");
        assert!(
            matches!(waited, Failure::Retry { after: Some(after), .. } if after.as_secs() == 60)
        );
        let token = failure("w", bad, error(190, Some(463)), None, "FACEBOOK_PAGE_TOKEN");
        assert!(
            matches!(&token, Failure::Permanent(text) if text.contains("set FACEBOOK_PAGE_TOKEN") && text.contains("code 190, subcode 463")),
            "{token:?}"
        );
        let gone = failure("w", bad, error(100, Some(33)), None, "t");
        assert!(
            matches!(&gone, Failure::Permanent(text) if text.contains("is gone")),
            "{gone:?}"
        );
        assert!(matches!(
            failure(
                "w",
                StatusCode::INTERNAL_SERVER_ERROR,
                error(1, None),
                None,
                "t"
            ),
            Failure::Retry { .. }
        ));
        assert!(matches!(
            failure("w", StatusCode::BAD_GATEWAY, None, None, "t"),
            Failure::Retry { .. }
        ));
        assert!(matches!(
            failure("w", StatusCode::UNAUTHORIZED, None, None, "t"),
            Failure::Permanent(_)
        ));
        let read = GraphError::read(
            br#"{"error":{"message":"x","type":"OAuthException","code":190,"fbtrace_id":"A1"}}"#,
        )
        .unwrap();
        assert_eq!(
            (read.code, read.kind.as_deref()),
            (Some(190), Some("OAuthException"))
        );
    }
}
