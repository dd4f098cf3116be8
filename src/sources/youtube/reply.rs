//! Answers as the channel, posted once, and the channel's own replies found on YouTube.
//!
//! YouTube has no idempotency key: before posting (and so before any retry) the thread is read
//! for the same text by the channel ([`PostOnce`]); that read also says whether the thread takes
//! replies (`canReply`). A refusal YouTube documents (`operationNotSupported`,
//! `parentCommentIsPrivate`, `commentsDisabled`...) returns the answer to the person with why.
//!
//! Answered-detection reads threads in batches (`commentThreads.list?id=` takes 50 ids, for one
//! unit), and the polls note the channel's replies they meet on the way.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::quota::{Bucket, INSERT_COST};
use super::wire::{Comment, Listing, Thread};
use super::{Refused, YouTube, READ, SITE, VIDEO_PREFIX};
use crate::domain::Mention;
use crate::net::{Failure, Purpose};
use crate::sources::{Posted, SourceError};

/// A thread checked this recently is not read again for answered-detection.
const FRESH: chrono::Duration = chrono::Duration::minutes(10);
/// A thread nobody asked about for this long leaves the batch.
const FORGET: chrono::Duration = chrono::Duration::days(2);
/// `id=` takes up to 50 ids.
const BATCH: usize = 50;

/// What earshot knows about the channel's replies in one thread.
#[derive(Debug, Clone, Default)]
pub(super) struct Checked {
    /// When the thread was last read whole for answered-detection.
    checked_at: Option<DateTime<Utc>>,
    /// When answered-detection last asked about it.
    asked_at: Option<DateTime<Utc>>,
    /// The channel's replies: when, and the link.
    channel_replies: Vec<(DateTime<Utc>, String)>,
}

impl YouTube {
    pub(super) async fn answer(
        &self,
        mention: &Mention,
        text: &str,
        key: &str,
    ) -> Result<Posted, SourceError> {
        self.grant()?;
        let id = mention.key.id.as_str();
        if let Some(video) = id.strip_prefix(VIDEO_PREFIX) {
            return self
                .answers
                .post(
                    key,
                    || self.earlier_top_level(video, text),
                    || self.post_top_level(video, text),
                )
                .await;
        }
        let thread = mention.in_reply_to.as_deref().unwrap_or(id);
        self.answers
            .post(
                key,
                || self.earlier_reply(thread, text),
                || self.post_reply(thread, text),
            )
            .await
    }

    /// The channel's reply with this text in the thread, if it is there already.
    async fn earlier_reply(&self, thread: &str, text: &str) -> Result<Option<Posted>, SourceError> {
        let page = self.threads_by_id(&[thread], Purpose::Answer).await?;
        let Some(found) = page
            .items
            .into_iter()
            .find(|t| t.id.as_deref() == Some(thread))
        else {
            return Err(SourceError::Permanent(
                "the comment is no longer on YouTube (deleted, held for review or made private); the answer was not posted".into(),
            ));
        };
        let snippet = found.snippet.clone();
        if snippet.as_ref().and_then(|s| s.can_reply) == Some(false) {
            return Err(SourceError::Permanent(
                "YouTube does not let the channel reply to this comment (canReply=false: replies are turned off or the comment is on a post that takes none); answer on YouTube instead".into(),
            ));
        }
        let video = snippet.as_ref().and_then(|s| s.video_id.clone());
        let total = snippet.and_then(|s| s.total_reply_count).unwrap_or(0) as usize;
        let inlined = found.replies.map(|r| r.comments).unwrap_or_default();
        let replies = if inlined.len() >= total {
            inlined
        } else {
            self.replies(thread).await?
        };
        Ok(replies
            .iter()
            .find(|reply| self.is_channels(reply) && reply.text().trim() == text.trim())
            .and_then(|reply| self.posted(reply, video.as_deref())))
    }

    async fn post_reply(&self, thread: &str, text: &str) -> Result<Posted, SourceError> {
        let body = json!({"snippet": {"parentId": thread, "textOriginal": text}});
        let comment: Comment = self
            .call(
                "YouTube comments.insert",
                Bucket::Units,
                Purpose::Answer,
                INSERT_COST,
                true,
                |http, api| {
                    http.post(format!("{api}/comments"))
                        .query(&[("part", "snippet")])
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.to_string())
                },
            )
            .await
            .map_err(refused_answer)?;
        let video = comment.snippet.as_ref().and_then(|s| s.video_id.clone());
        let posted = self.posted(&comment, video.as_deref()).unwrap_or(Posted {
            link: None,
            id: comment.id.clone(),
        });
        if let (Some(id), Some(at)) = (
            comment.id.as_deref(),
            comment.snippet.as_ref().and_then(|s| s.published_at),
        ) {
            self.note_channel_reply(thread, at, id, video.as_deref());
        }
        Ok(posted)
    }

    async fn earlier_top_level(
        &self,
        video: &str,
        text: &str,
    ) -> Result<Option<Posted>, SourceError> {
        let page = self.video_threads(video, Purpose::Answer).await?;
        Ok(page
            .items
            .iter()
            .filter_map(|thread| thread.snippet.as_ref()?.top_level_comment.as_ref())
            .find(|top| self.is_channels(top) && top.text().trim() == text.trim())
            .and_then(|top| self.posted(top, Some(video))))
    }

    async fn post_top_level(&self, video: &str, text: &str) -> Result<Posted, SourceError> {
        let body = json!({"snippet": {
            "videoId": video,
            "topLevelComment": {"snippet": {"textOriginal": text}},
        }});
        let thread: Thread = self
            .call(
                "YouTube commentThreads.insert",
                Bucket::Units,
                Purpose::Answer,
                INSERT_COST,
                true,
                |http, api| {
                    http.post(format!("{api}/commentThreads"))
                        .query(&[("part", "snippet")])
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.to_string())
                },
            )
            .await
            .map_err(refused_answer)?;
        let id = thread.id.clone();
        Ok(Posted {
            link: id
                .as_deref()
                .map(|id| format!("{SITE}/watch?v={video}&lc={id}")),
            id,
        })
    }

    async fn threads_by_id(
        &self,
        ids: &[&str],
        purpose: Purpose,
    ) -> Result<Listing<Thread>, Refused> {
        let ids = ids.join(",");
        self.call(
            "YouTube commentThreads.list",
            Bucket::Units,
            purpose,
            READ,
            false,
            |http, api| {
                http.get(format!("{api}/commentThreads")).query(&[
                    ("part", "snippet,replies"),
                    ("id", ids.as_str()),
                    ("maxResults", "100"),
                    ("textFormat", "plainText"),
                ])
            },
        )
        .await
    }

    async fn video_threads(
        &self,
        video: &str,
        purpose: Purpose,
    ) -> Result<Listing<Thread>, Refused> {
        self.call(
            "YouTube commentThreads.list",
            Bucket::Units,
            purpose,
            READ,
            false,
            |http, api| {
                http.get(format!("{api}/commentThreads")).query(&[
                    ("part", "snippet"),
                    ("videoId", video),
                    ("order", "time"),
                    ("maxResults", "100"),
                    ("textFormat", "plainText"),
                ])
            },
        )
        .await
    }

    fn is_channels(&self, comment: &Comment) -> bool {
        comment.author_channel() == Some(self.settings.channel_id.as_str())
    }

    fn posted(&self, comment: &Comment, video: Option<&str>) -> Option<Posted> {
        let id = comment.id.clone()?;
        let video = comment
            .snippet
            .as_ref()
            .and_then(|s| s.video_id.as_deref())
            .or(video);
        Some(Posted {
            link: video.map(|video| format!("{SITE}/watch?v={video}&lc={id}")),
            id: Some(id),
        })
    }

    /// A poll (or an answer) saw the channel reply in `thread`.
    pub(super) fn note_channel_reply(
        &self,
        thread: &str,
        at: DateTime<Utc>,
        reply: &str,
        video: Option<&str>,
    ) {
        let link = match video {
            Some(video) => format!("{SITE}/watch?v={video}&lc={reply}"),
            None => format!("comment {reply}"),
        };
        let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        let entry = checked.entry(thread.to_string()).or_default();
        if !entry
            .channel_replies
            .iter()
            .any(|(_, known)| *known == link)
        {
            entry.channel_replies.push((at, link));
        }
    }

    /// A reply by the channel in the mention's thread, posted after the mention.
    pub(super) async fn channel_reply(&self, mention: &Mention) -> Result<Option<String>, Failure> {
        let id = mention.key.id.as_str();
        let (thread, video) = match id.strip_prefix(VIDEO_PREFIX) {
            Some(video) => (id.to_string(), Some(video)),
            None => (
                mention
                    .in_reply_to
                    .clone()
                    .unwrap_or_else(|| id.to_string()),
                None,
            ),
        };
        let now = self.now();
        let after = mention.created_at;
        let batch = {
            let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
            checked.retain(|_, entry| entry.asked_at.is_none_or(|at| now - at < FORGET));
            let entry = checked.entry(thread.clone()).or_default();
            entry.asked_at = Some(now);
            if let Some(found) = answer_after(entry, after) {
                return Ok(Some(found));
            }
            if entry.checked_at.is_some_and(|at| now - at < FRESH) {
                return Ok(None);
            }
            // Other threads owed an answer and due a check ride along in the same read.
            let mut batch = vec![thread.clone()];
            batch.extend(
                checked
                    .iter()
                    .filter(|(other, entry)| {
                        **other != thread
                            && !other.starts_with(VIDEO_PREFIX)
                            && entry.asked_at.is_some()
                            && entry.checked_at.is_none_or(|at| now - at >= FRESH)
                    })
                    .map(|(other, _)| other.clone())
                    .take(BATCH - 1),
            );
            batch
        };
        if let Some(video) = video {
            let page = self.video_threads(video, Purpose::Poll).await?;
            let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
            let entry = checked.entry(thread.clone()).or_default();
            entry.checked_at = Some(now);
            for top in page
                .items
                .iter()
                .filter_map(|t| t.snippet.as_ref()?.top_level_comment.as_ref())
            {
                if let (true, Some(at), Some(posted)) = (
                    self.is_channels(top),
                    top.snippet.as_ref().and_then(|s| s.published_at),
                    self.posted(top, Some(video)),
                ) {
                    let link = posted.link.unwrap_or_default();
                    if !entry
                        .channel_replies
                        .iter()
                        .any(|(_, known)| *known == link)
                    {
                        entry.channel_replies.push((at, link));
                    }
                }
            }
            return Ok(answer_after(entry, after));
        }
        let ids: Vec<&str> = batch.iter().map(String::as_str).collect();
        let page = self.threads_by_id(&ids, Purpose::Poll).await?;
        let mut complete = Vec::new();
        for found in &page.items {
            let Some(found_id) = found.id.as_deref() else {
                continue;
            };
            let snippet = found.snippet.as_ref();
            let video = snippet.and_then(|s| s.video_id.as_deref());
            let total = snippet.and_then(|s| s.total_reply_count).unwrap_or(0) as usize;
            let inlined = found
                .replies
                .as_ref()
                .map(|r| r.comments.clone())
                .unwrap_or_default();
            let replies = if inlined.len() >= total {
                complete.push(found_id.to_string());
                inlined
            } else if found_id == thread {
                complete.push(found_id.to_string());
                self.replies(found_id).await.map_err(|error| match error {
                    SourceError::Retry { reason, after } => Failure::Retry { reason, after },
                    SourceError::Permanent(reason) => Failure::Permanent(reason),
                })?
            } else {
                inlined // the rest of a long thread is read when it is asked about itself
            };
            for reply in replies.iter().filter(|reply| self.is_channels(reply)) {
                if let (Some(id), Some(at)) = (
                    reply.id.as_deref(),
                    reply.snippet.as_ref().and_then(|s| s.published_at),
                ) {
                    self.note_channel_reply(found_id, at, id, video);
                }
            }
        }
        let mut checked = self.checked.lock().unwrap_or_else(|p| p.into_inner());
        let returned: Vec<&str> = page.items.iter().filter_map(|t| t.id.as_deref()).collect();
        for id in &batch {
            // A thread that did not come back is gone: nothing more to find in it.
            if complete.contains(id) || !returned.contains(&id.as_str()) {
                checked.entry(id.clone()).or_default().checked_at = Some(now);
            }
        }
        Ok(checked
            .get(&thread)
            .and_then(|entry| answer_after(entry, after)))
    }
}

fn answer_after(entry: &Checked, after: DateTime<Utc>) -> Option<String> {
    entry
        .channel_replies
        .iter()
        .find(|(at, _)| *at >= after)
        .map(|(_, link)| format!("reply by the channel on YouTube: {link}"))
}

/// YouTube's documented refusals of an answer, worded for the person who wrote it.
fn refused_answer(refused: Refused) -> SourceError {
    let why = match refused.reason.as_deref() {
        Some("operationNotSupported") => {
            "YouTube does not allow a reply to this comment (operationNotSupported: check that replies are possible there, canReply)"
        }
        Some("parentCommentIsPrivate") => {
            "the comment is private now (parentCommentIsPrivate), so it cannot be answered"
        }
        Some("commentsDisabled") => "comments are turned off on this video (commentsDisabled)",
        Some("commentTextTooLong") => "the answer is too long for YouTube (commentTextTooLong)",
        Some("ineligibleAccount") => {
            "the account behind the refresh token has no YouTube channel that may comment (ineligibleAccount)"
        }
        Some("forbidden" | "insufficientPermissions") => {
            "YouTube refused the channel's token (grant the scope youtube.force-ssl)"
        }
        _ => return refused.failure.into(),
    };
    SourceError::Permanent(format!(
        "{why}; the answer was not posted: {}",
        refused.failure
    ))
}
