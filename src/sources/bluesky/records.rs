//! Bluesky's JSON as it comes from the PDS (notifications, post views), turned into mentions at
//! this one edge. Everything but a post's `uri` and author may be missing.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::{Author, Mention, MentionKey};

#[derive(Debug, Deserialize)]
pub(super) struct NotificationPage {
    #[serde(default)]
    pub notifications: Vec<serde_json::Value>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchPage {
    #[serde(default)]
    pub posts: Vec<serde_json::Value>,
    pub cursor: Option<String>,
}

/// `app.bsky.actor.getProfiles`: profiles it cannot find are left out.
#[derive(Debug, Deserialize)]
pub(super) struct ProfilesView {
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

#[derive(Debug, Deserialize)]
pub(super) struct PostsView {
    #[serde(default)]
    pub posts: Vec<PostView>,
}

/// A notification or a post view: both carry the post's uri, cid, author and record.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PostView {
    pub uri: String,
    pub cid: Option<String>,
    pub author: Profile,
    #[serde(default)]
    pub record: PostRecord,
    pub indexed_at: Option<String>,
    /// Notifications only: why we were notified.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Profile {
    pub did: String,
    #[serde(default)]
    pub handle: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PostRecord {
    #[serde(default)]
    pub text: String,
    pub created_at: Option<String>,
    #[serde(default)]
    pub langs: Vec<String>,
    pub reply: Option<ReplyRefs>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
pub struct StrongRef {
    pub uri: String,
    pub cid: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct ReplyRefs {
    pub root: Option<StrongRef>,
    pub parent: Option<StrongRef>,
}

/// The reasons worth relaying: someone wrote to or about the account.
pub(super) const REASONS: [&str; 3] = ["mention", "reply", "quote"];

impl PostView {
    pub fn indexed_at(&self) -> Option<DateTime<Utc>> {
        self.indexed_at.as_deref().and_then(parse_time)
    }

    pub fn to_mention(&self, source: &str, direct: bool) -> Mention {
        let handle = self.author.handle.clone();
        let rkey = self.uri.rsplit('/').next().unwrap_or_default();
        let profile = (!handle.is_empty()).then(|| format!("https://bsky.app/profile/{handle}"));
        let author_ref = if handle.is_empty() {
            self.author.did.clone()
        } else {
            handle.clone()
        };
        let name = self
            .author
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_string);
        Mention {
            key: MentionKey::new(source, self.uri.clone()),
            network: super::TRAITS.network(),
            author: Author {
                handle,
                name,
                profile,
            },
            // Bluesky text is already plain (no HTML); a literal "<" or "&" must stay as written.
            text: self.record.text.trim().to_string(),
            link: Some(format!("https://bsky.app/profile/{author_ref}/post/{rkey}")),
            created_at: self
                .record
                .created_at
                .as_deref()
                .and_then(parse_time)
                .or_else(|| self.indexed_at())
                .unwrap_or_else(Utc::now),
            matched: Vec::new(),
            language: self.record.langs.first().cloned(),
            in_reply_to: self
                .record
                .reply
                .as_ref()
                .and_then(|reply| reply.parent.as_ref())
                .map(|parent| parent.uri.clone()),
            direct,
            review: None,
        }
    }
}

pub(super) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// A Bluesky author is also known by the DID that owns the post (`at://<did>/...`), whether
/// the handle is known yet or not (a Jetstream post names its author by DID only).
pub(super) fn aliases(mention: &Mention, _handle: &str, _home: Option<&str>) -> Vec<String> {
    mention
        .key
        .id
        .strip_prefix("at://")
        .and_then(|rest| rest.split('/').next())
        .filter(|did| did.starts_with("did:"))
        .map(|did| vec![did.to_lowercase()])
        .unwrap_or_default()
}
