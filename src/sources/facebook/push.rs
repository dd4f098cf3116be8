//! The Page's `feed` changes, pushed through Meta's webhooks: a comment (`item: "comment"`) or
//! a visitor's post (`status`, `post`, `photo`, `video`, `share`) added or edited becomes the
//! same mention a poll of it makes, under the same Graph id, so the two give one card. The
//! Page's own items, reactions, removals and hides are no mentions. A change without its text
//! or time is read from Graph.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::wire::{Item, Parent, ITEM_FIELDS};
use super::{Facebook, Watch};
use crate::domain::Mention;
use crate::net::{Failure, Purpose};
use crate::sources::graph::parse_time;
use crate::sources::Push;

/// `value` of a `feed` change, as Meta documents it (all optional: shapes vary by item).
#[derive(Debug, Deserialize)]
struct FeedChange {
    item: Option<String>,
    verb: Option<String>,
    comment_id: Option<String>,
    post_id: Option<String>,
    /// On a comment: the post or the comment it replies to.
    parent_id: Option<String>,
    from: Option<super::wire::From>,
    message: Option<String>,
    /// Unix seconds (Meta has also sent Graph's time text here).
    created_time: Option<Value>,
}

/// What a feed change is to earshot.
enum Kind {
    Comment,
    VisitorPost,
}

impl Facebook {
    pub(super) async fn pushed_change(&self, push: &Push) -> Result<Vec<Mention>, Failure> {
        if push.field != "feed" {
            tracing::debug!(source = %self.name, field = %push.field, "a Page webhook field earshot does not read");
            return Ok(Vec::new());
        }
        let change: FeedChange = serde_json::from_value(push.value.clone()).map_err(|error| {
            Failure::Permanent(format!(
                "a Facebook feed change earshot cannot read: {error}"
            ))
        })?;
        // A new item, or one edited (which may be one the polls have not seen yet); removals,
        // hides and blocks change nothing in earshot.
        if !matches!(change.verb.as_deref(), Some("add" | "edited")) {
            return Ok(Vec::new());
        }
        let (kind, id) = match change.item.as_deref() {
            Some("comment") => (Kind::Comment, change.comment_id.clone()),
            Some("status" | "post" | "photo" | "video" | "share") => {
                (Kind::VisitorPost, change.post_id.clone())
            }
            // Reactions, likes, events and the rest are no one talking to the brand.
            _ => return Ok(Vec::new()),
        };
        let watched = match kind {
            Kind::Comment => Watch::Comments,
            Kind::VisitorPost => Watch::VisitorPosts,
        };
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            return Err(Failure::Permanent(format!(
                "a Facebook feed change ({} {}) without its id",
                change.item.as_deref().unwrap_or("?"),
                change.verb.as_deref().unwrap_or("?")
            )));
        };
        // Ids become part of a path: Graph's are digits joined by `_` (checked as answers are).
        if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Failure::Permanent(format!(
                "`{id}` in a Facebook feed change is not a Graph id"
            )));
        }
        let by_page = change
            .from
            .as_ref()
            .and_then(|from| from.id.as_deref())
            .is_some_and(|from| from == self.settings.page_id);
        if !self.settings.watch.contains(&watched) || by_page || self.is_own(&id) {
            return Ok(Vec::new());
        }
        // A comment's post is what it answers when it is not a reply, as in a poll.
        let post = match kind {
            Kind::Comment => change.post_id.clone(),
            Kind::VisitorPost => None,
        };
        let created = change.created_time.as_ref().and_then(unix_or_graph_time);
        let item = match (&change.message, created) {
            (Some(message), Some(created)) if !message.trim().is_empty() => Some(Item {
                id: Some(id.clone()),
                message: Some(message.clone()),
                story: None,
                created_time: Some(created.format("%Y-%m-%dT%H:%M:%S+0000").to_string()),
                from: change.from,
                parent: change.parent_id.map(|id| Parent { id: Some(id) }),
                permalink_url: None,
            }),
            // A photo comment, or a change without its time: Graph has the rest.
            _ => self.read_item(&id).await?,
        };
        let Some(item) = item else {
            tracing::info!(source = %self.name, %id, "a pushed Facebook item is gone already");
            return Ok(Vec::new());
        };
        if item.by(&self.settings.page_id) {
            return Ok(Vec::new());
        }
        Ok(item
            .mention(&self.name, post.as_deref())
            .into_iter()
            .collect())
    }

    /// `GET /{id}`, or `None` when it is gone.
    async fn read_item(&self, id: &str) -> Result<Option<Item>, Failure> {
        self.graph
            .get_unless_gone(
                "Facebook (an item a webhook named)",
                Purpose::Poll,
                id,
                &[("fields", ITEM_FIELDS.to_string())],
            )
            .await
    }
}

fn unix_or_graph_time(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(number) => DateTime::from_timestamp(number.as_i64()?, 0),
        Value::String(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .or_else(|| parse_time(text)),
        _ => None,
    }
}
