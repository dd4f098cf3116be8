//! YouTube, through the Data API v3: comments on the channel's videos (every one is addressed
//! to the brand) and new videos that name it, answered as the channel.
//!
//! `config.rs` reads the config section and builds the source, `quota.rs` keeps the daily
//! quota, `comments.rs` reads threads and replies, `search.rs` new videos, `reply.rs` posts
//! answers once and finds the channel's own replies, `wire.rs` holds the JSON shapes. The
//! channel's token is `google::oauth`'s refresh grant (Google's wording of a refusal), on the
//! toolkit's `net::oauth`, shared with Business Profile.

mod comments;
pub mod config;
pub mod quota;
mod reply;
mod search;
mod wire;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::{Fetched, Posted, Source, SourceError};
use crate::domain::text::plain_text;
use crate::domain::{Author, Cursor, Mention, MentionKey, Network};
pub use crate::net::oauth::OAuth;
use crate::net::oauth::TokenCache;
use crate::net::{
    base_url, classify, read_json, Budget, Clock, CursorSet, Failure, PostOnce, Purpose,
    RateHeaders, Transport,
};
use crate::sources::google::{RefreshExpiry, RefreshGrant, Renewal};
pub use config::{Settings, Watch, NETWORK, TRAITS};
use quota::{Bucket, Quota, LIST_COST};

pub const DEFAULT_API_URL: &str = "https://www.googleapis.com/youtube/v3";
pub use crate::sources::google::DEFAULT_TOKEN_URL;
/// Every 5 minutes: a `comments` poll costs about 2 units (the newest page of threads and one
/// page of the sweep through older ones), so 288 polls spend ~600 of the 5,000 units polls may
/// use; replies read for busy threads and answered-detection come out of the rest of that share.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(5 * 60);
const SITE: &str = "https://www.youtube.com";
/// Who renews the channel's grant when Google refuses it.
const RENEWAL: Renewal = Renewal {
    network: "YouTube",
    scope: "youtube.force-ssl",
    who: "the channel's owner",
};
/// A mention id for a video found by search (answered with a top-level comment).
const VIDEO_PREFIX: &str = "video:";
/// Where the cursor keeps today's quota spending across restarts.
const QUOTA_NOTE: &str = "@quota";

pub struct YouTube {
    name: String,
    settings: Settings,
    every: Duration,
    transport: Transport,
    quota: Quota,
    token: TokenCache,
    expiry: RefreshExpiry,
    answers: PostOnce<Posted>,
    /// Threads' answered-detection results, so one `id=` read serves up to 50 threads.
    checked: Mutex<HashMap<String, reply::Checked>>,
}

/// A refusal from the API with its documented `reason` (quotaExceeded, canReply...).
#[derive(Debug)]
struct Refused {
    failure: Failure,
    reason: Option<String>,
}

impl From<Refused> for Failure {
    fn from(refused: Refused) -> Failure {
        refused.failure
    }
}

impl From<Refused> for SourceError {
    fn from(refused: Refused) -> SourceError {
        refused.failure.into()
    }
}

impl YouTube {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> YouTube {
        let quota = Quota::new(settings.daily_units, settings.daily_searches);
        YouTube {
            name,
            settings,
            every,
            transport: Transport::new("YouTube", http, Budget::new(0), RateHeaders::NONE),
            quota,
            token: TokenCache::default(),
            expiry: RefreshExpiry::default(),
            answers: PostOnce::default(),
            checked: Mutex::new(HashMap::new()),
        }
    }

    /// Tests move time (the quota's day, token expiry) instead of waiting.
    pub fn with_clock(mut self, clock: Clock) -> YouTube {
        self.transport.set_clock(clock);
        self
    }

    /// For a project whose allocation Google raised, or a test's small one: `units` a day for
    /// everything but search, `searches` a day.
    pub fn with_quota(mut self, units: u32, searches: u32) -> YouTube {
        self.quota = Quota::new(units, searches);
        self
    }

    /// Units spent today by polls and by answers, and searches (for `check` and tests).
    pub fn quota_used(&self) -> (u32, u32, u32) {
        self.quota.used(self.now())
    }

    fn now(&self) -> DateTime<Utc> {
        self.transport.budget().now()
    }

    fn grant(&self) -> Result<RefreshGrant<'_>, Failure> {
        let oauth = self.settings.oauth.as_ref().ok_or_else(|| {
            Failure::Permanent(format!(
                "source `{}` cannot answer on YouTube: set `client_id`, `client_secret` and `refresh_token` (an OAuth grant of the channel with scope youtube.force-ssl)",
                self.name
            ))
        })?;
        Ok(RefreshGrant {
            source: &self.name,
            oauth,
            renewal: RENEWAL,
            transport: &self.transport,
            cache: &self.token,
            expiry: &self.expiry,
        })
    }

    /// One API call: `cost` taken from `bucket` first, then sent with the API key (reads) or the
    /// channel's token (`authorised`: writes, and reads of the channel's own texts).
    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        bucket: Bucket,
        purpose: Purpose,
        cost: u32,
        authorised: bool,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<T, Refused> {
        let unrefused = |failure| Refused {
            failure,
            reason: None,
        };
        self.quota
            .spend(bucket, purpose, cost, self.now())
            .map_err(unrefused)?;
        let api = base_url(&self.settings.api_url);
        let http = self.transport.http();
        let response = if authorised {
            let grant = self.grant().map_err(unrefused)?;
            self.transport
                .send_authorised(what, purpose, &grant, |token| {
                    build(http, &api).bearer_auth(token.expose())
                })
                .await
        } else {
            self.transport
                .send(
                    what,
                    purpose,
                    build(http, &api).query(&[("key", self.settings.api_key.expose())]),
                )
                .await
        }
        .map_err(unrefused)?;
        let status = response.status();
        if status.is_success() {
            return read_json(what, response).await.map_err(unrefused);
        }
        let wait = self.transport.wait(&response);
        let body = response.text().await.unwrap_or_default();
        let error = serde_json::from_str::<wire::ErrorBody>(&body)
            .ok()
            .and_then(|body| body.error);
        let reason = error
            .as_ref()
            .and_then(|error| error.errors.iter().find_map(|item| item.reason.clone()));
        let message = error
            .and_then(|error| error.message)
            .map(|message| plain_text(&message))
            .unwrap_or_else(|| crate::net::transport::snippet(&body));
        if matches!(
            reason.as_deref(),
            Some("quotaExceeded" | "dailyLimitExceeded")
        ) {
            return Err(Refused {
                failure: self.quota.refused(bucket, self.now()),
                reason,
            });
        }
        let label = reason
            .as_deref()
            .map(|reason| format!(" ({reason})"))
            .unwrap_or_default();
        let failure = match reason.as_deref() {
            // Short-term throttling, not the daily quota.
            Some("rateLimitExceeded" | "userRateLimitExceeded") => Failure::Retry {
                reason: format!("{what} answered {status}{label}: {message}"),
                after: wait,
            },
            _ => Failure::of(
                classify(status),
                format!("{what} answered {status}{label}: {message}"),
                wait,
            ),
        };
        Err(Refused { failure, reason })
    }

    /// A comment as a mention: never the channel's own, and always addressed to the brand.
    fn comment_mention(
        &self,
        comment: &wire::Comment,
        thread: &str,
        video: Option<&str>,
    ) -> Option<Mention> {
        let id = comment.id.as_deref()?;
        let snippet = comment.snippet.as_ref()?;
        let created_at = snippet.published_at?;
        if comment.author_channel() == Some(self.settings.channel_id.as_str()) {
            return None;
        }
        let video = snippet.video_id.as_deref().or(video);
        let text = match &snippet.text_original {
            Some(original) => original.clone(),
            None => plain_text(snippet.text_display.as_deref().unwrap_or_default()),
        };
        let display = snippet.author_display_name.clone().unwrap_or_default();
        Some(Mention {
            key: MentionKey::new(&self.name, id),
            network: TRAITS.network(),
            author: Author {
                handle: display.trim().trim_start_matches('@').to_string(),
                name: Some(display).filter(|name| !name.is_empty()),
                profile: snippet.author_channel_url.clone(),
            },
            text,
            link: video.map(|video| format!("{SITE}/watch?v={video}&lc={id}")),
            created_at,
            matched: Vec::new(),
            language: None,
            in_reply_to: (id != thread).then(|| thread.to_string()),
            direct: true,
            review: None,
        })
    }
}

#[async_trait]
impl Source for YouTube {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// One entry per watch in the cursor; a watch whose quota is spent fails alone (and says
    /// until when), the others are kept.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks = CursorSet::<wire::Mark, SourceError>::read(cursor, "YouTube", &self.name);
        if let Some(kept) = marks.note(QUOTA_NOTE) {
            self.quota.restore(kept, self.now());
        }
        let mut mentions = Vec::new();
        let searches = self
            .settings
            .watch
            .iter()
            .filter(|watch| matches!(watch, Watch::Search(_)))
            .count();
        for watch in &self.settings.watch {
            let key = watch.key();
            let stored = marks.get(&key).cloned();
            let outcome = match watch {
                Watch::Comments => {
                    let stored = match stored {
                        Some(wire::Mark::Threads(mark)) => Some(mark),
                        _ => None,
                    };
                    self.read_comments(stored)
                        .await
                        .map(|(found, mark)| (found, mark.map(wire::Mark::Threads)))
                }
                Watch::Search(query) => {
                    let stored = match stored {
                        Some(wire::Mark::Search(mark)) => mark,
                        _ => wire::SearchMark::default(),
                    };
                    self.search(query, stored, searches)
                        .await
                        .map(|(found, mark)| (found, mark.map(wire::Mark::Search)))
                }
            };
            marks.record(&key, outcome, &mut mentions);
        }
        marks.set_note(QUOTA_NOTE, self.quota.snapshot(self.now()));
        let (cursor, mut problems) = marks.finish(cursor)?;
        problems.extend(self.expiry.warning(&self.name, RENEWAL, self.now()));
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        self.answer(mention, text, idempotency_key).await
    }

    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        Ok(self.channel_reply(mention).await?)
    }
}

/// One list call's cost, for the modules that read.
const READ: u32 = LIST_COST;
