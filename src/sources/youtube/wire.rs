//! The YouTube Data API v3 JSON shapes earshot reads (commentThreads, comments, search, errors).
//! Every field is optional: a missing one skips the item, it never fails the poll.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    pub id: Option<String>,
    pub snippet: Option<ThreadSnippet>,
    pub replies: Option<Replies>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadSnippet {
    pub video_id: Option<String>,
    pub top_level_comment: Option<Comment>,
    pub can_reply: Option<bool>,
    pub total_reply_count: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Replies {
    #[serde(default)]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: Option<String>,
    pub snippet: Option<CommentSnippet>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentSnippet {
    pub video_id: Option<String>,
    pub text_display: Option<String>,
    pub text_original: Option<String>,
    pub author_display_name: Option<String>,
    pub author_channel_url: Option<String>,
    pub author_channel_id: Option<ChannelRef>,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChannelRef {
    pub value: Option<String>,
}

impl Comment {
    pub fn author_channel(&self) -> Option<&str> {
        self.snippet
            .as_ref()?
            .author_channel_id
            .as_ref()?
            .value
            .as_deref()
    }

    /// What the comment says: the original text where YouTube gives it, else the display text.
    pub fn text(&self) -> String {
        let Some(snippet) = &self.snippet else {
            return String::new();
        };
        snippet
            .text_original
            .clone()
            .or_else(|| snippet.text_display.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub id: Option<SearchId>,
    pub snippet: Option<VideoSnippet>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchId {
    pub video_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoSnippet {
    pub published_at: Option<DateTime<Utc>>,
    pub channel_id: Option<String>,
    pub channel_title: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

/// `{"error": {"code": 403, "message": "...", "errors": [{"reason": "quotaExceeded"}]}}`
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorDetail {
    pub message: Option<String>,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorItem {
    pub reason: Option<String>,
}

/// Where the `comments` watch stands: each recent thread's reply count as last read, so a
/// new reply on an old thread is noticed, and how far the sweep through older pages got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadsMark {
    /// Thread id -> (replies counted, when the thread started, when its replies were read).
    pub threads: BTreeMap<String, (u32, DateTime<Utc>, DateTime<Utc>)>,
    /// The page the sweep reads next (page 2 onwards); `None`: it starts again.
    pub sweep: Option<String>,
}

/// Where a `search:` watch stands: the newest video seen and when it last searched (searches
/// are paced to fit their bucket, across restarts too).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchMark {
    pub newest: Option<DateTime<Utc>>,
    pub searched_at: Option<DateTime<Utc>>,
}

/// One watch's entry in the cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Mark {
    Threads(ThreadsMark),
    Search(SearchMark),
}
