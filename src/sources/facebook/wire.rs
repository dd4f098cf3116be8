//! The Graph API's shapes for Page posts and comments, and the mentions they make.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Author, Mention, MentionKey};
use crate::sources::graph::{parse_time, Page};

/// The fields asked for on every post and comment.
pub const ITEM_FIELDS: &str =
    "id,message,story,created_time,from{id,name},parent{id},permalink_url";

#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    pub id: Option<String>,
    pub message: Option<String>,
    /// What Facebook writes for a post without a message ("Jane shared a photo").
    pub story: Option<String>,
    pub created_time: Option<String>,
    /// Often missing: on tagged posts Meta names the author only to the author, and comments
    /// show it only to a Page token with the MODERATE task.
    pub from: Option<From>,
    /// On a reply: the comment it replies to.
    pub parent: Option<Parent>,
    pub permalink_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct From {
    pub id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Parent {
    pub id: Option<String>,
}

/// A Page post with its newest comments (field expansion), for the `comments` watch.
#[derive(Debug, Deserialize)]
pub struct Post {
    pub id: Option<String>,
    pub comments: Option<Page<Item>>,
}

/// Where a watch left off between polls: the newest creation time seen, and the ids seen from
/// [`super::poll::OVERLAP`] before it (Meta says not to keep its paging cursors).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// Unix seconds.
    pub since: i64,
    /// Id -> creation time (Unix seconds), for the items in the overlap.
    #[serde(default)]
    pub seen: std::collections::BTreeMap<String, i64>,
}

impl Item {
    pub fn created(&self) -> Option<DateTime<Utc>> {
        parse_time(self.created_time.as_deref()?)
    }

    pub fn by(&self, page_id: &str) -> bool {
        self.from
            .as_ref()
            .and_then(|from| from.id.as_deref())
            .is_some_and(|id| id == page_id)
    }

    /// The mention this post or comment makes; `None` for one without an id or a time.
    /// `post` is the post a comment is under (what it replies to when it is not a reply).
    pub fn mention(&self, source: &str, post: Option<&str>) -> Option<Mention> {
        let id = self.id.clone().filter(|id| !id.is_empty())?;
        let created_at = self.created()?;
        let text = self
            .message
            .clone()
            .or_else(|| self.story.clone())
            .filter(|text| !text.trim().is_empty())
            .unwrap_or_else(|| "(no text: open the link to see the post)".to_string());
        let in_reply_to = self
            .parent
            .as_ref()
            .and_then(|parent| parent.id.clone())
            .or_else(|| post.map(str::to_string));
        Some(Mention {
            key: MentionKey::new(source, id.clone()),
            network: super::TRAITS.network(),
            author: Author {
                handle: String::new(),
                name: self.from.as_ref().and_then(|from| from.name.clone()),
                profile: None,
            },
            text,
            link: Some(
                self.permalink_url
                    .clone()
                    .unwrap_or_else(|| format!("https://www.facebook.com/{id}")),
            ),
            created_at,
            matched: Vec::new(),
            language: None,
            in_reply_to,
            // Everything on and about the Page is addressed to the brand: no keyword needed.
            direct: true,
            review: None,
        })
    }
}
