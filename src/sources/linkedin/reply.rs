//! Answers as the organization, posted once: the thread is read for the same text before a
//! retry posts again (LinkedIn takes no idempotency key).

use serde_json::json;

use super::wire::{self, Comment};
use super::{encode, LinkedIn};
use crate::domain::Mention;
use crate::net::{Failure, Purpose};
use crate::sources::Posted;

impl LinkedIn {
    /// Under a comment: a reply (`parentComment`) on the comment's post; under a post: a
    /// top-level comment. Posted once: the thread is read for the same text first.
    pub(super) async fn answer(
        &self,
        mention: &Mention,
        text: &str,
        key: &str,
    ) -> Result<Posted, Failure> {
        let id = mention.key.id.as_str();
        let post = mention
            .in_reply_to
            .clone()
            .unwrap_or_else(|| id.to_string());
        let (target, parent) = if id.starts_with("urn:li:comment:") {
            (id.to_string(), Some(id.to_string()))
        } else {
            (id.to_string(), None)
        };
        // A reply to a reply goes to the top-level comment: LinkedIn nests one level.
        let object = wire::comment_object(id).unwrap_or(post);
        self.answers
            .post(
                key,
                || self.earlier(&target, text),
                || self.post(&target, &object, parent.as_deref(), text),
            )
            .await
    }

    /// The organization's comment with this text under `target`, if it is there already.
    async fn earlier(&self, target: &str, text: &str) -> Result<Option<Posted>, Failure> {
        let comments = self.comments_of(target).await?;
        Ok(comments
            .iter()
            .find(|c| {
                c.actor.as_deref() == Some(self.settings.organization.as_str())
                    && c.message
                        .as_ref()
                        .and_then(|m| m.text.as_deref())
                        .map(str::trim)
                        == Some(text.trim())
            })
            .map(|c| Posted {
                link: None,
                id: c.urn(),
            }))
    }

    async fn post(
        &self,
        target: &str,
        object: &str,
        parent: Option<&str>,
        text: &str,
    ) -> Result<Posted, Failure> {
        let mut body = json!({
            "actor": self.settings.organization,
            "object": object,
            "message": {"text": text},
        });
        if let Some(parent) = parent {
            body["parentComment"] = json!(parent);
        }
        let encoded = encode(target);
        let created: Comment = self
            .call("LinkedIn comment", Purpose::Answer, |http, api| {
                http.post(format!("{api}/socialActions/{encoded}/comments"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string())
            })
            .await?;
        Ok(Posted {
            link: None,
            id: created.urn(),
        })
    }
}
