//! Answers: a reply to a comment on the account's media (`POST /{comment}/replies`, under the
//! top-level comment, naming the person answered when it is a reply), read back before any
//! retry; answers to @mentions are in `mentions.rs`.

use serde::Deserialize;

use super::mentions::Target;
use super::{Comment, Instagram, COMMENT_FIELDS};
use crate::domain::Mention;
use crate::net::{Failure, Purpose};
use crate::sources::graph::{Created, Page};
use crate::sources::{Posted, SourceError};

impl Instagram {
    /// An answer, posted once; `again`: an earlier attempt under this key may have posted it.
    pub(super) async fn answer(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
        again: bool,
    ) -> Result<Posted, SourceError> {
        let Some(target) = Target::of(mention) else {
            return Err(SourceError::Permanent(format!(
                "`{}` is not an Instagram id",
                mention.key.id
            )));
        };
        let posted = match target {
            // Tagged media, and captions and comments elsewhere that @mention the account.
            Target::Media { media } => {
                self.answer_mention(idempotency_key, mention, (&media, None), text, again)
                    .await?
            }
            Target::MentionedComment { media, comment } => {
                self.answer_mention(
                    idempotency_key,
                    mention,
                    (&media, Some(&comment)),
                    text,
                    again,
                )
                .await?
            }
            Target::Comment => {
                let (top, text) = self.target(mention, text).await?;
                if let Some(max) = super::TRAITS.network().max_mentions() {
                    if crate::domain::length::at_mentions(&text) > max {
                        return Err(SourceError::Permanent(format!(
                            "the answer names more than {max} accounts once the person answered is named"
                        )));
                    }
                }
                self.answers
                    .post(
                        idempotency_key,
                        || self.existing_reply(&top, &text),
                        || self.post_reply(&top, &text),
                    )
                    .await?
            }
        };
        if let (Some(id), Ok(mut own)) = (&posted.id, self.own.lock()) {
            own.insert(id.clone());
        }
        Ok(Posted {
            link: posted.link.or_else(|| mention.link.clone()),
            id: posted.id,
        })
    }

    /// What an answer goes under and says: a reply to a reply goes under the top-level
    /// comment, naming the person answered.
    async fn target(&self, mention: &Mention, text: &str) -> Result<(String, String), Failure> {
        #[derive(Deserialize)]
        struct Parent {
            parent_id: Option<String>,
            username: Option<String>,
        }
        let id = &mention.key.id;
        let parent: Parent = self
            .graph
            .get(
                "Instagram (the comment answered)",
                Purpose::Answer,
                id,
                &[("fields", "parent_id,username".to_string())],
            )
            .await?;
        match parent.parent_id.filter(|parent| !parent.is_empty()) {
            Some(top) => {
                let handle = parent
                    .username
                    .or_else(|| Some(mention.author.handle.clone()).filter(|h| !h.is_empty()));
                let text = match handle {
                    Some(handle) if !text.contains(&format!("@{handle}")) => {
                        format!("@{handle} {}", text.trim())
                    }
                    _ => text.trim().to_string(),
                };
                Ok((top, text))
            }
            None => Ok((id.clone(), text.trim().to_string())),
        }
    }

    async fn existing_reply(&self, top: &str, text: &str) -> Result<Option<Posted>, Failure> {
        let page: Page<Comment> = self
            .graph
            .get(
                "Instagram (the replies, for an answer already posted)",
                Purpose::Answer,
                &format!("{top}/replies"),
                &[("fields", COMMENT_FIELDS.to_string())],
            )
            .await?;
        Ok(page
            .data
            .into_iter()
            .find(|reply| {
                reply.by(&self.settings.user_id)
                    && reply.text.as_deref().map(str::trim) == Some(text.trim())
            })
            .and_then(|reply| reply.id)
            .map(|id| Posted {
                link: None,
                id: Some(id),
            }))
    }

    async fn post_reply(&self, top: &str, text: &str) -> Result<Posted, Failure> {
        let created: Created = self
            .graph
            .post(
                "Instagram (posting the answer)",
                &format!("{top}/replies"),
                &[("message", text)],
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
