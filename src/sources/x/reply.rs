//! Answers: `POST /2/tweets` with the user-context token, posted once (X takes no idempotency
//! key, so the brand's latest posts are read first for the same reply).

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::wire::{problem_detail, without_links, Page};
use super::{Endpoint, SITE, X};
use crate::domain::text::unescape_x;
use crate::domain::Mention;
use crate::net::{read_json, Failure, Secret};
use crate::sources::{Posted, SourceError};

/// How many of the brand's latest posts are checked for an answer already posted (X's minimum).
const OWN_POSTS_CHECKED: u32 = 5;

impl X {
    /// X takes no idempotency key. Before posting, the brand's latest posts are read: if an
    /// earlier try already posted this reply (the outbox crashed between X's "created" and
    /// recording it), that post is the answer. X also refuses a duplicate text outright; that
    /// refusal is checked the same way.
    pub(super) async fn answer(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        if !self.user_token.configured() {
            return Err(SourceError::Permanent(
                "earshot cannot post on X for this source: it has no `user_token` or `refresh_token` (an OAuth 2.0 user token with tweet.write)".into(),
            ));
        }
        let parent = mention.key.id.as_str();
        Ok(self
            .answers
            .post(
                idempotency_key,
                || self.existing_answer(parent, text),
                || self.post(parent, text),
            )
            .await?)
    }

    /// The brand's own recent reply to `parent` with this text, if an earlier try posted it.
    async fn existing_answer(&self, parent: &str, text: &str) -> Result<Option<Posted>, Failure> {
        let what = "X (the brand's latest posts)";
        let request = self
            .http
            .get(format!(
                "{}/2/users/{}/tweets",
                self.api(),
                self.settings.user_id
            ))
            .bearer_auth(self.settings.bearer_token.expose())
            .query(&[
                ("max_results", OWN_POSTS_CHECKED.to_string()),
                ("tweet.fields", "referenced_tweets".to_string()),
            ]);
        let response = self.call(what, Endpoint::OwnPosts, request).await?;
        let response = self.check(what, Endpoint::OwnPosts, response).await?;
        let page: Page = read_json(what, response).await?;
        Ok(page.data.into_iter().find_map(|post| {
            let replies_to_parent = post
                .get("referenced_tweets")
                .and_then(Value::as_array)
                .is_some_and(|references| {
                    references.iter().any(|reference| {
                        reference.get("type").and_then(Value::as_str) == Some("replied_to")
                            && reference.get("id").and_then(Value::as_str) == Some(parent)
                    })
                });
            let same_text = post
                .get("text")
                .and_then(Value::as_str)
                .is_some_and(|posted| without_links(&unescape_x(posted)) == without_links(text));
            let id = post.get("id").and_then(Value::as_str)?;
            (replies_to_parent && same_text).then(|| Posted {
                link: Some(format!("{SITE}/i/web/status/{id}")),
                id: Some(id.to_string()),
            })
        }))
    }

    /// Posts the answer with the user token; when X refuses the token (401), renews it once
    /// and posts again.
    async fn post(&self, parent: &str, text: &str) -> Result<Posted, Failure> {
        let token = self.user_token.current().await?;
        if let Some(posted) = self.post_with(parent, text, &token).await? {
            return Ok(posted);
        }
        let token = self.user_token.refused(&token).await?;
        match self.post_with(parent, text, &token).await? {
            Some(posted) => Ok(posted),
            None => Err(Failure::Permanent(
                "X refused the renewed user token too; check that it was granted tweet.write"
                    .into(),
            )),
        }
    }

    /// `None` when X refused the token.
    async fn post_with(
        &self,
        parent: &str,
        text: &str,
        user_token: &Secret,
    ) -> Result<Option<Posted>, Failure> {
        let what = "X (posting the answer)";
        let body = json!({"text": text, "reply": {"in_reply_to_tweet_id": parent}});
        let request = self
            .http
            .post(format!("{}/2/tweets", self.api()))
            .bearer_auth(user_token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let response = self.call(what, Endpoint::Post, request).await?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            return Ok(None);
        }
        if status == StatusCode::FORBIDDEN {
            let detail = problem_detail(response).await;
            if detail.to_lowercase().contains("duplicate") {
                if let Some(posted) = self.existing_answer(parent, text).await? {
                    return Ok(Some(posted));
                }
            }
            return Err(Failure::Permanent(format!(
                "X refused the answer: {detail}"
            )));
        }
        let response = self.check(what, Endpoint::Post, response).await?;
        #[derive(Deserialize)]
        struct Created {
            data: Option<Value>,
        }
        let created: Created = read_json(what, response).await?;
        let id = created
            .data
            .as_ref()
            .and_then(|data| data.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Failure::Permanent(
                    "X accepted the answer but sent no id; check the brand's account".into(),
                )
            })?;
        Ok(Some(Posted {
            link: Some(format!("{SITE}/i/web/status/{id}")),
            id: Some(id.to_string()),
        }))
    }
}
