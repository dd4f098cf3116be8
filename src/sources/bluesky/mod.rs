//! Bluesky: the brand account's notifications (mentions, replies, quotes) and keyword searches,
//! read through the account's PDS with a cached app-password session; answers posted as reply
//! records whose record key is derived from the idempotency key, so a retry cannot post twice.
//!
//! `config.rs` reads the section and its watches, `session.rs` holds the session and the XRPC
//! calls, `listing.rs` reads notifications and searches, `jetstream.rs` follows the live
//! stream, `profiles.rs` remembers streamed authors, `records.rs` holds the JSON shapes,
//! `reply.rs` builds the reply record, `answer.rs` posts it once, `answered.rs` finds the
//! brand's own replies.

mod answer;
mod answered;
pub mod config;
pub mod jetstream;
mod listing;
mod profiles;
mod records;
mod reply;
mod session;

pub use config::{Settings, Watch, DEFAULT_EVERY, NETWORK, TRAITS};

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;

use super::{Fetched, Posted, Source, SourceError, StreamEvent};
use crate::domain::{Cursor, Mention, Network};
use crate::net::{Budget, Clock, CursorSet, RateHeaders, Reset, Secret, Transport};
use profiles::Profiles;
use records::ProfilesView;
use session::Session;

pub use reply::record_key;

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
    /// A reply by the brand's own account below the post: see `answered.rs`.
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        self.brand_reply(mention).await
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
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

    /// Posted once, on a record key derived from the idempotency key: see `answer.rs`.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        self.answer(mention, text, idempotency_key).await
    }
}
