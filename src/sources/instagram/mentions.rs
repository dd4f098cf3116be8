//! @mentions of the account in other people's captions and comments. Meta offers no listing of
//! them: they arrive only through the `mentions` webhook, which names the media (and the
//! comment) and nothing more. The rest is read by field expansion on the account
//! (`mentioned_media.media_id(…)`, `mentioned_comment.comment_id(…)`), since the account may not
//! read someone else's media or comment by its id. Answers are `POST /{ig-user-id}/mentions`
//! with `media_id` (and `comment_id`); they appear under the caption or the comment.
//!
//! A comment mention is keyed `{media}_{comment}`: the answer needs both ids, and no poll can
//! find such a comment (it is on media the account does not own), so no other key is owed.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Comment, Instagram};
use crate::domain::{Author, Mention, MentionKey};
use crate::net::{Failure, Purpose};
use crate::sources::graph::{parse_time, Created, Page};
use crate::sources::Posted;

/// Comments (or replies) read back for an earlier delivery of an answer.
const READ_BACK: usize = 50;

/// What an answer to an Instagram mention goes under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A comment or reply on the account's own media: `/replies`.
    Comment,
    /// Media whose caption @mentions the account, or that tags it: `/mentions` with `media_id`.
    Media { media: String },
    /// A comment elsewhere that @mentions the account: `/mentions` with both ids.
    MentionedComment { media: String, comment: String },
}

impl Target {
    pub(super) fn of(mention: &Mention) -> Option<Target> {
        let id = mention.key.id.as_str();
        let digits = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
        match id.split_once('_') {
            Some((media, comment)) if digits(media) && digits(comment) => {
                Some(Target::MentionedComment {
                    media: media.to_string(),
                    comment: comment.to_string(),
                })
            }
            Some(_) => None,
            None if !digits(id) => None,
            None if mention.in_reply_to.is_none() => Some(Target::Media {
                media: id.to_string(),
            }),
            None => Some(Target::Comment),
        }
    }
}

#[derive(Debug, Deserialize)]
struct MentionedText {
    text: Option<String>,
    caption: Option<String>,
    timestamp: Option<String>,
    username: Option<String>,
}

/// `GET /{user}?fields=…`: the account's node with one expanded field.
#[derive(Debug, Deserialize)]
struct Account {
    username: Option<String>,
    mentioned_comment: Option<Thread>,
    mentioned_media: Option<Thread>,
}

/// A mentioned comment's replies, or mentioned media's comments (read-back), or its text.
#[derive(Debug, Deserialize)]
struct Thread {
    #[serde(flatten)]
    text: MentionedText,
    replies: Option<Page<Comment>>,
    comments: Option<Page<Comment>>,
}

impl Instagram {
    /// The mention a `mentions` change names, read from Graph; `None` when Meta no longer shows
    /// it (deleted, or comments turned off on the media).
    pub(super) async fn mentioned(
        &self,
        media: &str,
        comment: Option<&str>,
        sent_at: Option<DateTime<Utc>>,
    ) -> Result<Option<Mention>, Failure> {
        let fields = match comment {
            Some(comment) => {
                format!("mentioned_comment.comment_id({comment}){{id,text,timestamp,username}}")
            }
            None => format!("mentioned_media.media_id({media}){{id,caption,timestamp,username}}"),
        };
        let account: Option<Account> = self
            .graph
            .get_unless_gone(
                "Instagram (a mention a webhook named)",
                Purpose::Poll,
                &self.settings.user_id,
                &[("fields", fields)],
            )
            .await?;
        let found = account.and_then(|account| match comment {
            Some(_) => account.mentioned_comment,
            None => account.mentioned_media,
        });
        let Some(Thread { text: found, .. }) = found else {
            return Ok(None);
        };
        let (id, in_reply_to) = match comment {
            Some(comment) => (format!("{media}_{comment}"), Some(media.to_string())),
            None => (media.to_string(), None),
        };
        let handle = found.username.unwrap_or_default();
        let text = found
            .text
            .or(found.caption)
            .filter(|text| !text.trim().is_empty())
            .unwrap_or_else(|| "(mentioned the account without text: open Instagram)".into());
        let created_at = found
            .timestamp
            .as_deref()
            .and_then(parse_time)
            .or(sent_at)
            .unwrap_or_else(Utc::now);
        Ok(Some(Mention {
            key: MentionKey::new(&self.name, id),
            network: super::TRAITS.network(),
            author: Author {
                profile: (!handle.is_empty())
                    .then(|| format!("https://www.instagram.com/{handle}/")),
                handle,
                name: None,
            },
            text,
            link: None,
            created_at,
            matched: Vec::new(),
            language: None,
            in_reply_to,
            direct: true,
            review: None,
        }))
    }

    /// `POST /{user}/mentions`, once: before posting, the comments (or replies) under the
    /// mention are read for the account's own answer with this text.
    pub(super) async fn answer_mention(
        &self,
        idempotency_key: &str,
        media: &str,
        comment: Option<&str>,
        text: &str,
    ) -> Result<Posted, Failure> {
        self.answers
            .post(
                idempotency_key,
                || async {
                    match self.existing_mention_answer(media, comment, text).await {
                        // Meta's reference lists no reply field on every mention kind: a read
                        // it refuses cannot tell, and posting is what the person asked for.
                        Err(Failure::Permanent(reason)) => {
                            tracing::warn!(source = %self.name, %reason, "cannot read an Instagram mention back before answering; posting");
                            Ok(None)
                        }
                        other => other,
                    }
                },
                || self.post_on_mention(media, comment, text),
            )
            .await
    }

    async fn existing_mention_answer(
        &self,
        media: &str,
        comment: Option<&str>,
        text: &str,
    ) -> Result<Option<Posted>, Failure> {
        let listing = format!("limit({READ_BACK}){{id,text,username}}");
        let fields = match comment {
            Some(comment) => {
                format!("username,mentioned_comment.comment_id({comment}){{replies.{listing}}}")
            }
            None => format!("username,mentioned_media.media_id({media}){{comments.{listing}}}"),
        };
        let account: Account = self
            .graph
            .get(
                "Instagram (the comments under a mention, for an answer already posted)",
                Purpose::Answer,
                &self.settings.user_id,
                &[("fields", fields)],
            )
            .await?;
        let Some(own) = account.username else {
            return Ok(None);
        };
        let thread = match comment {
            Some(_) => account.mentioned_comment.and_then(|thread| thread.replies),
            None => account.mentioned_media.and_then(|thread| thread.comments),
        };
        Ok(thread
            .into_iter()
            .flat_map(|page| page.data)
            .find(|reply| {
                reply.username.as_deref() == Some(own.as_str())
                    && reply.text.as_deref().map(str::trim) == Some(text.trim())
            })
            .and_then(|reply| reply.id)
            .map(|id| Posted {
                link: None,
                id: Some(id),
            }))
    }

    async fn post_on_mention(
        &self,
        media: &str,
        comment: Option<&str>,
        text: &str,
    ) -> Result<Posted, Failure> {
        let user = &self.settings.user_id;
        let mut form = vec![("media_id", media)];
        if let Some(comment) = comment {
            form.push(("comment_id", comment));
        }
        form.push(("message", text));
        let created: Created = self
            .graph
            .post(
                "Instagram (answering a mention)",
                &format!("{user}/mentions"),
                &form,
            )
            .await?;
        let id = created
            .id
            .ok_or_else(|| Failure::retry("Instagram took the answer but sent no id back"))?;
        Ok(Posted {
            link: None,
            id: Some(id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(id: &str, in_reply_to: Option<&str>) -> Mention {
        Mention {
            key: MentionKey::new("instagram", id),
            network: crate::sources::instagram::TRAITS.network(),
            author: Author::default(),
            text: String::new(),
            link: None,
            created_at: Utc::now(),
            matched: Vec::new(),
            language: None,
            in_reply_to: in_reply_to.map(str::to_string),
            direct: true,
            review: None,
        }
    }

    #[test]
    fn the_key_says_where_an_answer_goes() {
        assert_eq!(
            Target::of(&mention("501", Some("900"))),
            Some(Target::Comment)
        );
        assert_eq!(
            Target::of(&mention("950", None)),
            Some(Target::Media {
                media: "950".into()
            })
        );
        assert_eq!(
            Target::of(&mention("960_1790", Some("960"))),
            Some(Target::MentionedComment {
                media: "960".into(),
                comment: "1790".into()
            })
        );
        for bad in ["", "12/3", "1_", "_2", "a_1", "1_2_3", "../me"] {
            assert_eq!(Target::of(&mention(bad, None)), None, "{bad}");
        }
    }
}
