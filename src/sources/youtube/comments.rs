//! The `comments` watch: `commentThreads.list?allThreadsRelatedToChannelId`, newest first.
//!
//! A thread inlines only a few replies, and YouTube does not move an old thread up when it gets
//! a new reply. So the cursor keeps each recent thread's reply count: a thread whose count grew
//! has its replies read (`comments.list?parentId` when the inlined ones are not all of them),
//! and beside the newest page each poll sweeps one older page, so a reply to a thread far down
//! the list is found within a few polls too.

use chrono::{DateTime, Utc};

use super::quota::Bucket;
use super::wire::{Comment, Listing, Thread, ThreadsMark};
use super::{YouTube, READ};
use crate::domain::Mention;
use crate::net::{Pager, Purpose, Turn};
use crate::sources::SourceError;

/// Pages of new threads one poll reads at most (100 threads a page).
const NEW_PAGES: Pager = Pager::new(5);
/// Pages of one thread's replies one poll reads at most.
const REPLY_PAGES: Pager = Pager::new(5);
/// Threads whose reply counts the cursor keeps.
const TRACKED_THREADS: usize = 500;
/// The sweep goes no further back than this; then it starts again from page 2.
const SWEEP_DAYS: i64 = 60;
/// Replies this much older than the last read of their thread still count (clock skew,
/// YouTube's indexing), since the store drops repeats anyway.
const OVERLAP: chrono::Duration = chrono::Duration::minutes(10);

impl YouTube {
    pub(super) async fn read_comments(
        &self,
        stored: Option<ThreadsMark>,
    ) -> Result<(Vec<Mention>, Option<ThreadsMark>), SourceError> {
        let first = stored.is_none();
        let mut mark = stored.unwrap_or_default();
        let mut found = Vec::new();
        let mut second_page = None;
        let mut pages = NEW_PAGES.pages();
        while let Some(token) = pages.next_page() {
            let first_page = token.is_none();
            let page = self.threads_page(token).await?;
            let mut news = false;
            for thread in &page.items {
                news |= self
                    .take_thread(thread, &mut mark, &mut found, true)
                    .await?;
            }
            if first_page {
                second_page = page.next_page_token.clone();
            }
            // The first poll starts from the newest page; later ones read down to known threads.
            pages.turn(match page.next_page_token {
                Some(next) if news && !first => Turn::Next(next),
                _ => Turn::Stop,
            });
        }
        if !first {
            self.sweep(&mut mark, second_page, &mut found).await?;
        }
        prune(&mut mark);
        Ok((found, Some(mark)))
    }

    /// One older page, to notice new replies on threads the newest pages no longer show.
    async fn sweep(
        &self,
        mark: &mut ThreadsMark,
        second_page: Option<String>,
        found: &mut Vec<Mention>,
    ) -> Result<(), SourceError> {
        let Some(token) = mark.sweep.clone().or(second_page) else {
            mark.sweep = None;
            return Ok(());
        };
        let page = match self.threads_page(Some(token)).await {
            Ok(page) => page,
            // An expired page token (400 invalidPageToken): the sweep starts again.
            Err(SourceError::Permanent(reason)) => {
                tracing::debug!(source = %self.name, %reason, "the sweep's page token was refused; starting again");
                mark.sweep = None;
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        let oldest = self.now() - chrono::Duration::days(SWEEP_DAYS);
        let mut recent = false;
        for thread in &page.items {
            recent |= started(thread).is_some_and(|at| at >= oldest);
            self.take_thread(thread, mark, found, false).await?;
        }
        mark.sweep = page.next_page_token.filter(|_| recent);
        Ok(())
    }

    async fn threads_page(&self, token: Option<String>) -> Result<Listing<Thread>, SourceError> {
        let channel = self.settings.channel_id.clone();
        Ok(self
            .call(
                "YouTube commentThreads.list",
                Bucket::Units,
                Purpose::Poll,
                READ,
                false,
                |http, api| {
                    let mut request = http.get(format!("{api}/commentThreads")).query(&[
                        ("part", "snippet,replies"),
                        ("allThreadsRelatedToChannelId", channel.as_str()),
                        ("order", "time"),
                        ("maxResults", "100"),
                        ("textFormat", "plainText"),
                    ]);
                    if let Some(token) = &token {
                        request = request.query(&[("pageToken", token)]);
                    }
                    request
                },
            )
            .await?)
    }

    /// Takes what is new in `thread`; whether anything about it changed. `newest`: the thread
    /// came from the newest pages, so one earshot has not seen is new (the sweep only learns
    /// old threads' counts).
    async fn take_thread(
        &self,
        thread: &Thread,
        mark: &mut ThreadsMark,
        found: &mut Vec<Mention>,
        newest: bool,
    ) -> Result<bool, SourceError> {
        let (Some(id), Some(snippet)) = (thread.id.as_deref(), thread.snippet.as_ref()) else {
            return Ok(false);
        };
        let Some(top) = snippet.top_level_comment.as_ref() else {
            return Ok(false);
        };
        let Some(start) = started(thread) else {
            return Ok(false);
        };
        let video = snippet.video_id.as_deref();
        let total = snippet.total_reply_count.unwrap_or(0);
        let now = self.now();
        let previous = mark.threads.get(id).copied();
        let replies_since = match previous {
            Some((count, _, _)) if count == total => {
                return Ok(false);
            }
            Some((_, _, read_at)) => Some(read_at - OVERLAP),
            None if newest => {
                found.extend(self.comment_mention(top, id, video));
                None
            }
            None => {
                // An old thread the sweep meets for the first time: only its count is learnt.
                mark.threads.insert(id.to_string(), (total, start, now));
                return Ok(false);
            }
        };
        if total > 0 {
            let inlined = thread
                .replies
                .as_ref()
                .map(|replies| replies.comments.clone())
                .unwrap_or_default();
            let replies = if inlined.len() >= total as usize {
                inlined
            } else {
                self.replies(id).await?
            };
            for reply in &replies {
                self.take_reply(reply, id, video, replies_since, found);
            }
        }
        mark.threads.insert(id.to_string(), (total, start, now));
        Ok(true)
    }

    fn take_reply(
        &self,
        reply: &Comment,
        thread: &str,
        video: Option<&str>,
        since: Option<DateTime<Utc>>,
        found: &mut Vec<Mention>,
    ) {
        let published = reply.snippet.as_ref().and_then(|s| s.published_at);
        if reply.author_channel() == Some(self.settings.channel_id.as_str()) {
            if let (Some(at), Some(reply_id)) = (published, reply.id.as_deref()) {
                self.note_channel_reply(thread, at, reply_id, video);
            }
            return;
        }
        if let (Some(since), Some(at)) = (since, published) {
            if at < since {
                return;
            }
        }
        found.extend(self.comment_mention(reply, thread, video));
    }

    /// Every reply of a thread: `comments.list?parentId`, paged.
    pub(super) async fn replies(&self, thread: &str) -> Result<Vec<Comment>, SourceError> {
        let mut replies = Vec::new();
        let mut pages = REPLY_PAGES.pages();
        while let Some(token) = pages.next_page() {
            let page: Listing<Comment> = self
                .call(
                    "YouTube comments.list",
                    Bucket::Units,
                    Purpose::Poll,
                    READ,
                    false,
                    |http, api| {
                        let mut request = http.get(format!("{api}/comments")).query(&[
                            ("part", "snippet"),
                            ("parentId", thread),
                            ("maxResults", "100"),
                            ("textFormat", "plainText"),
                        ]);
                        if let Some(token) = &token {
                            request = request.query(&[("pageToken", token)]);
                        }
                        request
                    },
                )
                .await?;
            replies.extend(page.items);
            pages.turn(page.next_page_token.map_or(Turn::Stop, Turn::Next));
        }
        Ok(replies)
    }
}

fn started(thread: &Thread) -> Option<DateTime<Utc>> {
    thread
        .snippet
        .as_ref()?
        .top_level_comment
        .as_ref()?
        .snippet
        .as_ref()?
        .published_at
}

/// Keeps the newest [`TRACKED_THREADS`] threads in the cursor.
fn prune(mark: &mut ThreadsMark) {
    if mark.threads.len() <= TRACKED_THREADS {
        return;
    }
    let mut starts: Vec<DateTime<Utc>> = mark.threads.values().map(|(_, at, _)| *at).collect();
    starts.sort_unstable_by(|a, b| b.cmp(a));
    let cut = starts[TRACKED_THREADS - 1];
    mark.threads.retain(|_, (_, at, _)| *at >= cut);
}
