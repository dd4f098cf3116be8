//! Jetstream: Bluesky's firehose as plain JSON over a WebSocket, read for new posts, which the
//! rules then match by keyword. The cursor is Jetstream's `time_us` (Unix microseconds, the
//! same on every instance), so a reconnect can go to any instance and lose nothing.
//!
//! The decoder is the hot path: the full network is thousands of events a second and a replay
//! after downtime many more. It borrows from the frame and reads a record only for a post.

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::domain::{Author, Cursor, Mention, MentionKey};
use crate::sources::{Fetched, SourceError, StreamEvent};

/// The public instance earshot follows unless `jetstream_url` says otherwise.
pub const DEFAULT_URL: &str = "wss://jetstream2.us-east.bsky.network/subscribe";
/// A reconnect replays from this far before the stored cursor: Jetstream's `time_us` is the
/// time an instance saw the event, and another instance (or the same one after a restart) may
/// have seen the last events a little later. Replayed posts are dropped by URI in the store.
pub const REWIND_US: u64 = 5_000_000;
/// How long posts wait to be sent together: one store transaction (and one disk flush) per
/// batch rather than per post, at a cost in latency far below the chat's.
const BATCH_WINDOW: Duration = Duration::from_millis(20);
/// Posts per batch at most, so a replay after downtime still stores in steady steps.
const BATCH_MAX: usize = 500;
/// With no post to send, the cursor alone is handed over this often, so a quiet stream does
/// not replay hours of events after a restart.
const CURSOR_EVERY: Duration = Duration::from_secs(1);

const POST: &str = "app.bsky.feed.post";

/// The subscribe URL: posts only, from `cursor` rewound by [`REWIND_US`] (live if none).
pub fn subscribe_url(base: &url::Url, cursor: Option<u64>) -> url::Url {
    let mut url = base.clone();
    url.query_pairs_mut().append_pair("wantedCollections", POST);
    if let Some(cursor) = cursor {
        url.query_pairs_mut()
            .append_pair("cursor", &cursor.saturating_sub(REWIND_US).to_string());
    }
    url
}

/// One Jetstream frame, as far as earshot cares.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "lives on the stack for one frame; boxing would allocate on the hot path"
)]
pub enum Event<'a> {
    /// A new post.
    Post(Post<'a>),
    /// Anything else (likes, follows, deletes, identity and account events): only its time.
    Other { time_us: u64 },
}

impl Event<'_> {
    pub fn time_us(&self) -> u64 {
        match self {
            Event::Post(post) => post.time_us,
            Event::Other { time_us } => *time_us,
        }
    }
}

/// A post as Jetstream carries it, borrowed from the frame.
#[derive(Debug)]
pub struct Post<'a> {
    pub time_us: u64,
    pub did: Cow<'a, str>,
    pub rkey: Cow<'a, str>,
    pub cid: Option<Cow<'a, str>>,
    pub record: PostRecord<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostRecord<'a> {
    #[serde(borrow, default)]
    pub text: Cow<'a, str>,
    #[serde(borrow)]
    pub created_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub langs: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    pub reply: Option<ReplyRefs<'a>>,
    #[serde(borrow, default)]
    pub facets: Vec<Facet<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct ReplyRefs<'a> {
    #[serde(borrow)]
    pub root: Option<Ref<'a>>,
    #[serde(borrow)]
    pub parent: Option<Ref<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Ref<'a> {
    #[serde(borrow)]
    pub uri: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct Facet<'a> {
    #[serde(borrow, default)]
    pub features: Vec<Feature<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct Feature<'a> {
    #[serde(borrow)]
    pub did: Option<Cow<'a, str>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a Jetstream event: {0}")]
    Frame(#[source] serde_json::Error),
    #[error("a post whose record is malformed: {0}")]
    Record(#[source] serde_json::Error),
}

/// Reads one text frame. Records other than new posts are skipped unread.
pub fn decode(frame: &str) -> Result<Event<'_>, DecodeError> {
    let envelope: Envelope = serde_json::from_str(frame).map_err(DecodeError::Frame)?;
    let commit = match envelope.commit {
        Some(commit)
            if envelope.kind == "commit"
                && commit.operation == "create"
                && commit.collection == POST =>
        {
            commit
        }
        _ => {
            return Ok(Event::Other {
                time_us: envelope.time_us,
            })
        }
    };
    let Some(record) = commit.record else {
        return Err(DecodeError::Record(serde::de::Error::missing_field(
            "record",
        )));
    };
    let record: PostRecord = serde_json::from_str(record.get()).map_err(DecodeError::Record)?;
    Ok(Event::Post(Post {
        time_us: envelope.time_us,
        did: envelope.did,
        rkey: commit.rkey,
        cid: commit.cid,
        record,
    }))
}

impl Post<'_> {
    pub fn uri(&self) -> String {
        format!("at://{}/{POST}/{}", self.did, self.rkey)
    }

    /// The mention this post is, for the source `source`. `me` is the brand account's DID:
    /// a reply to its posts or an @-mention of it is addressed to the brand.
    pub fn to_mention(&self, source: &str, me: &str) -> Mention {
        let record = &self.record;
        let at_me = format!("at://{me}/");
        let replies_to_me = record.reply.as_ref().is_some_and(|reply| {
            [&reply.parent, &reply.root]
                .into_iter()
                .flatten()
                .any(|to| to.uri.starts_with(&at_me))
        });
        let names_me = record
            .facets
            .iter()
            .flat_map(|facet| &facet.features)
            .any(|feature| feature.did.as_deref() == Some(me));
        Mention {
            key: MentionKey::new(source, self.uri()),
            network: super::TRAITS.network(),
            // Jetstream carries the DID only; bsky.app links work with it in place of a handle,
            // and the source's `enrich` puts the handle in once the rules kept the post. The
            // post's link keeps the DID: it outlives a change of handle.
            author: Author {
                handle: self.did.to_string(),
                name: None,
                profile: Some(format!("https://bsky.app/profile/{}", self.did)),
            },
            text: record.text.trim().to_string(),
            link: Some(format!(
                "https://bsky.app/profile/{}/post/{}",
                self.did, self.rkey
            )),
            created_at: record
                .created_at
                .as_deref()
                .and_then(super::records::parse_time)
                .or_else(|| time_of(self.time_us))
                .unwrap_or_else(Utc::now),
            matched: Vec::new(),
            language: record.langs.first().map(|lang| lang.to_string()),
            in_reply_to: record
                .reply
                .as_ref()
                .and_then(|reply| reply.parent.as_ref())
                .map(|parent| parent.uri.to_string()),
            direct: replies_to_me || names_me,
            review: None,
        }
    }
}

/// Follows Jetstream at `base` from `cursor` for one connection, sending the posts of others
/// than `me` in batches with the `time_us` to store with them.
pub(super) async fn follow(
    source: &str,
    base: &url::Url,
    me: &str,
    cursor: &Cursor,
    events: &mpsc::Sender<StreamEvent>,
) -> Result<(), SourceError> {
    let since = cursor
        .position
        .as_deref()
        .and_then(|position| position.parse::<u64>().ok());
    let url = subscribe_url(base, since);
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|error| SourceError::Retry {
            reason: format!("cannot connect to Jetstream at {base}: {error}"),
            after: None,
        })?;
    tracing::info!(source, cursor = ?since, "following Jetstream");
    if events.send(StreamEvent::Connected).await.is_err() {
        return Ok(());
    }
    let mut batch = Batch::new(since.unwrap_or(0));
    loop {
        let next = match batch.due {
            None => socket.next().await,
            Some(due) => tokio::select! {
                frame = socket.next() => frame,
                _ = tokio::time::sleep_until(due) => {
                    if !batch.send(events).await {
                        return Ok(());
                    }
                    continue;
                }
            },
        };
        let text = match next {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => {
                batch.send(events).await;
                return Err(SourceError::Retry {
                    reason: "Jetstream closed the connection".into(),
                    after: None,
                });
            }
            Some(Ok(_)) => continue, // pings are answered by the library; no binary is asked for
            Some(Err(error)) => {
                batch.send(events).await;
                return Err(SourceError::Retry {
                    reason: format!("Jetstream connection failed: {error}"),
                    after: None,
                });
            }
        };
        match decode(text.as_str()) {
            Ok(Event::Post(post)) if post.did != me => {
                batch.add(post.time_us, Some(post.to_mention(source, me)));
            }
            Ok(event) => batch.add(event.time_us(), None),
            Err(error) => tracing::warn!(source, %error, "skipped a Jetstream frame"),
        }
        if batch.mentions.len() >= BATCH_MAX && !batch.send(events).await {
            return Ok(());
        }
    }
}

/// Posts waiting to be sent, the newest `time_us` read, and when they are due.
struct Batch {
    mentions: Vec<Mention>,
    time_us: u64,
    sent_time_us: u64,
    due: Option<Instant>,
}

impl Batch {
    fn new(time_us: u64) -> Batch {
        Batch {
            mentions: Vec::new(),
            time_us,
            sent_time_us: time_us,
            due: None,
        }
    }

    fn add(&mut self, time_us: u64, mention: Option<Mention>) {
        self.time_us = self.time_us.max(time_us);
        let wait = match mention {
            Some(mention) => {
                self.mentions.push(mention);
                BATCH_WINDOW
            }
            None if self.time_us > self.sent_time_us => CURSOR_EVERY,
            None => return,
        };
        let due = Instant::now() + wait;
        self.due = Some(self.due.map_or(due, |current| current.min(due)));
    }

    /// False when the app is gone.
    async fn send(&mut self, events: &mpsc::Sender<StreamEvent>) -> bool {
        self.due = None;
        if self.mentions.is_empty() && self.time_us == self.sent_time_us {
            return true;
        }
        self.sent_time_us = self.time_us;
        let fetched = Fetched {
            mentions: std::mem::take(&mut self.mentions),
            cursor: Cursor {
                position: Some(self.time_us.to_string()),
                ..Cursor::default()
            },
            problems: Vec::new(),
        };
        events.send(StreamEvent::Posts(fetched)).await.is_ok()
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    did: Cow<'a, str>,
    time_us: u64,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    commit: Option<Commit<'a>>,
}

#[derive(Deserialize)]
struct Commit<'a> {
    #[serde(borrow)]
    operation: Cow<'a, str>,
    #[serde(borrow)]
    collection: Cow<'a, str>,
    #[serde(borrow)]
    rkey: Cow<'a, str>,
    #[serde(borrow)]
    cid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    record: Option<&'a RawValue>,
}

fn time_of(time_us: u64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(i64::try_from(time_us).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST_FRAME: &str = r#"{"did":"did:plc:fan","time_us":1725911162329308,"kind":"commit","commit":{"rev":"3l3qo2vutsw2b","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vuowo2b","record":{"$type":"app.bsky.feed.post","createdAt":"2024-09-09T19:46:02.102Z","langs":["en"],"reply":{"parent":{"cid":"bafyp","uri":"at://did:plc:acme/app.bsky.feed.post/3kp"},"root":{"cid":"bafyr","uri":"at://did:plc:acme/app.bsky.feed.post/3kr"}},"text":"Is \"Acme\" open\u2026 today?"},"cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}"#;

    #[test]
    fn a_post_becomes_a_mention_with_its_uri_reply_and_time() {
        let Ok(Event::Post(post)) = decode(POST_FRAME) else {
            panic!("not a post");
        };
        assert_eq!(post.time_us, 1725911162329308);
        assert_eq!(
            post.cid.as_deref(),
            Some("bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi")
        );
        let mention = post.to_mention("sky", "did:plc:acme");
        assert_eq!(
            mention.key.id,
            "at://did:plc:fan/app.bsky.feed.post/3l3qo2vuowo2b"
        );
        assert_eq!(mention.text, "Is \"Acme\" open… today?");
        assert_eq!(
            mention.in_reply_to.as_deref(),
            Some("at://did:plc:acme/app.bsky.feed.post/3kp")
        );
        assert!(mention.direct, "a reply to the brand is addressed to it");
        assert_eq!(mention.language.as_deref(), Some("en"));
        assert_eq!(
            mention.created_at.to_rfc3339(),
            "2024-09-09T19:46:02.102+00:00"
        );
        assert!(!post.to_mention("sky", "did:plc:other").direct);
    }

    #[test]
    fn other_events_give_only_their_time_and_broken_ones_an_error() {
        let like = r#"{"did":"did:plc:a","time_us":5,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"x","record":{"subject":"not even a post"},"cid":"c"}}"#;
        let delete = r#"{"did":"did:plc:a","time_us":6,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":"x"}}"#;
        let identity = r#"{"did":"did:plc:a","time_us":7,"kind":"identity","identity":{"did":"did:plc:a","handle":"a.test","seq":1,"time":"2024-09-09T19:46:02.102Z"}}"#;
        for (frame, time) in [(like, 5), (delete, 6), (identity, 7)] {
            match decode(frame) {
                Ok(Event::Other { time_us }) => assert_eq!(time_us, time),
                other => panic!("{frame}: {other:?}"),
            }
        }
        for broken in [
            "",
            "{",
            r#"{"did":"x","kind":"commit"}"#,
            r#"{"did":"x","time_us":"soon","kind":"commit"}"#,
            r#"{"did":"x","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"r"}}"#,
            r#"{"did":"x","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"r","record":{"text":42}}}"#,
        ] {
            assert!(decode(broken).is_err(), "{broken}");
        }
    }

    #[test]
    fn the_subscribe_url_asks_for_posts_and_rewinds_the_cursor() {
        let base = url::Url::parse("wss://jet.example/subscribe").unwrap();
        assert_eq!(
            subscribe_url(&base, None).as_str(),
            "wss://jet.example/subscribe?wantedCollections=app.bsky.feed.post"
        );
        assert_eq!(
            subscribe_url(&base, Some(1_725_911_162_329_308)).as_str(),
            "wss://jet.example/subscribe?wantedCollections=app.bsky.feed.post&cursor=1725911157329308"
        );
        assert!(subscribe_url(&base, Some(3)).as_str().ends_with("cursor=0"));
    }
}
