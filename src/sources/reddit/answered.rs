//! Answered-detection: a reply by the brand's account right below the mention means someone
//! answered on Reddit. Reddit usernames are case-insensitive.

use reqwest::StatusCode;

use super::wire::{base36, post_of, replies_of, text_of, ListingData, Thing};
use super::{Reddit, SITE};
use crate::domain::Mention;
use crate::net::{read_json, Failure, Purpose};

/// Replies read below a mention; the brand replying more often than this under one post is not
/// a case to pay requests for.
const PAGE_SIZE: u32 = 100;

impl Reddit {
    /// The replies right below the mention (`/comments/<post>`, narrowed to the comment when
    /// the mention is one): a comment there by the brand's account means someone answered on
    /// Reddit. Reddit usernames are case-insensitive.
    pub(super) async fn brand_reply(&self, mention: &Mention) -> Result<Option<String>, Failure> {
        let id = mention.key.id.as_str();
        let (post, comment) = match (id.strip_prefix("t3_"), id.strip_prefix("t1_")) {
            (Some(post), _) if base36(post) => (post.to_string(), None),
            (_, Some(comment)) if base36(comment) => {
                let post = post_of(mention).ok_or_else(|| {
                    Failure::Permanent(format!(
                        "cannot tell which Reddit post the comment {id} is in: its link names none"
                    ))
                })?;
                (post, Some(comment))
            }
            _ => {
                return Err(Failure::Permanent(format!(
                    "`{id}` is not a Reddit post or comment"
                )))
            }
        };
        let what = "Reddit (the replies below a mention)";
        let response = self
            .send(what, Purpose::Poll, |http, api| {
                // A comment's own replies are one level below it; a post's are its top level.
                let mut query = vec![
                    (
                        "depth",
                        if comment.is_some() { "2" } else { "1" }.to_string(),
                    ),
                    ("limit", PAGE_SIZE.to_string()),
                    ("raw_json", "1".into()),
                ];
                if let Some(comment) = comment {
                    query.insert(0, ("comment", comment.to_string()));
                }
                http.get(format!("{api}/comments/{post}")).query(&query)
            })
            .await?;
        // A post gone with its subreddit (banned) answers 404: nothing left to detect.
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = self.transport.check(what, response).await?;
        // `[post listing, comment tree]`; only the tree matters.
        let listings: Vec<Thing> = read_json(what, response).await?;
        let Some(tree) = listings.into_iter().nth(1) else {
            return Err(Failure::retry(format!(
                "{what} came back without the comment tree"
            )));
        };
        // Unlike a poll's listing, where one odd item is skipped, a tree or replies that cannot
        // be read could hide the brand's reply: an error, and the next check tries again.
        let top = match tree.data {
            Some(data) => {
                serde_json::from_value::<ListingData>(data)
                    .map_err(|error| {
                        Failure::retry(format!(
                            "{what} sent a comment tree earshot cannot read: {error}"
                        ))
                    })?
                    .children
            }
            None => Vec::new(),
        };
        let replies = match comment {
            None => top,
            // Reddit roots the tree at the comment asked for; a deleted one keeps its replies.
            Some(_) => top
                .into_iter()
                .find(|child| {
                    child.data.as_ref().and_then(|data| text_of(data, "name")) == Some(id)
                })
                .and_then(|child| child.data)
                .map(|comment| replies_of(&comment))
                .transpose()
                .map_err(|error| {
                    Failure::retry(format!("{what} sent replies earshot cannot read: {error}"))
                })?
                .unwrap_or_default(),
        };
        let brand = &self.settings.username;
        Ok(replies
            .into_iter()
            .filter(|reply| reply.kind.as_deref() == Some("t1"))
            .filter_map(|reply| reply.data)
            .find(|reply| {
                text_of(reply, "author").is_some_and(|author| author.eq_ignore_ascii_case(brand))
            })
            .map(|reply| {
                let link = text_of(&reply, "permalink")
                    .map(|path| format!("{SITE}{path}"))
                    .or_else(|| {
                        text_of(&reply, "id").map(|id| format!("{SITE}/comments/{post}/_/{id}"))
                    })
                    .unwrap_or_else(|| format!("{SITE}/comments/{post}/"));
                format!("reply by u/{brand} on Reddit: {link}")
            }))
    }
}
