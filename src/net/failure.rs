//! Why a request failed, in the three classes of [`super::status`].
//!
//! How the delivery errors relate: `Failure` is what the toolkit says about one request.
//! Sources turn it into [`crate::sources::SourceError`] and chats into
//! [`crate::chat::ChatError`] (both `From<Failure>`): the same two classes, retry later (with the
//! server's bounded wait) or needs a person, because by the time an error leaves a source or a
//! chat the token has already been renewed once. The outbox reads both the same way: retry with
//! capped backoff, at least as long as the server asked, or hand it to a person.

use std::time::Duration;

use super::status::Class;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Try again later; `after` is what the server asked, already at most an hour.
    #[error("{reason}")]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Retrying cannot help: a person must look.
    #[error("{0}")]
    Permanent(String),
    /// The server refused the credentials; the transport renews them once before giving up.
    #[error("{0}")]
    TokenExpired(String),
}

impl Failure {
    /// A failure of `class` (never [`Class::Success`]).
    pub fn of(class: Class, reason: String, after: Option<Duration>) -> Failure {
        match class {
            Class::RetryLater => Failure::Retry { reason, after },
            Class::TokenExpired => Failure::TokenExpired(reason),
            Class::Success | Class::NeedsPerson => Failure::Permanent(reason),
        }
    }

    /// Worth retrying, with no wait named: the network did not answer, or answered garbage.
    pub fn retry(reason: impl Into<String>) -> Failure {
        Failure::Retry {
            reason: reason.into(),
            after: None,
        }
    }

    /// A request that got no answer: refused connection, reset, timeout. Always retried.
    pub fn unreachable(what: &str, error: &reqwest::Error) -> Failure {
        let timed_out = if error.is_timeout() {
            " (timed out)"
        } else {
            ""
        };
        Failure::retry(format!(
            "cannot reach {what}{timed_out}: {}",
            error_chain(error)
        ))
    }

    pub fn reason(&self) -> &str {
        match self {
            Failure::Retry { reason, .. }
            | Failure::Permanent(reason)
            | Failure::TokenExpired(reason) => reason,
        }
    }

    /// The same failure with more said about it.
    pub fn with_detail(mut self, detail: &str) -> Failure {
        if !detail.is_empty() {
            match &mut self {
                Failure::Retry { reason, .. }
                | Failure::Permanent(reason)
                | Failure::TokenExpired(reason) => {
                    reason.push_str(": ");
                    reason.push_str(detail);
                }
            }
        }
        self
    }
}

/// An error and its causes, one line.
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
