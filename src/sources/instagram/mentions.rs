//! @mentions of the account in other people's captions and comments. Meta offers no listing of
//! them: they arrive only through the `mentions` webhook, which names the media (and the
//! comment) and nothing more. The rest is read by field expansion on the account
//! (`mentioned_media.media_id(…)`, `mentioned_comment.comment_id(…)`), since the account may not
//! read someone else's media or comment by its id. Answers are `POST /{ig-user-id}/mentions`
//! with `media_id` (and `comment_id`); they appear under the caption or the comment.
//!
//! A comment mention is keyed `{media}_{comment}`: the answer needs both ids, and no poll can
//! find such a comment (it is on media the account does not own), so no other key is owed.
//!
//! Meta's reference lists no link for either (`mentioned_media` has no `permalink` or
//! `shortcode`; its `media_url` is the picture file, not the post): the card links to the
//! profile of the account whose post it is (`username`, a listed field), where the post is.
//! What is read back under a mention before a retry, and for answered-detection, is in
//! `thread.rs`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::Instagram;
use crate::domain::{Author, Mention, MentionKey};
use crate::net::{Failure, Purpose};
use crate::sources::graph::{parse_time, Created};
use crate::sources::Posted;

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
struct Mentioned {
    text: Option<String>,
    caption: Option<String>,
    timestamp: Option<String>,
    username: Option<String>,
    /// The media a mentioned comment is on (its owner's `username`).
    media: Option<Owner>,
}

#[derive(Debug, Deserialize)]
struct Owner {
    username: Option<String>,
}

/// `GET /{user}?fields=…`: the account's node with one expanded field.
#[derive(Debug, Deserialize)]
struct Account {
    mentioned_comment: Option<Mentioned>,
    mentioned_media: Option<Mentioned>,
}

fn profile(handle: &str) -> Option<String> {
    (!handle.is_empty()).then(|| format!("https://www.instagram.com/{handle}/"))
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
            Some(comment) => format!(
                "mentioned_comment.comment_id({comment}){{id,text,timestamp,username,media{{id,username}}}}"
            ),
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
        let Some(found) = found else {
            return Ok(None);
        };
        let (id, in_reply_to) = match comment {
            Some(comment) => (format!("{media}_{comment}"), Some(media.to_string())),
            None => (media.to_string(), None),
        };
        let handle = found.username.unwrap_or_default();
        // A caption's author owns the post; a comment is on someone's post, named by `media`.
        let owner = match comment {
            Some(_) => found.media.and_then(|media| media.username),
            None => Some(handle.clone()),
        };
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
                profile: profile(&handle),
                handle,
                name: None,
            },
            text,
            link: owner.as_deref().and_then(profile),
            created_at,
            matched: Vec::new(),
            language: None,
            in_reply_to,
            direct: true,
            review: None,
        }))
    }

    /// `POST /{user}/mentions`, once. A first attempt posts; one that may follow an earlier
    /// delivery (`again`) first reads the thread under the mention for the account's answer
    /// with this text (`thread.rs`), and where Meta lets nothing be read there it posts only if
    /// this process saw the earlier attempt refused. Otherwise the answer goes back to the
    /// person: a second post unseen could be a duplicate under the customer's comment.
    pub(super) async fn answer_mention(
        &self,
        idempotency_key: &str,
        mention: &Mention,
        (media, comment): (&str, Option<&str>),
        text: &str,
        again: bool,
    ) -> Result<Posted, Failure> {
        self.answers
            .post(
                idempotency_key,
                || async {
                    if !again {
                        return Ok(None);
                    }
                    match self.thread_under(media, comment).await? {
                        Some(thread) => Ok(thread.own_answer(text)),
                        None if self.was_refused(idempotency_key) => Ok(None),
                        None => Err(Failure::Permanent(format!(
                            "earshot sent this answer to Instagram before and never learnt whether it was posted, \
                             and Meta lets no app read the replies under a comment on someone else's post: \
                             look under the comment on Instagram{} and answer there if it is missing \
                             (earshot does not post it a second time unseen)",
                            mention.link.as_deref().map(|link| format!(" ({link})")).unwrap_or_default()
                        ))),
                    }
                },
                || async {
                    let posted = self.post_on_mention(media, comment, text).await;
                    self.note_attempt(idempotency_key, &posted);
                    posted
                },
            )
            .await
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
