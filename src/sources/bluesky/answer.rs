//! Posting an answer once: the reply record goes to a record key derived from the idempotency
//! key, so a retry first finds the record an earlier try created.

use reqwest::Method;
use serde_json::{json, Value};

use super::records::{PostView, PostsView, StrongRef};
use super::session::{Failure, Session};
use super::{record_key, reply, Bluesky};
use crate::domain::Mention;
use crate::sources::{Posted, SourceError};

impl Bluesky {
    /// A reply below the mention, in its thread, starting with an @-mention of its author.
    pub(super) async fn answer(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        let me = self.session().await?;
        let rkey = record_key(idempotency_key, mention.created_at);
        if let Some(uri) = self.existing_reply(&me, &rkey).await? {
            return Ok(Posted {
                link: Some(self.post_link(&me, &uri)),
                id: Some(uri),
            });
        }
        let Some(post) = self.current_post(&mention.key.id).await? else {
            return Err(SourceError::Permanent(
                "the post no longer exists on Bluesky (deleted, or its author blocked the brand's account)".into(),
            ));
        };
        let Some(cid) = post.cid.clone() else {
            return Err(SourceError::Permanent(format!(
                "Bluesky gave no cid for {}",
                post.uri
            )));
        };
        let parent = StrongRef {
            uri: post.uri.clone(),
            cid,
        };
        let root = post
            .record
            .reply
            .as_ref()
            .and_then(|reply| reply.root.clone())
            .unwrap_or_else(|| parent.clone());
        let record = reply::reply_record(
            &post.author.handle,
            &post.author.did,
            text,
            &root,
            &parent,
            self.transport.budget().now(),
            mention.language.as_deref(),
        )
        .map_err(SourceError::Permanent)?;
        let body = json!({
            "repo": me.did,
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": record,
        });
        let created: Value = self
            .xrpc(
                Method::POST,
                "com.atproto.repo.createRecord",
                &[],
                Some(&body),
                false,
            )
            .await?;
        let uri = created
            .get("uri")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(Posted {
            link: Some(self.post_link(&me, uri)),
            id: Some(uri.to_string()).filter(|uri| !uri.is_empty()),
        })
    }

    /// The post as the AppView has it now: its cid and thread root, or `None` if deleted.
    async fn current_post(&self, uri: &str) -> Result<Option<PostView>, SourceError> {
        let found: PostsView = self
            .xrpc(
                Method::GET,
                "app.bsky.feed.getPosts",
                &[("uris", uri.to_string())],
                None,
                false,
            )
            .await?;
        Ok(found.posts.into_iter().find(|post| post.uri == uri))
    }

    /// Our own record at `rkey`, if an earlier try of this answer created it.
    async fn existing_reply(
        &self,
        me: &Session,
        rkey: &str,
    ) -> Result<Option<String>, SourceError> {
        let query = [
            ("repo", me.did.clone()),
            ("collection", "app.bsky.feed.post".to_string()),
            ("rkey", rkey.to_string()),
        ];
        let session = self.session().await?;
        match self
            .call::<Value>(
                Method::GET,
                "com.atproto.repo.getRecord",
                &query,
                None,
                Some(&session.access_jwt),
                false,
            )
            .await
        {
            Ok(record) => Ok(record
                .get("uri")
                .and_then(Value::as_str)
                .map(str::to_string)),
            Err(Failure::NotFound(_)) => Ok(None),
            Err(failure) => Err(failure.into_error("com.atproto.repo.getRecord")),
        }
    }
}
