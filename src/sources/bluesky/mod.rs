//! Bluesky: the brand account's notifications (mentions, replies, quotes) and keyword searches,
//! read through the account's PDS with a cached app-password session; answers posted as reply
//! records whose record key is derived from the idempotency key, so a retry cannot post twice.

pub mod config;

pub use config::{Settings, DEFAULT_EVERY, NETWORK};

pub mod jetstream;
mod profiles;
mod records;
mod reply;
mod session;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use super::{Fetched, Posted, Source, SourceError, StreamEvent};
use crate::domain::{Cursor, Mention, Network};
use crate::net::{Budget, Clock, CursorSet, Pager, RateHeaders, Reset, Secret, Transport, Turn};
use profiles::Profiles;
use records::{
    NotificationPage, PostView, PostsView, ProfilesView, SearchPage, StrongRef, REASONS,
};
use session::{Failure, Session};

pub use reply::record_key;

/// The most the API serves per page.
const PAGE: usize = 100;
/// Pages per stream and poll. Notifications page backwards from the newest, so a backlog
/// beyond this (2,500 notifications in one interval) is cut short, with a warning.
const PAGER: Pager = Pager::new(25);
/// searchPosts filters on `sortAt`, which a post's own clock can set slightly in the past:
/// each search reaches back this far before the newest post already seen.
const SEARCH_OVERLAP: chrono::Duration = chrono::Duration::minutes(5);
/// Polls stop when the PDS's budget left in its window falls this low, so answers still go out.
const RESERVED_REQUESTS: u32 = 10;
/// After a 429 or 5xx that names no wait, the PDS is left alone this long.
const DEFAULT_PAUSE: Duration = Duration::from_secs(60);
/// atproto's window: requests left, and the Unix time it resets.
const RATE_HEADERS: RateHeaders = RateHeaders {
    remaining: "ratelimit-remaining",
    reset: "ratelimit-reset",
    form: Reset::UnixSeconds,
};
/// How long streamed posts may wait for their authors' handles. Stream to card is 200 ms at
/// the median and getProfiles usually answers in tens of milliseconds; past this the cards go
/// out with the DID rather than keep the team waiting on a slow AppView.
const PROFILE_WAIT: Duration = Duration::from_secs(2);

/// One thing to watch on Bluesky.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// Mentions of, replies to and quotes of the account's posts.
    Mentions,
    /// Posts found by `app.bsky.feed.searchPosts` for this query.
    Search(String),
    /// Every new post on the network, read live from Jetstream; the rules pick the mentions.
    Jetstream,
}

impl Watch {
    /// The stream's name in the stored cursor.
    fn key(&self) -> String {
        match self {
            Watch::Mentions => "mentions".to_string(),
            Watch::Search(query) => format!("search:{query}"),
            Watch::Jetstream => "jetstream".to_string(),
        }
    }

    /// `"mentions"` or `"search:<query>"`.
    pub fn parse(text: &str) -> Result<Watch, String> {
        let text = text.trim();
        if text == "mentions" {
            return Ok(Watch::Mentions);
        }
        if text == "jetstream" {
            return Ok(Watch::Jetstream);
        }
        match text.strip_prefix("search:").map(str::trim) {
            Some(query) if !query.is_empty() => Ok(Watch::Search(query.to_string())),
            _ => Err(format!(
                "`{text}` is not something Bluesky can watch; use \"mentions\", \"search:<words>\" or \"jetstream\""
            )),
        }
    }
}

pub struct Bluesky {
    name: String,
    pds: url::Url,
    identifier: String,
    password: Secret,
    watch: Vec<Watch>,
    jetstream: url::Url,
    every: Duration,
    transport: Transport,
    session: tokio::sync::Mutex<Option<Session>>,
    /// Authors of streamed posts, by DID.
    profiles: std::sync::Mutex<Profiles>,
}

impl Bluesky {
    pub fn new(
        name: String,
        pds: url::Url,
        identifier: String,
        password: Secret,
        watch: Vec<Watch>,
        every: Duration,
        http: reqwest::Client,
    ) -> Bluesky {
        let host = pds.host_str().unwrap_or("the PDS").to_string();
        Bluesky {
            name,
            pds,
            identifier,
            password,
            watch,
            jetstream: url::Url::parse(jetstream::DEFAULT_URL).expect("a valid constant URL"),
            every,
            transport: Transport::new(
                host,
                http,
                Budget::new(RESERVED_REQUESTS).pausing_on_refusal(DEFAULT_PAUSE),
                RATE_HEADERS,
            ),
            session: tokio::sync::Mutex::new(None),
            profiles: std::sync::Mutex::new(Profiles::default()),
        }
    }

    /// Follows this Jetstream instance (its `/subscribe` URL) for the `jetstream` watch.
    pub fn with_jetstream(mut self, url: url::Url) -> Bluesky {
        self.jetstream = url;
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> Bluesky {
        self.transport.set_clock(clock);
        self
    }

    /// New mentions, replies and quotes, newest first, back to `since` (inclusive: the store
    /// drops what it has). Returns them oldest first and the newest `indexedAt` seen.
    async fn notifications(
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
    async fn search(
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

    fn post_view(&self, item: Value, what: &str) -> Option<PostView> {
        match serde_json::from_value::<PostView>(item) {
            Ok(post) => Some(post),
            Err(error) => {
                tracing::warn!(source = %self.name, %error, "skipped a malformed {what}");
                None
            }
        }
    }

    /// The post as the AppView has it now: its cid and thread root, or `None` if deleted.
    async fn current_post(&self, uri: &str) -> Result<Option<PostView>, SourceError> {
        let found: PostsView = self
            .xrpc(
                Method::GET,
                "app.bsky.feed.getPosts",
                &[("uris", uri.to_string())],
                None,
                false,
            )
            .await?;
        Ok(found.posts.into_iter().find(|post| post.uri == uri))
    }

    /// Our own record at `rkey`, if an earlier try of this answer created it.
    async fn existing_reply(
        &self,
        me: &Session,
        rkey: &str,
    ) -> Result<Option<String>, SourceError> {
        let query = [
            ("repo", me.did.clone()),
            ("collection", "app.bsky.feed.post".to_string()),
            ("rkey", rkey.to_string()),
        ];
        let session = self.session().await?;
        match self
            .call::<Value>(
                Method::GET,
                "com.atproto.repo.getRecord",
                &query,
                None,
                Some(&session.access_jwt),
                false,
            )
            .await
        {
            Ok(record) => Ok(record
                .get("uri")
                .and_then(Value::as_str)
                .map(str::to_string)),
            Err(Failure::NotFound(_)) => Ok(None),
            Err(failure) => Err(failure.into_error("com.atproto.repo.getRecord")),
        }
    }

    /// Looks up the profiles of `dids` not known yet, [`profiles::PER_CALL`] at a time, and
    /// remembers them.
    async fn resolve(&self, dids: &[String]) -> Result<(), SourceError> {
        for chunk in dids.chunks(profiles::PER_CALL) {
            let actors: Vec<(&str, String)> =
                chunk.iter().map(|did| ("actors", did.clone())).collect();
            // A poll's priority: the budget's reserve is kept for answers.
            let found: ProfilesView = self
                .xrpc(
                    Method::GET,
                    "app.bsky.actor.getProfiles",
                    &actors,
                    None,
                    true,
                )
                .await?;
            let Ok(mut known) = self.profiles.lock() else {
                return Ok(());
            };
            for profile in found.profiles {
                known.learn(profile);
            }
        }
        Ok(())
    }

    fn post_link(&self, me: &Session, uri: &str) -> String {
        let rkey = uri.rsplit('/').next().unwrap_or_default();
        format!("https://bsky.app/profile/{}/post/{rkey}", me.handle)
    }
}

#[async_trait]
impl Source for Bluesky {
    /// The direct replies below the post (`getPostThread`, depth 1): one by the brand's own
    /// account means someone answered outside earshot.
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        let me = self.session().await?;
        let nsid = "app.bsky.feed.getPostThread";
        let found: ThreadResponse = match self
            .xrpc_or_missing(
                Method::GET,
                nsid,
                &[
                    ("uri", mention.key.id.clone()),
                    ("depth", "1".to_string()),
                    ("parentHeight", "0".to_string()),
                ],
                None,
                true,
            )
            .await
        {
            Ok(found) => found,
            // Deleted since (400 `NotFound`): nothing left to detect, and no error to repeat.
            Err(Failure::NotFound(_)) => return Ok(None),
            Err(failure) => return Err(failure.into_error(nsid)),
        };
        Ok(found
            .thread
            .replies
            .into_iter()
            .filter_map(|reply| reply.post)
            .find(|post| post.author.did == me.did)
            .map(|post| {
                format!(
                    "reply by @{} on Bluesky: {}",
                    me.handle,
                    self.post_link(&me, &post.uri)
                )
            }))
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        Network::Bluesky
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// One position (the newest `indexedAt` seen) per watch; see [`CursorSet`] for what a
    /// failing watch or an unreadable position does.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let me = self.session().await?.did;
        let mut positions = CursorSet::<String, SourceError>::read(cursor, "Bluesky", &self.name);
        let mut mentions = Vec::new();
        for watch in &self.watch {
            let key = watch.key();
            let since = positions.get(&key).and_then(|at| records::parse_time(at));
            let result = match watch {
                Watch::Mentions => self.notifications(since, &me).await,
                Watch::Search(query) => self.search(query, since, &me).await,
                Watch::Jetstream => continue, // followed live by `stream`
            };
            let outcome = result.map(|(found, newest)| {
                let mark = newest.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
                (found, mark)
            });
            positions.record(&key, outcome, &mut mentions);
        }
        let (cursor, problems) = positions.finish(cursor)?;
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    fn streams(&self) -> bool {
        self.watch.contains(&Watch::Jetstream)
    }

    /// Jetstream names authors by DID: their handles and names come from getProfiles, for
    /// the posts of a batch at once, and from memory for authors seen before. A post whose
    /// author cannot be resolved in time keeps the DID (bsky.app links work with it).
    async fn enrich(&self, mentions: &mut [Mention]) {
        let mut wanted: Vec<String> = Vec::new();
        if let Ok(known) = self.profiles.lock() {
            for mention in mentions.iter() {
                let did = &mention.author.handle;
                if did.starts_with("did:") && !known.contains(did) && !wanted.contains(did) {
                    wanted.push(did.clone());
                }
            }
        }
        if !wanted.is_empty() {
            match tokio::time::timeout(PROFILE_WAIT, self.resolve(&wanted)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(source = %self.name, %error, "cannot look up the authors' handles; their cards show DIDs")
                }
                Err(_) => {
                    tracing::warn!(source = %self.name, wait = ?PROFILE_WAIT, "the authors' handles took too long; their cards show DIDs")
                }
            }
        }
        let Ok(mut known) = self.profiles.lock() else {
            return;
        };
        for mention in mentions.iter_mut() {
            if !mention.author.handle.starts_with("did:") {
                continue;
            }
            if let Some(profile) = known.get(&mention.author.handle) {
                mention.author.profile =
                    Some(format!("https://bsky.app/profile/{}", profile.handle));
                mention.author.handle = profile.handle;
                mention.author.name = profile.name;
            }
        }
    }

    async fn stream(
        &self,
        cursor: Cursor,
        events: tokio::sync::mpsc::Sender<StreamEvent>,
    ) -> Result<(), SourceError> {
        // The brand's own posts are never relayed, and Jetstream names authors by DID only.
        let me = self.session().await?.did;
        jetstream::follow(&self.name, &self.jetstream, &me, &cursor, &events).await
    }

    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        let me = self.session().await?;
        let rkey = record_key(idempotency_key, mention.created_at);
        if let Some(uri) = self.existing_reply(&me, &rkey).await? {
            return Ok(Posted {
                link: Some(self.post_link(&me, &uri)),
                id: Some(uri),
            });
        }
        let Some(post) = self.current_post(&mention.key.id).await? else {
            return Err(SourceError::Permanent(
                "the post no longer exists on Bluesky (deleted, or its author blocked the brand's account)".into(),
            ));
        };
        let Some(cid) = post.cid.clone() else {
            return Err(SourceError::Permanent(format!(
                "Bluesky gave no cid for {}",
                post.uri
            )));
        };
        let parent = StrongRef {
            uri: post.uri.clone(),
            cid,
        };
        let root = post
            .record
            .reply
            .as_ref()
            .and_then(|reply| reply.root.clone())
            .unwrap_or_else(|| parent.clone());
        let record = reply::reply_record(
            &post.author.handle,
            &post.author.did,
            text,
            &root,
            &parent,
            self.transport.budget().now(),
            mention.language.as_deref(),
        )
        .map_err(SourceError::Permanent)?;
        let body = json!({
            "repo": me.did,
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": record,
        });
        let created: Value = self
            .xrpc(
                Method::POST,
                "com.atproto.repo.createRecord",
                &[],
                Some(&body),
                false,
            )
            .await?;
        let uri = created
            .get("uri")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(Posted {
            link: Some(self.post_link(&me, uri)),
            id: Some(uri.to_string()).filter(|uri| !uri.is_empty()),
        })
    }
}

/// `app.bsky.feed.getPostThread`: only the direct replies matter here. Replies that are
/// blocked or deleted come without a post and are skipped.
#[derive(serde::Deserialize)]
struct ThreadResponse {
    thread: ThreadNode,
}

#[derive(serde::Deserialize)]
struct ThreadNode {
    #[serde(default)]
    replies: Vec<ThreadReply>,
}

#[derive(serde::Deserialize)]
struct ThreadReply {
    post: Option<PostView>,
}
