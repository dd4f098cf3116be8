//! Mastodon: the brand account's mention notifications and hashtag timelines on its own
//! instance, polled forward with `min_id` cursors; answers posted as replies with an
//! `Idempotency-Key`, so a retried answer is posted once.

mod accounts;
pub mod config;

pub use config::{Settings, DEFAULT_EVERY, NETWORK, TRAITS};

use std::time::Duration;

use async_trait::async_trait;
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::OnceCell;

mod streaming;
mod wire;

use wire::{
    stream_item, to_mention, Account, ApiError, Instance, RawStatus, SearchResults, Thread,
};

use super::{Fetched, Posted, Source, SourceError, StreamEvent};
use crate::domain::{Cursor, Mention, Network};
use crate::net::{
    classify, transport::decode, Budget, Clock, CursorSet, Failure, Pager, Purpose, RateHeaders,
    Reset, Transport, Turn,
};

/// Mastodon's own default; used when the instance does not say.
const DEFAULT_MAX_CHARS: usize = 500;
/// The largest pages the API serves: fewer requests out of the 300 per 5 minutes.
const NOTIFICATIONS_PAGE: usize = 80;
const TAG_PAGE: usize = 40;
/// Pages per stream and poll; the cursor keeps the rest for the next poll, so a backlog after
/// a long outage is caught up without spending the whole rate-limit budget at once.
const PAGER: Pager = Pager::new(20);
/// Polls stop when the budget left in the window falls this low, so answers can still go out.
const RESERVED_REQUESTS: u32 = 10;
/// After a 429 or 5xx that names no wait, the instance is left alone this long.
const DEFAULT_PAUSE: Duration = Duration::from_secs(60);
/// Mastodon's window: requests left, and the RFC 3339 time it resets.
const RATE_HEADERS: RateHeaders = RateHeaders {
    remaining: "x-ratelimit-remaining",
    reset: "x-ratelimit-reset",
    form: Reset::Rfc3339,
};

/// One thing to watch on the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// Posts that @-mention the account the token belongs to.
    Mentions,
    /// Public posts with this hashtag (without `#`).
    Hashtag(String),
}

impl Watch {
    /// `"mentions"` or `"#tag"`.
    pub fn parse(text: &str) -> Result<Watch, String> {
        let text = text.trim();
        if text == "mentions" {
            return Ok(Watch::Mentions);
        }
        match text.strip_prefix('#') {
            Some(tag) if !tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                // Hashtags are case-insensitive; one spelling keeps one cursor.
                Ok(Watch::Hashtag(tag.to_lowercase()))
            }
            _ => Err(format!(
                "`{text}` is not something Mastodon can watch; use \"mentions\" or a hashtag like \"#acme\""
            )),
        }
    }

    /// The stream's name in the stored cursor.
    fn key(&self) -> String {
        match self {
            Watch::Mentions => "mentions".to_string(),
            Watch::Hashtag(tag) => format!("#{tag}"),
        }
    }
}

pub struct Mastodon {
    name: String,
    instance: url::Url,
    token: String,
    watch: Vec<Watch>,
    stream: bool,
    every: Duration,
    transport: Transport,
    me: OnceCell<Account>,
    max_chars: OnceCell<usize>,
}

impl Mastodon {
    pub fn new(
        name: String,
        instance: url::Url,
        token: String,
        watch: Vec<Watch>,
        every: Duration,
        http: reqwest::Client,
    ) -> Mastodon {
        let host = instance.host_str().unwrap_or("the instance").to_string();
        Mastodon {
            name,
            instance,
            token,
            watch,
            stream: false,
            every,
            transport: Transport::new(
                host,
                http,
                Budget::new(RESERVED_REQUESTS).pausing_on_refusal(DEFAULT_PAUSE),
                RATE_HEADERS,
            ),
            me: OnceCell::new(),
            max_chars: OnceCell::new(),
        }
    }

    /// Also follows the streaming API (notifications and hashtags) beside the polls.
    pub fn with_stream(mut self, stream: bool) -> Mastodon {
        self.stream = stream;
        self
    }

    /// Where the instance serves its streaming API: often the instance itself, sometimes a
    /// host of its own (`configuration.urls.streaming`).
    async fn streaming_host(&self) -> Result<url::Url, SourceError> {
        let instance = self.instance().await?;
        Ok(instance
            .streaming()
            .and_then(|url| url::Url::parse(url).ok())
            .unwrap_or_else(|| self.instance.clone()))
    }

    /// The instance's description from `/api/v2/instance`, or from `/api/v1/instance` where
    /// the newer one does not exist (or fails).
    async fn instance(&self) -> Result<Instance, SourceError> {
        let newer = self.describe("/api/v2/instance").await;
        match newer {
            Ok(instance) => Ok(instance),
            Err(newer) => {
                self.describe("/api/v1/instance")
                    .await
                    .map_err(|older| SourceError::Retry {
                        reason: format!("the instance's description: {newer}; {older}"),
                        after: None,
                    })
            }
        }
    }

    async fn describe(&self, path: &str) -> Result<Instance, SourceError> {
        let response = self.send(self.get(path), false).await?;
        let body = self.checked(response, &format!("reading {path}")).await?;
        parse(&body, path)
    }

    pub fn with_clock(mut self, clock: Clock) -> Mastodon {
        self.transport.set_clock(clock);
        self
    }

    /// The account the token belongs to: its posts are the brand's own, never relayed.
    async fn me(&self) -> Result<&Account, SourceError> {
        self.me
            .get_or_try_init(|| async {
                let response = self
                    .send(self.get("/api/v1/accounts/verify_credentials"), false)
                    .await?;
                let body = self.checked(response, "verifying the token").await?;
                parse::<Account>(&body, "the token's account")
            })
            .await
    }

    /// The instance's limit on post length (`configuration.statuses.max_characters`, or v1's
    /// `max_toot_chars`), Mastodon's 500 when it describes itself without one. `None` when the
    /// description cannot be read: the answer is sent and the instance itself judges its length,
    /// so a limit that cannot be read never fails an answer.
    async fn max_chars(&self) -> Option<usize> {
        let read = self
            .max_chars
            .get_or_try_init(|| async {
                let instance = self.instance().await?;
                Ok::<_, SourceError>(instance.max_characters().unwrap_or(DEFAULT_MAX_CHARS))
            })
            .await;
        match read {
            Ok(max) => Some(*max),
            Err(error) => {
                tracing::warn!(source = %self.name, %error, "cannot read the instance's post length limit; the instance will judge the answer");
                None
            }
        }
    }

    /// Walks one stream forward from its stored id, oldest page first, until an empty page.
    /// Returns what it found and the newest id reached; stops early (keeping what it has) if
    /// a page fails after the first.
    async fn walk(
        &self,
        watch: &Watch,
        since: Option<&str>,
        me: &Account,
    ) -> Result<(Vec<Mention>, Option<String>, Option<SourceError>), SourceError> {
        let mut mentions = Vec::new();
        let mut newest = since.map(str::to_string);
        let mut pages = PAGER.pages();
        while pages.next_page().is_some() {
            let (found, top) = match self.page(watch, newest.as_deref(), me).await {
                Ok(page) => page,
                Err(error) if pages.read() == 1 => return Err(error),
                Err(error) => return Ok((mentions, newest, Some(error))),
            };
            let Some(top) = top else { break };
            mentions.extend(found);
            let first_run = newest.is_none();
            newest = Some(top.clone());
            // A new source starts from the latest page, not from the account's whole history.
            pages.turn(if first_run {
                Turn::Stop
            } else {
                Turn::Next(top)
            });
        }
        Ok((mentions, newest, None))
    }

    /// One page newer than `min_id`: its mentions and its newest id (`None` when empty).
    async fn page(
        &self,
        watch: &Watch,
        min_id: Option<&str>,
        me: &Account,
    ) -> Result<(Vec<Mention>, Option<String>), SourceError> {
        let (path, limit) = match watch {
            Watch::Mentions => ("/api/v1/notifications".to_string(), NOTIFICATIONS_PAGE),
            Watch::Hashtag(tag) => (format!("/api/v1/timelines/tag/{tag}"), TAG_PAGE),
        };
        let mut query = vec![("limit".to_string(), limit.to_string())];
        if matches!(watch, Watch::Mentions) {
            query.push(("types[]".to_string(), "mention".to_string()));
        }
        if let Some(min_id) = min_id {
            query.push(("min_id".to_string(), min_id.to_string()));
        }
        let response = self.send(self.get(&path).query(&query), true).await?;
        let what = match watch {
            Watch::Mentions => "mention notifications".to_string(),
            Watch::Hashtag(tag) => format!("the #{tag} timeline"),
        };
        let body = self.checked(response, &what).await?;
        let items: Vec<serde_json::Value> = parse(&body, &what)?;
        let mut top: Option<String> = None;
        let mut mentions = Vec::new();
        let direct = matches!(watch, Watch::Mentions);
        for item in items {
            let Some((id, status)) = stream_item(&item, direct) else {
                tracing::warn!(source = %self.name, "skipped an item without an id from {what}");
                continue;
            };
            if top.as_deref().is_none_or(|top| newer(&id, top)) {
                top = Some(id.clone());
            }
            match status {
                Ok(Some(status)) => {
                    if let Some(mention) = to_mention(&self.name, status, direct, me) {
                        mentions.push((id, mention));
                    }
                }
                Ok(None) => {}
                Err(reason) => {
                    tracing::warn!(source = %self.name, %reason, "skipped a malformed item from {what}")
                }
            }
        }
        // The API lists newest first; cards read better oldest first.
        mentions.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        Ok((
            mentions.into_iter().map(|(_, mention)| mention).collect(),
            top,
        ))
    }

    /// Posts the reply; `None` when the instance does not know `in_reply_to_id` (404).
    async fn post_reply(
        &self,
        status: &str,
        in_reply_to_id: &str,
        idempotency_key: &str,
    ) -> Result<Option<Posted>, SourceError> {
        let body = serde_json::json!({ "status": status, "in_reply_to_id": in_reply_to_id });
        let request = self
            .transport
            .http()
            .post(self.url("/api/v1/statuses"))
            .header("Idempotency-Key", idempotency_key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let response = self.send(request, false).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = self.checked(response, "posting the answer").await?;
        let posted: RawStatus = parse(&body, "the posted answer")?;
        Ok(Some(Posted {
            link: posted.url.or(posted.uri),
            id: posted.id,
        }))
    }

    /// The instance's own id for a post it may only know by its URL (a remote post, or one its
    /// cache dropped): `/api/v2/search?resolve=true` fetches it from its home server.
    async fn resolve(&self, link: &str) -> Result<Option<String>, SourceError> {
        let query = [("q", link), ("type", "statuses"), ("resolve", "true")];
        let response = self
            .send(self.get("/api/v2/search").query(&query), false)
            .await?;
        let body = self.checked(response, "looking up the post").await?;
        let found: SearchResults = parse(&body, "the search results")?;
        Ok(found.statuses.into_iter().find_map(|status| status.id))
    }

    fn url(&self, path: &str) -> url::Url {
        let mut url = self.instance.clone();
        url.set_path(path);
        url
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.transport.http().get(self.url(path))
    }

    /// Sends with the token, unless the instance asked us to wait; notes the rate-limit headers.
    async fn send(&self, request: RequestBuilder, poll: bool) -> Result<Response, SourceError> {
        let purpose = if poll { Purpose::Poll } else { Purpose::Answer };
        let request = request.bearer_auth(&self.token);
        Ok(self
            .transport
            .send(&self.instance_host(), purpose, request)
            .await?)
    }

    /// The body of a successful response, or the error the status calls for, with the
    /// instance's own message (`{"error": ...}`) when it gave one.
    async fn checked(&self, response: Response, what: &str) -> Result<Vec<u8>, SourceError> {
        let status = response.status();
        let wait = self.transport.wait(&response);
        let body = response.bytes().await.map_err(|error| {
            Failure::retry(format!("{what}: reading the response failed: {error}"))
        })?;
        if status.is_success() {
            return Ok(body.to_vec());
        }
        let detail = serde_json::from_slice::<ApiError>(&body)
            .ok()
            .and_then(|e| e.error)
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        let what = format!("{what}: {}", self.instance_host());
        if status == StatusCode::UNAUTHORIZED {
            return Err(SourceError::Permanent(format!(
                "{what} rejected the token (401){detail}; check the source's `token`"
            )));
        }
        Err(Failure::of(
            classify(status),
            format!("{what} answered {status}{detail}"),
            wait,
        )
        .into())
    }

    fn instance_host(&self) -> String {
        self.instance
            .host_str()
            .unwrap_or("the instance")
            .to_string()
    }
}

#[async_trait]
impl Source for Mastodon {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// One position per stream; see [`CursorSet`] for what a failing stream or an unreadable
    /// position does. A stream that fails after its first page keeps the pages it read.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let me = self.me().await?.clone();
        let mut positions = CursorSet::<String, SourceError>::read(cursor, "Mastodon", &self.name);
        let mut mentions = Vec::new();
        for watch in &self.watch {
            let key = watch.key();
            let mut stopped = None;
            let outcome = self
                .walk(watch, positions.get(&key).map(String::as_str), &me)
                .await
                .map(|(found, newest, error)| {
                    stopped = error;
                    (found, newest)
                });
            positions.record(&key, outcome, &mut mentions);
            // A stream that failed after its first page keeps what arrived and resumes from
            // its own position next poll; the failure is reported with this one.
            if let Some(error) = stopped {
                positions.failed(&key, error);
            }
        }
        let (cursor, problems) = positions.finish(cursor)?;
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    fn streams(&self) -> bool {
        self.stream
    }

    async fn stream(
        &self,
        cursor: Cursor,
        events: tokio::sync::mpsc::Sender<StreamEvent>,
    ) -> Result<(), SourceError> {
        let _ = cursor; // the stream has no position; the backfill polls keep the `min_id`s
        let me = self.me().await?.clone();
        let host = self.streaming_host().await?;
        streaming::follow(&self.name, &host, &self.token, &self.watch, &me, &events).await
    }

    /// The thread below the post (`/api/v1/statuses/:id/context`): a reply from the brand's
    /// own account there means someone answered outside earshot.
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        let me = self.me().await?.clone();
        let path = format!("/api/v1/statuses/{}/context", mention.key.id);
        let response = self.send(self.get(&path), true).await?;
        if response.status() == StatusCode::NOT_FOUND {
            // Deleted, or no longer visible: nothing to detect.
            return Ok(None);
        }
        let body = self.checked(response, "reading the thread").await?;
        let thread: Thread = parse(&body, "the thread")?;
        Ok(thread
            .descendants
            .into_iter()
            .find(|status| status.account.as_ref().is_some_and(|a| a.id == me.id))
            .map(|status| {
                let link = status.url.or(status.uri).unwrap_or_default();
                format!("reply by @{} on Mastodon: {link}", me.acct)
            }))
    }

    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        let status = addressed(&mention.author.handle, text);
        let len = status.chars().count();
        if let Some(max) = self.max_chars().await.filter(|max| len > *max) {
            return Err(SourceError::Permanent(format!(
                "the answer is {len} characters with the @-mention of the author; {} allows {max}",
                self.instance_host()
            )));
        }
        if let Some(posted) = self
            .post_reply(&status, &mention.key.id, idempotency_key)
            .await?
        {
            return Ok(posted);
        }
        let gone = || {
            SourceError::Permanent(format!(
                "the post no longer exists on {} (deleted, or hidden from the brand's account)",
                self.instance_host()
            ))
        };
        let Some(link) = mention.link.as_deref() else {
            return Err(gone());
        };
        match self.resolve(link).await? {
            Some(id) if id != mention.key.id => self
                .post_reply(&status, &id, idempotency_key)
                .await?
                .ok_or_else(gone),
            _ => Err(gone()),
        }
    }
}

/// Mastodon only notifies the author of a reply that @-mentions them; clients add it, so do we.
fn addressed(handle: &str, text: &str) -> String {
    let text = text.trim();
    if handle.is_empty() {
        return text.to_string();
    }
    let mention = format!("@{handle}");
    let already = text.split_whitespace().any(|word| {
        word.trim_end_matches([',', ':', '.'])
            .eq_ignore_ascii_case(&mention)
    });
    if already {
        text.to_string()
    } else {
        format!("{mention} {text}")
    }
}

/// Mastodon ids are numeric strings of growing length: compare by length, then by text.
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, SourceError> {
    Ok(decode(what, body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_parses_mentions_and_hashtags() {
        assert_eq!(Watch::parse("mentions"), Ok(Watch::Mentions));
        assert_eq!(
            Watch::parse(" #Acme_Coffee "),
            Ok(Watch::Hashtag("acme_coffee".into()))
        );
        for bad in ["#", "acme", "#two words", "#a/b", "mention"] {
            assert!(Watch::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_compare_as_numbers() {
        assert!(newer("100", "99"));
        assert!(newer("110", "109"));
        assert!(!newer("99", "100"));
        assert!(!newer("5", "5"));
    }

    #[test]
    fn replies_mention_the_author_once() {
        assert_eq!(
            addressed("jane@example.social", " Thanks! "),
            "@jane@example.social Thanks!"
        );
        assert_eq!(addressed("jane", "@Jane, thanks"), "@Jane, thanks");
        assert_eq!(addressed("", "Thanks"), "Thanks");
    }
}
