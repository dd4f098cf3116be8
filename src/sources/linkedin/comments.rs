//! Comments on the organization's recent posts, and their nested replies, as mentions: every
//! one is addressed to the Page; the organization's own are never relayed.

use chrono::DateTime;

use super::wire::{Comment, Elements, Post};
use super::{encode, LinkedIn, SITE};
use crate::domain::{Author, Mention, MentionKey};
use crate::net::{Failure, Purpose};

/// The newest posts whose comments are read.
const POSTS: &str = "10";
/// Comments created this long before the newest one seen are read again.
const OVERLAP_MS: i64 = 10 * 60 * 1000;
/// Pages of 50 read per thread: 250 comments under one post between two polls is plenty.
const PAGES: usize = 5;

impl LinkedIn {
    pub(super) async fn read_comments(
        &self,
        since: Option<i64>,
    ) -> Result<(Vec<Mention>, Option<i64>), Failure> {
        let author = encode(&self.settings.organization);
        let posts: Elements<Post> = self
            .call("LinkedIn posts", Purpose::Poll, |http, api| {
                http.get(format!(
                    "{api}/posts?q=author&author={author}&count={POSTS}&sortBy=LAST_MODIFIED"
                ))
            })
            .await?;
        let floor = since.map(|s| s - OVERLAP_MS);
        let mut found = Vec::new();
        let mut newest = since;
        for post in posts.elements.iter().filter_map(|p| p.id.as_deref()) {
            let comments = self.comments_of(post).await?;
            for comment in &comments {
                let nested = comment
                    .comments_summary
                    .as_ref()
                    .and_then(|s| s.aggregated_total_comments.or(s.total_first_level_comments))
                    .unwrap_or(0);
                let mut all = vec![comment.clone()];
                if nested > 0 {
                    if let Some(urn) = comment.urn() {
                        all.extend(self.comments_of(&urn).await?);
                    }
                }
                for one in all {
                    let Some(at) = one.created.as_ref().and_then(|c| c.time) else {
                        continue;
                    };
                    newest = Some(newest.map_or(at, |n| n.max(at)));
                    if floor.is_some_and(|floor| at < floor) {
                        continue;
                    }
                    found.extend(self.comment_mention(&one, post, at));
                }
            }
        }
        Ok((found, newest))
    }

    /// Every comment on `target` (a post, or a comment for its replies), paged.
    pub(super) async fn comments_of(&self, target: &str) -> Result<Vec<Comment>, Failure> {
        let encoded = encode(target);
        let mut all = Vec::new();
        let mut start = 0u32;
        for _ in 0..PAGES {
            let page: Elements<Comment> = self
                .call(
                    "LinkedIn socialActions comments",
                    Purpose::Poll,
                    |http, api| {
                        http.get(format!(
                            "{api}/socialActions/{encoded}/comments?start={start}&count=50"
                        ))
                    },
                )
                .await?;
            let count = page.elements.len() as u32;
            all.extend(page.elements);
            let total = page.paging.as_ref().and_then(|p| p.total);
            start += count;
            if count == 0 || total.is_none_or(|total| start >= total) {
                break;
            }
        }
        Ok(all)
    }

    fn comment_mention(&self, comment: &Comment, post: &str, at: i64) -> Option<Mention> {
        let urn = comment.urn()?;
        let actor = comment.actor.clone().unwrap_or_default();
        if actor == self.settings.organization {
            return None; // the organization's own comment
        }
        Some(Mention {
            key: MentionKey::new(&self.name, &urn),
            network: super::TRAITS.network(),
            // Only the member's URN: LinkedIn limits how long profile data may be kept.
            author: Author {
                handle: actor,
                name: None,
                profile: None,
            },
            text: comment
                .message
                .as_ref()
                .and_then(|m| m.text.clone())
                .unwrap_or_default(),
            link: Some(format!(
                "{SITE}/feed/update/{post}?commentUrn={}",
                encode(&urn)
            )),
            created_at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
            matched: Vec::new(),
            language: None,
            in_reply_to: comment
                .parent_comment
                .clone()
                .or_else(|| Some(post.to_string())),
            direct: true,
            review: None,
        })
    }
}
