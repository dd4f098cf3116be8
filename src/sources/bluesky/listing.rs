//! The polled watches: the account's notifications (mentions, replies, quotes) and keyword
//! searches, each read back to the newest post of the last poll.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use super::records::{NotificationPage, PostView, SearchPage, REASONS};
use super::Bluesky;
use crate::domain::Mention;
use crate::net::{Pager, Turn};
use crate::sources::SourceError;

/// The most the API serves per page.
const PAGE: usize = 100;
/// Pages per stream and poll. Notifications page backwards from the newest, so a backlog
/// beyond this (2,500 notifications in one interval) is cut short, with a warning.
const PAGER: Pager = Pager::new(25);
/// searchPosts filters on `sortAt`, which a post's own clock can set slightly in the past:
/// each search reaches back this far before the newest post already seen.
const SEARCH_OVERLAP: chrono::Duration = chrono::Duration::minutes(5);

impl Bluesky {
    /// New mentions, replies and quotes, newest first, back to `since` (inclusive: the store
    /// drops what it has). Returns them oldest first and the newest `indexedAt` seen.
    pub(super) async fn notifications(
        &self,
        since: Option<DateTime<Utc>>,
        me: &str,
    ) -> Result<(Vec<Mention>, Option<DateTime<Utc>>), SourceError> {
        let mut mentions = Vec::new();
        let mut newest = since;
        let mut pages = PAGER.pages();
        while let Some(cursor) = pages.next_page() {
            let mut query: Vec<(&str, String)> =
                REASONS.iter().map(|r| ("reasons", r.to_string())).collect();
            query.push(("limit", PAGE.to_string()));
            if let Some(cursor) = cursor {
                query.push(("cursor", cursor));
            }
            let result: Result<NotificationPage, SourceError> = self
                .xrpc(
                    Method::GET,
                    "app.bsky.notification.listNotifications",
                    &query,
                    None,
                    true,
                )
                .await;
            let found = match result {
                Ok(found) => found,
                // Paging backwards, a partial walk would leave a gap: all or nothing.
                Err(error) => return Err(error),
            };
            let mut reached_since = found.notifications.is_empty();
            for item in found.notifications {
                let Some(post) = self.post_view(item, "notification") else {
                    continue;
                };
                let at = post.indexed_at();
                if let (Some(at), Some(since)) = (at, since) {
                    if at < since {
                        reached_since = true;
                        continue;
                    }
                }
                if newest.is_none_or(|newest| at.is_some_and(|at| at > newest)) {
                    newest = at.or(newest);
                }
                let relevant = post.reason.as_deref().is_some_and(|r| REASONS.contains(&r));
                if relevant && post.author.did != me {
                    mentions.push(post.to_mention(&self.name, true));
                }
            }
            // A new source starts from the latest page, not from the account's whole history.
            pages.turn(match found.cursor {
                Some(next) if !reached_since && since.is_some() => Turn::Next(next),
                _ => Turn::Stop,
            });
        }
        if pages.cut_short() {
            tracing::warn!(source = %self.name, "more notifications than one poll reads; the oldest of them are skipped");
        }
        mentions.reverse();
        Ok((mentions, newest))
    }

    /// Posts matching `query` since a little before `since`, through the PDS (public search
    /// refuses unauthenticated clients).
    pub(super) async fn search(
        &self,
        query: &str,
        since: Option<DateTime<Utc>>,
        me: &str,
    ) -> Result<(Vec<Mention>, Option<DateTime<Utc>>), SourceError> {
        let mut mentions = Vec::new();
        let mut newest = since;
        let mut pages = PAGER.pages();
        while let Some(cursor) = pages.next_page() {
            let mut params = vec![
                ("q", query.to_string()),
                ("sort", "latest".to_string()),
                ("limit", PAGE.to_string()),
            ];
            if let Some(since) = since {
                let from = since - SEARCH_OVERLAP;
                params.push((
                    "since",
                    from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                ));
            }
            if let Some(cursor) = cursor {
                params.push(("cursor", cursor));
            }
            let found: SearchPage = self
                .xrpc(
                    Method::GET,
                    "app.bsky.feed.searchPosts",
                    &params,
                    None,
                    true,
                )
                .await?;
            for item in found.posts {
                let Some(post) = self.post_view(item, "search result") else {
                    continue;
                };
                let at = post.indexed_at();
                if newest.is_none_or(|newest| at.is_some_and(|at| at > newest)) {
                    newest = at.or(newest);
                }
                if post.author.did != me {
                    mentions.push(post.to_mention(&self.name, false));
                }
            }
            pages.turn(match found.cursor {
                Some(next) if since.is_some() => Turn::Next(next),
                _ => Turn::Stop,
            });
        }
        mentions.reverse();
        Ok((mentions, newest))
    }

    pub(super) fn post_view(&self, item: Value, what: &str) -> Option<PostView> {
        match serde_json::from_value::<PostView>(item) {
            Ok(post) => Some(post),
            Err(error) => {
                tracing::warn!(source = %self.name, %error, "skipped a malformed {what}");
                None
            }
        }
    }
}
