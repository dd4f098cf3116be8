//! Answers as the Page (`POST /{id}/comments`), once: the Graph API takes no idempotency key,
//! so before a retry the parent's newest comments are read for the Page's own comment with this
//! text (an earlier try may have gone through with its response lost). And answered-detection:
//! a comment by the Page under the mention means someone answered on Facebook.

use serde::Deserialize;

use super::wire::Item;
use super::Facebook;
use crate::net::{Failure, Purpose};
use crate::sources::graph::{Created, Page};
use crate::sources::Posted;

/// The parent's newest comments read for an earlier delivery.
const READ_BACK: usize = 50;

impl Facebook {
    pub(super) async fn existing_answer(
        &self,
        parent: &str,
        text: &str,
    ) -> Result<Option<Posted>, Failure> {
        let what = "Facebook (the comments under the mention, for an answer already posted)";
        let page: Page<Item> = self
            .graph
            .get(
                what,
                Purpose::Answer,
                &format!("{parent}/comments"),
                &[
                    ("fields", "id,message,from{id},permalink_url".to_string()),
                    ("order", "reverse_chronological".to_string()),
                    ("limit", READ_BACK.to_string()),
                ],
            )
            .await?;
        Ok(page
            .data
            .into_iter()
            .find(|comment| {
                comment.by(&self.settings.page_id)
                    && comment.message.as_deref().map(str::trim) == Some(text.trim())
            })
            .and_then(|comment| {
                let id = comment.id?;
                Some(posted(id, comment.permalink_url))
            }))
    }

    pub(super) async fn post_comment(&self, parent: &str, text: &str) -> Result<Posted, Failure> {
        let what = "Facebook (posting the answer)";
        let created: Created = self
            .graph
            .post(what, &format!("{parent}/comments"), &[("message", text)])
            .await?;
        let id = created.id.filter(|id| !id.is_empty()).ok_or_else(|| {
            Failure::retry("Facebook took the answer but sent no comment id back")
        })?;
        Ok(posted(id, None))
    }

    /// A comment by the Page right below `id`.
    pub(super) async fn page_reply(&self, id: &str) -> Result<Option<String>, Failure> {
        #[derive(Deserialize)]
        struct Reply {
            id: Option<String>,
            from: Option<super::wire::From>,
            permalink_url: Option<String>,
        }
        let what = "Facebook (the replies below a mention)";
        let page: Option<Page<Reply>> = self
            .graph
            .get_unless_gone(
                what,
                Purpose::Poll,
                &format!("{id}/comments"),
                &[
                    ("fields", "id,from{id,name},permalink_url".to_string()),
                    ("limit", "100".to_string()),
                ],
            )
            .await?;
        // A mention that was deleted is left as it is.
        let Some(page) = page else { return Ok(None) };
        let page_id = &self.settings.page_id;
        Ok(page
            .data
            .into_iter()
            .find(|reply| {
                reply
                    .from
                    .as_ref()
                    .and_then(|from| from.id.as_deref())
                    .is_some_and(|from| from == page_id)
            })
            .map(|reply| {
                let link = reply.permalink_url.unwrap_or_else(|| {
                    format!("https://www.facebook.com/{}", reply.id.unwrap_or_default())
                });
                format!("reply by the Page on Facebook: {link}")
            }))
    }
}

fn posted(id: String, permalink: Option<String>) -> Posted {
    Posted {
        link: Some(permalink.unwrap_or_else(|| format!("https://www.facebook.com/{id}"))),
        id: Some(id),
    }
}
