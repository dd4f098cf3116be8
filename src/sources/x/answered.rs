//! Answered-detection: the brand's reply to a mention, found by recent search in the mention's
//! conversation (looked up once per reply mention, then remembered).

use chrono::Utc;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::wire::{newer, Page};
use super::{Endpoint, PAGE_SIZE, SITE, X};
use crate::domain::Mention;
use crate::net::{read_json, Failure};
use crate::sources::SourceError;

/// Recent search reaches 7 days back.
const SEARCH_DAYS: i64 = 7;

impl X {
    /// The brand's replies in the mention's conversation (recent search, `from:` the brand's
    /// id): one whose `replied_to` is the mention answers it.
    pub(super) async fn brand_reply(
        &self,
        mention: &Mention,
    ) -> Result<Option<String>, SourceError> {
        let id = mention.key.id.as_str();
        let brand = self.settings.user_id.as_str();
        // Both go into a search expression; anything but a snowflake would change its meaning.
        if !newer(id, None) || !newer(brand, None) {
            return Err(SourceError::Permanent(format!(
                "cannot search X for replies to `{id}` by `{brand}`: post and user ids are numbers"
            )));
        }
        // Search cannot see past 7 days. A reply made while the mention was younger was found
        // by an earlier check; searching on would cost requests and post reads for ever.
        if Utc::now() - mention.created_at > chrono::Duration::days(SEARCH_DAYS) {
            return Ok(None);
        }
        let Some(conversation) = self.conversation_of(mention).await? else {
            return Ok(None);
        };
        let what = "X search (the brand's replies)";
        // One page: the brand replying 100 times within one conversation is not a case to pay for.
        let request = self
            .http
            .get(format!("{}/2/tweets/search/recent", self.api()))
            .bearer_auth(self.settings.bearer_token.expose())
            .query(&[
                (
                    "query",
                    format!("conversation_id:{conversation} from:{brand} is:reply"),
                ),
                (
                    "tweet.fields",
                    "in_reply_to_user_id,referenced_tweets,author_id,created_at".into(),
                ),
                ("expansions", "author_id".into()),
                ("user.fields", "username".into()),
                ("max_results", PAGE_SIZE.to_string()),
            ]);
        let response = self.call(what, Endpoint::Search, request).await?;
        let response = self.check(what, Endpoint::Search, response).await?;
        let page: Page = read_json(what, response).await?;
        let handle = page
            .includes
            .and_then(|includes| includes.users.into_iter().find(|user| user.id == brand))
            .map(|user| user.username);
        let reply = page.data.iter().find_map(|post| {
            let by_brand = post.get("author_id").and_then(Value::as_str) == Some(brand);
            let to_mention = post
                .get("referenced_tweets")
                .and_then(Value::as_array)
                .is_some_and(|references| {
                    references.iter().any(|reference| {
                        reference.get("type").and_then(Value::as_str) == Some("replied_to")
                            && reference.get("id").and_then(Value::as_str) == Some(id)
                    })
                });
            post.get("id")
                .and_then(Value::as_str)
                .filter(|_| by_brand && to_mention)
        });
        Ok(reply.map(|reply| match &handle {
            Some(handle) => format!("reply by @{handle} on X: {SITE}/{handle}/status/{reply}"),
            None => format!("reply by the brand's account on X: {SITE}/i/web/status/{reply}"),
        }))
    }

    /// The conversation `mention` belongs to (`None` once the post is gone). A post that
    /// replies to nothing starts its own; a reply's is the root's id, which the mention does
    /// not keep, so it is looked up (`/2/tweets/:id`) and remembered.
    async fn conversation_of(&self, mention: &Mention) -> Result<Option<String>, Failure> {
        let id = &mention.key.id;
        if mention.in_reply_to.is_none() {
            return Ok(Some(id.clone()));
        }
        if let Some(known) = self
            .conversations
            .lock()
            .ok()
            .and_then(|known| known.get(id).cloned())
        {
            return Ok(Some(known));
        }
        #[derive(Deserialize)]
        struct Found {
            data: Option<Value>,
            #[serde(default)]
            errors: Vec<Value>,
        }
        let what = "X (the mention's conversation)";
        let request = self
            .http
            .get(format!("{}/2/tweets/{id}", self.api()))
            .bearer_auth(self.settings.bearer_token.expose())
            .query(&[("tweet.fields", "conversation_id")]);
        let response = self.call(what, Endpoint::Lookup, request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = self.check(what, Endpoint::Lookup, response).await?;
        let found: Found = read_json(what, response).await?;
        // A deleted, suspended or protected post comes back as a 200 with only `errors`.
        let Some(post) = found.data else {
            return if found.errors.is_empty() {
                Err(Failure::retry(format!(
                    "{what} came back with neither the post nor an error"
                )))
            } else {
                Ok(None)
            };
        };
        let conversation = post
            .get("conversation_id")
            .and_then(Value::as_str)
            .filter(|conversation| newer(conversation, None))
            .ok_or_else(|| Failure::retry(format!("{what} came back without a conversation_id")))?
            .to_string();
        if let Ok(mut known) = self.conversations.lock() {
            known.insert(id.clone(), conversation.clone());
        }
        Ok(Some(conversation))
    }
}
