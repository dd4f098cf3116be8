//! Answered-detection: a reply by the brand's own account directly below the mention means
//! someone answered outside earshot.

use reqwest::Method;

use super::records::PostView;
use super::session::Failure;
use super::Bluesky;
use crate::domain::Mention;
use crate::sources::SourceError;

impl Bluesky {
    /// The direct replies below the post (`getPostThread`, depth 1): one by the brand's own
    /// account means someone answered outside earshot.
    pub(super) async fn brand_reply(
        &self,
        mention: &Mention,
    ) -> Result<Option<String>, SourceError> {
        let me = self.session().await?;
        let nsid = "app.bsky.feed.getPostThread";
        let found: ThreadResponse = match self
            .xrpc_or_missing(
                Method::GET,
                nsid,
                &[
                    ("uri", mention.key.id.clone()),
                    ("depth", "1".to_string()),
                    ("parentHeight", "0".to_string()),
                ],
                None,
                true,
            )
            .await
        {
            Ok(found) => found,
            // Deleted since (400 `NotFound`): nothing left to detect, and no error to repeat.
            Err(Failure::NotFound(_)) => return Ok(None),
            Err(failure) => return Err(failure.into_error(nsid)),
        };
        Ok(found
            .thread
            .replies
            .into_iter()
            .filter_map(|reply| reply.post)
            .find(|post| post.author.did == me.did)
            .map(|post| {
                format!(
                    "reply by @{} on Bluesky: {}",
                    me.handle,
                    self.post_link(&me, &post.uri)
                )
            }))
    }
}

/// `app.bsky.feed.getPostThread`: only the direct replies matter here. Replies that are
/// blocked or deleted come without a post and are skipped.
#[derive(serde::Deserialize)]
struct ThreadResponse {
    thread: ThreadNode,
}

#[derive(serde::Deserialize)]
struct ThreadNode {
    #[serde(default)]
    replies: Vec<ThreadReply>,
}

#[derive(serde::Deserialize)]
struct ThreadReply {
    post: Option<PostView>,
}
