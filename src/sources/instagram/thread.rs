//! What can be read under an @mention, for an answer already posted (before a retry) and for
//! answered-detection. Meta documents two reads, and neither covers every mention:
//!
//! - a caption mention: `mentioned_media.media_id(…){comments}`, a listed field of the
//!   mentioned media; the account's answer (`POST /{user}/mentions` with `media_id`) is one of
//!   those comments, known by the account's `username`;
//! - a comment mention: `mentioned_comment` lists no `replies` (its fields are `id`,
//!   `like_count`, `media`, `text`, `timestamp`), so the replies are read with
//!   `GET /{comment}/replies`, which Meta answers only for comments on the account's own media;
//!   for a comment on someone else's post it says the object cannot be loaded (code 100,
//!   subcode 33) and nothing can be known from there.
//!
//! A thread that cannot be read is `None`: answered-detection cannot tell, and a retry is
//! posted only when this process saw the earlier attempt refused before it could land
//! (`note_attempt`); otherwise the answer goes back to the person.

use serde::Deserialize;

use super::{Comment, Instagram, COMMENT_FIELDS};
use crate::net::{Failure, Purpose};
use crate::sources::graph::Page;
use crate::sources::Posted;

/// Comments read under a mention for the account's own.
const READ_BACK: usize = 50;

/// The comments under a mention, and how to know the account's own among them.
pub(super) struct Thread {
    comments: Vec<Comment>,
    user_id: String,
    /// The account's `username`, where the comments name authors only by it.
    username: Option<String>,
}

impl Thread {
    fn is_own(&self, comment: &Comment) -> bool {
        comment.by(&self.user_id)
            || self
                .username
                .as_deref()
                .is_some_and(|own| comment.author() == Some(own))
    }

    fn own_reply(&self) -> Option<&Comment> {
        self.comments.iter().find(|comment| self.is_own(comment))
    }

    /// The account's comment with this text: an earlier delivery of the answer.
    pub(super) fn own_answer(&self, text: &str) -> Option<Posted> {
        self.comments
            .iter()
            .find(|comment| {
                self.is_own(comment) && comment.text.as_deref().map(str::trim) == Some(text.trim())
            })
            .and_then(|comment| comment.id.clone())
            .map(|id| Posted {
                link: None,
                id: Some(id),
            })
    }
}

#[derive(Debug, Deserialize)]
struct Account {
    username: Option<String>,
    mentioned_media: Option<MediaComments>,
}

#[derive(Debug, Deserialize)]
struct MediaComments {
    comments: Option<Page<Comment>>,
}

impl Instagram {
    /// The comments under the caption of `media`, or the replies under `comment`; `None` when
    /// Meta lets none be read (see the module's note), or the mention is gone.
    pub(super) async fn thread_under(
        &self,
        media: &str,
        comment: Option<&str>,
    ) -> Result<Option<Thread>, Failure> {
        let user_id = self.settings.user_id.clone();
        let read = match comment {
            None => {
                let fields = format!(
                    "username,mentioned_media.media_id({media}){{comments.limit({READ_BACK}){{id,text,username}}}}"
                );
                let account: Result<Option<Account>, Failure> = self
                    .graph
                    .get_unless_gone(
                        "Instagram (the comments under a mention)",
                        Purpose::Answer,
                        &user_id,
                        &[("fields", fields)],
                    )
                    .await;
                account.map(|account| {
                    account.map(|account| Thread {
                        comments: account
                            .mentioned_media
                            .and_then(|media| media.comments)
                            .map(|page| page.data)
                            .unwrap_or_default(),
                        user_id: user_id.clone(),
                        username: account.username,
                    })
                })
            }
            Some(comment) => {
                let page: Result<Option<Page<Comment>>, Failure> = self
                    .graph
                    .get_unless_gone(
                        "Instagram (the replies under a mention)",
                        Purpose::Answer,
                        &format!("{comment}/replies"),
                        &[
                            ("fields", COMMENT_FIELDS.to_string()),
                            ("limit", READ_BACK.to_string()),
                        ],
                    )
                    .await;
                page.map(|page| {
                    page.map(|page| Thread {
                        comments: page.data,
                        user_id: user_id.clone(),
                        username: None,
                    })
                })
            }
        };
        match read {
            Ok(thread) => Ok(thread),
            // Meta refuses the read for good (comments turned off, not the account's media):
            // nothing can be known from the thread.
            Err(Failure::Permanent(reason)) => {
                tracing::debug!(source = %self.name, media, ?comment, %reason, "Instagram shows no thread under this mention");
                Ok(None)
            }
            Err(failure) => Err(failure),
        }
    }

    /// A comment by the account under the mention, as the history note says it.
    pub(super) async fn answered_mention(
        &self,
        media: &str,
        comment: Option<&str>,
        link: Option<&str>,
    ) -> Result<Option<String>, Failure> {
        let Some(thread) = self.thread_under(media, comment).await? else {
            return Ok(None);
        };
        Ok(thread.own_reply().map(|reply| {
            let by = reply
                .author()
                .map(str::to_string)
                .or_else(|| thread.username.clone())
                .map(|handle| format!("@{handle}"))
                .unwrap_or_else(|| "the account".into());
            let at = link.map(|link| format!(": {link}")).unwrap_or_default();
            format!("reply by {by} on Instagram{at}")
        }))
    }

    /// What an attempt to post under `key` showed: refused before it could land (a throttle
    /// or refusal that names when to try again, a request refused for good), or unknown.
    pub(super) fn note_attempt(&self, key: &str, posted: &Result<Posted, Failure>) {
        let Ok(mut refused) = self.refused.lock() else {
            return;
        };
        match posted {
            Err(Failure::Retry { after: Some(_), .. } | Failure::Permanent(_)) => {
                refused.insert(key.to_string());
            }
            _ => {
                refused.remove(key);
            }
        }
    }

    pub(super) fn was_refused(&self, key: &str) -> bool {
        self.refused
            .lock()
            .map(|refused| refused.contains(key))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::net::Secret;
    use crate::sources::instagram::{Settings, Watch};

    #[test]
    fn only_an_attempt_refused_before_it_could_land_may_be_posted_again_unseen() {
        let source = Instagram::new(
            "instagram".into(),
            Settings {
                user_id: "1784".into(),
                token: Secret::new("IGQ"),
                app_secret: None,
                watch: Watch::ALL.to_vec(),
                graph_url: "http://127.0.0.1:9".into(),
            },
            Duration::from_secs(120),
            reqwest::Client::new(),
        );
        let throttled = Err(Failure::Retry {
            reason: "code 4".into(),
            after: Some(Duration::from_secs(60)),
        });
        source.note_attempt("k", &throttled);
        assert!(source.was_refused("k"));
        // No answer at all: it may have landed.
        source.note_attempt("k", &Err(Failure::retry("timed out")));
        assert!(!source.was_refused("k"));
        source.note_attempt("k", &Err(Failure::Permanent("code 100".into())));
        assert!(source.was_refused("k"));
        assert!(!source.was_refused("other"));
    }
}
