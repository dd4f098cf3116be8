//! Google's error bodies (`{"error": {"code", "message", "status", "errors": [{"reason"}]}}`),
//! the same on every Google API: the failure a refusal means, with Google's own words in it.

use reqwest::Response;
use serde::Deserialize;

use crate::domain::text::plain_text;
use crate::net::transport::snippet;
use crate::net::{classify, Failure, Transport};

#[derive(Deserialize)]
struct Body {
    error: Option<Detail>,
}

#[derive(Deserialize)]
struct Detail {
    message: Option<String>,
    status: Option<String>,
    #[serde(default)]
    errors: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    reason: Option<String>,
}

/// The response if it succeeded; otherwise its failure. Google answers some rate limits with a
/// 403 (`rateLimitExceeded`, `quotaExceeded`): those are retried later, not handed to a person.
pub async fn check(
    transport: &Transport,
    what: &str,
    response: Response,
) -> Result<Response, Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let wait = transport.wait(&response);
    let body = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<Body>(&body)
        .ok()
        .and_then(|body| body.error);
    let reason = detail
        .as_ref()
        .and_then(|detail| detail.errors.iter().find_map(|item| item.reason.clone()));
    let label = detail
        .as_ref()
        .and_then(|detail| detail.status.clone())
        .or_else(|| reason.clone())
        .map(|label| format!(" ({label})"))
        .unwrap_or_default();
    let message = detail
        .and_then(|detail| detail.message)
        .map(|message| plain_text(&message))
        .unwrap_or_else(|| snippet(&body));
    let reason_text = format!("{what} answered {status}{label}: {message}");
    let throttled = matches!(
        reason.as_deref(),
        Some("rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded")
    );
    Err(if throttled {
        Failure::Retry {
            reason: reason_text,
            after: wait,
        }
    } else {
        Failure::of(classify(status), reason_text, wait)
    })
}
