//! Posting an answer (`/api/comment`) once: Reddit takes no idempotency key, so before posting
//! again the brand's latest comments are read for this answer under this parent (the outbox
//! may have crashed between Reddit's "ok" and recording it). Reddit's refusals come inside a
//! 200: `RATELIMIT` is retried after the wait Reddit names, anything else returns to the person.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::wire::{comment_link, fullname, text_of, Thing};
use super::{Reddit, SITE};
use crate::net::{read_json, wait, Failure, Purpose};
use crate::sources::Posted;

/// How many of the brand's latest comments are checked for an answer already posted.
const OWN_COMMENTS_CHECKED: u32 = 25;

impl Reddit {
    /// The brand's own comment under `parent` with this text, if an earlier try posted it.
    pub(super) async fn existing_answer(
        &self,
        parent: &str,
        text: &str,
    ) -> Result<Option<Posted>, Failure> {
        let username = &self.settings.username;
        let what = "Reddit (the brand's latest comments)";
        let response = self
            .call(what, Purpose::Answer, |http, api| {
                http.get(format!("{api}/user/{username}/comments")).query(&[
                    ("limit", OWN_COMMENTS_CHECKED.to_string()),
                    ("sort", "new".into()),
                    ("raw_json", "1".into()),
                ])
            })
            .await?;
        let page: Thing = read_json(what, response).await?;
        Ok(page
            .listing()
            .children
            .into_iter()
            .filter_map(|child| child.data)
            .find(|comment| {
                text_of(comment, "parent_id") == Some(parent)
                    && text_of(comment, "body").map(str::trim) == Some(text.trim())
            })
            .map(|comment| Posted {
                link: comment_link(&comment),
                id: fullname(&comment),
            }))
    }

    pub(super) async fn post_comment(&self, parent: &str, text: &str) -> Result<Posted, Failure> {
        #[derive(Deserialize)]
        struct Answer {
            json: Option<Body>,
        }
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            errors: Vec<Vec<Value>>,
            ratelimit: Option<f64>,
            data: Option<Things>,
        }
        #[derive(Deserialize)]
        struct Things {
            #[serde(default)]
            things: Vec<Thing>,
        }
        let what = "Reddit (posting the answer)";
        let response = self
            .call(what, Purpose::Answer, |http, api| {
                http.post(format!("{api}/api/comment")).form(&[
                    ("api_type", "json"),
                    ("thing_id", parent),
                    ("text", text),
                ])
            })
            .await?;
        let answer: Answer = read_json(what, response).await?;
        let body = answer
            .json
            .ok_or_else(|| Failure::retry("Reddit answered the comment without a `json` field"))?;
        // Reddit reports refusals inside a 200: [[code, message, field], ...].
        if let Some(error) = body.errors.first() {
            let part = |index: usize| error.get(index).and_then(Value::as_str).unwrap_or_default();
            let (code, message) = (part(0), part(1));
            if code == "RATELIMIT" {
                let wait = body
                    .ratelimit
                    .and_then(|secs| wait::seconds(secs.ceil()))
                    .or_else(|| wait_in_words(message));
                return Err(Failure::Retry {
                    reason: format!("Reddit says: {message}"),
                    after: wait,
                });
            }
            return Err(Failure::Permanent(format!(
                "Reddit refused the answer: {code}: {message}"
            )));
        }
        let comment = body
            .data
            .and_then(|data| data.things.into_iter().next())
            .and_then(|thing| thing.data);
        // In a quarantined subreddit Reddit creates the comment and returns none of it
        // (`"things": []`): the brand's latest comments say where it is. The answer is posted
        // either way; a failed read-back must not make the outbox post it again.
        if comment.is_none() {
            match self.existing_answer(parent, text).await {
                Ok(Some(posted)) => return Ok(posted),
                Ok(None) => tracing::warn!(
                    parent,
                    "Reddit took the answer without returning it, and the brand's latest comments do not show it; it is recorded as posted, without a link"
                ),
                Err(error) => tracing::warn!(
                    parent, %error,
                    "Reddit took the answer without returning it, and the brand's latest comments could not be read; it is recorded as posted, without a link"
                ),
            }
        }
        Ok(Posted {
            link: comment.as_ref().and_then(|comment| {
                text_of(comment, "permalink")
                    .map(|path| format!("{SITE}{path}"))
                    .or_else(|| {
                        text_of(comment, "id").map(|id| {
                            format!(
                                "{SITE}/comments/{}/_/{id}",
                                parent.trim_start_matches("t3_")
                            )
                        })
                    })
            }),
            id: comment.as_ref().and_then(fullname),
        })
    }
}

/// "you are doing that too much. try again in 5 minutes." -> 5 minutes (at most an hour).
fn wait_in_words(message: &str) -> Option<Duration> {
    let words: Vec<&str> = message.split_whitespace().collect();
    words.windows(2).find_map(|pair| {
        let count: u64 = pair[0].parse().ok()?;
        let unit = pair[1].trim_end_matches(['.', ',', '!']);
        let secs: u64 = match unit {
            "second" | "seconds" => 1,
            "minute" | "minutes" => 60,
            "hour" | "hours" => 3600,
            _ => return None,
        };
        Some(wait::clamp(Duration::from_secs(count.saturating_mul(secs))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratelimit_messages_give_the_wait() {
        assert_eq!(
            wait_in_words("you are doing that too much. try again in 5 minutes."),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            wait_in_words("try again in 1 second"),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            wait_in_words("try again in 99999999999999999 hours"),
            Some(wait::LONGEST_WAIT)
        );
        assert_eq!(wait_in_words("slow down"), None);
    }
}
