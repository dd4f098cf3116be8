//! Reading the watches. Within one poll, Graph's paging cursors walk each listing newest
//! first; between polls only earshot's own position is kept (a [`Mark`]): the newest creation
//! time seen, read again from [`OVERLAP`] before it (Graph lists an item a little after it is
//! created), and the ids already seen in that overlap, so nothing repeats and nothing is missed.
//!
//! The `comments` watch reads the Page's posts of the last [`COMMENT_WINDOW`] (at most
//! [`POSTS_PER_POLL`] of them), each with its newest comments and replies in the same request
//! (field expansion); a post with more new comments than fit is paged on its own. Comments on
//! older posts are not seen by polling (webhooks see them).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::wire::{Item, Mark, Post, ITEM_FIELDS};
use super::{Facebook, Watch};
use crate::domain::Mention;
use crate::net::{Failure, Pager, Purpose, Turn};
use crate::sources::graph::Page;

/// How far before the newest item seen each poll reads again.
pub const OVERLAP: i64 = 10 * 60;
/// What the first poll of a watch relays: the last day, so a complaint from this morning is
/// not lost, without replaying the Page's whole history.
pub const FIRST_LOOKBACK: i64 = 24 * 3600;
/// The posts whose comments are read: those of the last 30 days.
pub const COMMENT_WINDOW: i64 = 30 * 24 * 3600;
pub const POSTS_PER_POLL: usize = 50;
const POSTS_PAGE: usize = 25;
const POST_PAGER: Pager = Pager::new(POSTS_PER_POLL / POSTS_PAGE);
/// Items per page, and pages per listing in one poll: 250 new items per watch, more than a
/// Page gets between two polls short of a storm.
const ITEMS_PAGE: usize = 50;
const ITEM_PAGER: Pager = Pager::new(5);
/// Ids kept in a mark, at most: the overlap rarely holds more than a few.
const SEEN_KEPT: usize = 2_000;

pub(super) struct Read {
    pub found: Vec<Mention>,
    pub mark: Mark,
    /// The page limit stopped a listing: what the person should know.
    pub cut_short: Option<String>,
}

/// One watch's walk: which items are new, and the mark it leaves.
pub(crate) struct Window {
    threshold: i64,
    old: BTreeMap<String, i64>,
    since: i64,
    seen: BTreeMap<String, i64>,
}

impl Window {
    pub(crate) fn new(mark: Option<&Mark>, now: DateTime<Utc>) -> Window {
        let now = now.timestamp();
        match mark {
            Some(mark) => Window {
                threshold: mark.since - OVERLAP,
                old: mark.seen.clone(),
                since: mark.since,
                seen: mark.seen.clone(),
            },
            None => Window {
                threshold: now - FIRST_LOOKBACK,
                old: BTreeMap::new(),
                since: now - FIRST_LOOKBACK,
                seen: BTreeMap::new(),
            },
        }
    }

    /// Whether an item created at `created` is older than this walk reads.
    pub(crate) fn older(&self, created: i64) -> bool {
        created < self.threshold
    }

    /// Notes an item read; true when it is new.
    pub(crate) fn admit(&mut self, id: &str, created: i64) -> bool {
        if self.older(created) {
            return false;
        }
        self.since = self.since.max(created);
        self.seen.insert(id.to_string(), created);
        !self.old.contains_key(id)
    }

    pub(crate) fn mark(self) -> Mark {
        let floor = self.since - OVERLAP;
        let mut seen: Vec<(String, i64)> = self
            .seen
            .into_iter()
            .filter(|(_, created)| *created >= floor)
            .collect();
        if seen.len() > SEEN_KEPT {
            seen.sort_by_key(|(_, created)| std::cmp::Reverse(*created));
            seen.truncate(SEEN_KEPT);
        }
        Mark {
            since: self.since,
            seen: seen.into_iter().collect(),
        }
    }
}

impl Facebook {
    pub(super) async fn read_watch(
        &self,
        watch: Watch,
        mark: Option<&Mark>,
    ) -> Result<Read, Failure> {
        let now = self.graph.budget().now();
        let mut window = Window::new(mark, now);
        let mut found = Vec::new();
        let cut_short = match watch {
            Watch::Comments => self.read_comments(&mut window, &mut found, now).await?,
            Watch::VisitorPosts | Watch::Tagged => {
                let path = format!("{}/{}", self.settings.page_id, watch.key());
                self.read_listing(&path, &[], None, &mut window, &mut found, None)
                    .await?
            }
        };
        Ok(Read {
            found,
            mark: window.mark(),
            cut_short,
        })
    }

    async fn read_comments(
        &self,
        window: &mut Window,
        found: &mut Vec<Mention>,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, Failure> {
        let page_id = &self.settings.page_id;
        let what = "Facebook (the Page's recent posts and their comments)";
        let mut cut_short = None;
        let mut pages = POST_PAGER.pages();
        while let Some(after) = pages.next_page() {
            let mut query = vec![
                (
                    "fields",
                    format!(
                        "id,comments.filter(stream).order(reverse_chronological).limit({ITEMS_PAGE}){{{ITEM_FIELDS}}}"
                    ),
                ),
                ("since", (now.timestamp() - COMMENT_WINDOW).to_string()),
                ("limit", POSTS_PAGE.to_string()),
            ];
            if let Some(after) = after {
                query.push(("after", after));
            }
            let posts: Page<Post> = self
                .graph
                .get(what, Purpose::Poll, &format!("{page_id}/posts"), &query)
                .await?;
            pages.turn(match posts.after() {
                Some(after) => Turn::Next(after),
                None => Turn::Stop,
            });
            for post in posts.data {
                let (Some(post_id), Some(comments)) = (post.id, post.comments) else {
                    continue;
                };
                let more = self.admit_page(comments, window, found, Some(&post_id));
                if let Some(after) = more {
                    // More new comments under this post than the first page held.
                    let path = format!("{post_id}/comments");
                    let query = [
                        ("filter", "stream".to_string()),
                        ("order", "reverse_chronological".to_string()),
                    ];
                    if let Some(note) = self
                        .read_listing(&path, &query, Some(&post_id), window, found, Some(after))
                        .await?
                    {
                        cut_short.get_or_insert(note);
                    }
                }
            }
        }
        Ok(cut_short)
    }

    /// A newest-first listing (`{page}/visitor_posts`, `{page}/tagged`, `{post}/comments`),
    /// from `start` (a cursor) or its first page, down to what the window has seen.
    async fn read_listing(
        &self,
        path: &str,
        query: &[(&str, String)],
        post: Option<&str>,
        window: &mut Window,
        found: &mut Vec<Mention>,
        start: Option<String>,
    ) -> Result<Option<String>, Failure> {
        let what = format!("Facebook ({path})");
        let mut pages = ITEM_PAGER.pages();
        if let Some(start) = start {
            // Continue a page already read: its cursor is the first token.
            let _ = pages.next_page();
            pages.turn(Turn::Next(start));
        }
        while let Some(after) = pages.next_page() {
            let mut query: Vec<(&str, String)> = query.to_vec();
            query.push(("fields", ITEM_FIELDS.to_string()));
            query.push(("limit", ITEMS_PAGE.to_string()));
            if post.is_none() {
                // Posts can be asked for by time; comments are read down to it.
                query.push(("since", window.threshold.to_string()));
            }
            if let Some(after) = after {
                query.push(("after", after));
            }
            let page: Page<Item> = self.graph.get(&what, Purpose::Poll, path, &query).await?;
            let more = self.admit_page(page, window, found, post);
            pages.turn(match more {
                Some(after) => Turn::Next(after),
                None => Turn::Stop,
            });
        }
        Ok(pages.cut_short().then(|| {
            format!(
                "more new items than one poll reads ({} pages); the oldest of them were not read",
                pages.read()
            )
        }))
    }

    /// Takes the new items of one page; the cursor of the next page if the listing goes on
    /// past nothing older than the window.
    fn admit_page(
        &self,
        page: Page<Item>,
        window: &mut Window,
        found: &mut Vec<Mention>,
        post: Option<&str>,
    ) -> Option<String> {
        let after = page.after();
        let mut reached_old = false;
        for item in page.data {
            let (Some(id), Some(created)) = (item.id.clone(), item.created()) else {
                tracing::warn!(source = %self.name, ?item.id, "skipped a Facebook item without an id or a time");
                continue;
            };
            let created = created.timestamp();
            if window.older(created) {
                reached_old = true;
                continue;
            }
            if !window.admit(&id, created) {
                continue;
            }
            // The Page's own posts and comments, and answers earshot posted as the Page.
            if item.by(&self.settings.page_id) || self.is_own(&id) {
                continue;
            }
            if let Some(mention) = item.mention(&self.name, post) {
                found.push(mention);
            }
        }
        after.filter(|_| !reached_old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_reads_the_overlap_again_and_drops_what_it_saw() {
        let now = DateTime::from_timestamp(1_000_000, 0).unwrap();
        let mut first = Window::new(None, now);
        assert!(first.older(1_000_000 - FIRST_LOOKBACK - 1));
        assert!(first.admit("a", 999_500));
        assert!(first.admit("b", 999_900));
        let mark = first.mark();
        assert_eq!(mark.since, 999_900);
        assert_eq!(mark.seen.len(), 2, "both in the overlap");
        let mut second = Window::new(Some(&mark), now);
        assert!(!second.admit("b", 999_900), "seen");
        assert!(second.admit("c", 999_500), "late but inside the overlap");
        assert!(second.older(999_900 - OVERLAP - 1));
        let mark = second.mark();
        assert_eq!(mark.since, 999_900);
        assert!(mark.seen.contains_key("c"));
    }
}
