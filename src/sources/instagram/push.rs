//! The account's changes, pushed through Meta's webhooks: `comments` (a comment or reply on
//! the account's media; the same mention a poll makes of it, under the same id) and `mentions`
//! (the account @mentioned in someone else's caption or comment: see `mentions.rs`). Meta's
//! comment change carries no time and no link: the time is when Meta sent it, the link is read
//! from the media (and left out if that read fails: the card still goes out).

use chrono::Utc;
use serde::Deserialize;

use super::{Comment, From, Instagram, Watch, COMMENT_FIELDS};
use crate::domain::Mention;
use crate::net::{Failure, Purpose};
use crate::sources::Push;

#[derive(Debug, Deserialize)]
struct CommentChange {
    id: Option<String>,
    text: Option<String>,
    from: Option<From>,
    media: Option<MediaRef>,
    parent_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MediaRef {
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MentionChange {
    media_id: Option<String>,
    comment_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Permalink {
    permalink: Option<String>,
}

impl Instagram {
    pub(super) async fn pushed_change(&self, push: &Push) -> Result<Vec<Mention>, Failure> {
        let unreadable = |error: serde_json::Error| {
            Failure::Permanent(format!(
                "an Instagram `{}` change earshot cannot read: {error}",
                push.field
            ))
        };
        match push.field.as_str() {
            "comments" => {
                if !self.settings.watch.contains(&Watch::Comments) {
                    return Ok(Vec::new());
                }
                let change: CommentChange =
                    serde_json::from_value(push.value.clone()).map_err(unreadable)?;
                Ok(self
                    .pushed_comment(change, push)
                    .await?
                    .into_iter()
                    .collect())
            }
            "mentions" => {
                let change: MentionChange =
                    serde_json::from_value(push.value.clone()).map_err(unreadable)?;
                let media = graph_id(change.media_id.as_deref(), "media_id")?;
                let comment = match change.comment_id.as_deref() {
                    Some(comment) => Some(graph_id(Some(comment), "comment_id")?),
                    None => None,
                };
                let found = self.mentioned(media, comment, push.sent_at).await?;
                if found.is_none() {
                    tracing::warn!(source = %self.name, media, ?comment, "Instagram no longer shows a mention its webhook named (deleted, or comments turned off)");
                }
                Ok(found.into_iter().collect())
            }
            field => {
                tracing::debug!(source = %self.name, field, "an Instagram webhook field earshot does not read");
                Ok(Vec::new())
            }
        }
    }

    async fn pushed_comment(
        &self,
        change: CommentChange,
        push: &Push,
    ) -> Result<Option<Mention>, Failure> {
        let id = graph_id(change.id.as_deref(), "id")?.to_string();
        let media = change.media.and_then(|media| media.id);
        let media = graph_id(media.as_deref(), "media.id")?.to_string();
        let sent = push.sent_at.unwrap_or_else(Utc::now);
        let mut comment = Comment {
            id: Some(id.clone()),
            text: change.text,
            timestamp: Some(sent.format("%Y-%m-%dT%H:%M:%S+0000").to_string()),
            username: change.from.as_ref().and_then(|from| from.username.clone()),
            from: change.from,
            parent_id: change.parent_id,
            replies: None,
        };
        if comment.text.is_none() {
            // Meta left the text out: read the comment (the account's own media, so it may).
            comment = match self
                .graph
                .get_unless_gone(
                    "Instagram (a comment a webhook named)",
                    Purpose::Poll,
                    &id,
                    &[("fields", COMMENT_FIELDS.to_string())],
                )
                .await?
            {
                Some(read) => read,
                None => return Ok(None),
            };
        }
        if self.is_own(&comment) {
            return Ok(None);
        }
        let link = self.permalink(&media).await;
        Ok(comment.mention(&self.name, Some(&media), link.as_deref()))
    }

    /// The media's link, as a poll gives it; `None` (logged) if it cannot be read now.
    async fn permalink(&self, media: &str) -> Option<String> {
        let read: Result<Permalink, Failure> = self
            .graph
            .get(
                "Instagram (the media a comment is on)",
                Purpose::Poll,
                media,
                &[("fields", "permalink".to_string())],
            )
            .await;
        match read {
            Ok(read) => read.permalink,
            Err(error) => {
                tracing::warn!(source = %self.name, media, %error, "cannot read the link of a pushed comment's media; the card goes out without it");
                None
            }
        }
    }
}

/// A Graph id from a change: digits (it becomes part of a path).
fn graph_id<'a>(id: Option<&'a str>, field: &str) -> Result<&'a str, Failure> {
    match id {
        Some(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => Ok(id),
        Some(id) => Err(Failure::Permanent(format!(
            "`{id}` in an Instagram change's `{field}` is not a Graph id"
        ))),
        None => Err(Failure::Permanent(format!(
            "an Instagram change without `{field}`"
        ))),
    }
}
