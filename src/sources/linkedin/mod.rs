//! LinkedIn organization Pages, through the Community Management API: mentions of the Page
//! (social-action notifications) and comments on its recent posts with their replies, answered
//! as the organization. Every call carries `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`; a retired version is reported naming the `version` key.

pub mod config;
mod wire;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{Fetched, Posted, Source, SourceError};
use crate::domain::{Author, Cursor, Mention, MentionKey, Network};
use crate::net::{
    base_url, read_json, Budget, Clock, CursorSet, Failure, PostOnce, Purpose, RateHeaders,
    Transport,
};
pub use config::{Settings, Watch, NETWORK};
use wire::{Comment, Elements, Notification, Post};

pub const DEFAULT_API_URL: &str = "https://api.linkedin.com/rest";
/// LinkedIn retires a version about a year after it ships; `version` overrides this.
pub const DEFAULT_VERSION: &str = "202611";
/// A poll reads the notifications and the newest posts' comments: a handful of calls, far
/// below the Community Management API's daily application limits.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(5 * 60);
const SITE: &str = "https://www.linkedin.com";
/// The newest posts whose comments are read.
const POSTS: &str = "10";
/// Comments created this long before the newest one seen are read again.
const OVERLAP_MS: i64 = 10 * 60 * 1000;
/// The token is warned about this long before it expires.
const WARN_BEFORE: chrono::Duration = chrono::Duration::days(7);

pub struct LinkedIn {
    name: String,
    settings: Settings,
    every: Duration,
    transport: Transport,
    answers: PostOnce<Posted>,
}

impl LinkedIn {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> LinkedIn {
        LinkedIn {
            name,
            settings,
            every,
            transport: Transport::new(
                "LinkedIn",
                http,
                Budget::new(0).pausing_on_refusal(Duration::from_secs(60)),
                RateHeaders::NONE,
            ),
            answers: PostOnce::default(),
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> LinkedIn {
        self.transport.set_clock(clock);
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.transport.budget().now()
    }

    /// One call with the token and the versioned headers; a retired version and a dead token
    /// say which config key to change.
    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<T, Failure> {
        let api = base_url(&self.settings.api_url);
        let request = build(self.transport.http(), &api)
            .bearer_auth(self.settings.token.expose())
            .header("LinkedIn-Version", &self.settings.version)
            .header("X-Restli-Protocol-Version", "2.0.0");
        let response = self.transport.send(what, purpose, request).await?;
        let status = response.status().as_u16();
        if status == 426 || status == 400 {
            let body = response.text().await.unwrap_or_default();
            if status == 426 || body.contains("NONEXISTENT_VERSION") {
                return Err(Failure::Permanent(format!(
                    "LinkedIn no longer serves API version {} (HTTP {status}): set `version` in source `{}` to a current one (\"YYYYMM\", see LinkedIn's Marketing API versioning page)",
                    self.settings.version, self.name
                )));
            }
            return Err(Failure::Permanent(format!(
                "{what} answered {status}: {}",
                crate::net::transport::snippet(&body)
            )));
        }
        if status == 401 {
            return Err(Failure::Permanent(format!(
                "LinkedIn refused the token of source `{}` (401: expired or revoked; tokens last about 60 days): renew `token` with a Page admin's sign-in, and update `token_expires`",
                self.name
            )));
        }
        let response = self.transport.check(what, response).await?;
        read_json(what, response).await
    }

    /// A warning when the token expires within a week (for the digest's source health).
    fn token_warning(&self) -> Option<String> {
        let expires = self.settings.token_expires?;
        let now = self.now();
        (expires - now < WARN_BEFORE).then(|| {
            format!(
                "the LinkedIn token of source `{}` expires on {}: renew `token` (and `token_expires`) before then",
                self.name,
                expires.format("%Y-%m-%d")
            )
        })
    }

    async fn read_mentions(
        &self,
        since: Option<i64>,
    ) -> Result<(Vec<Mention>, Option<i64>), Failure> {
        let now_ms = self.now().timestamp_millis();
        let start = since.unwrap_or(now_ms - 24 * 3600 * 1000);
        let organization = encode(&self.settings.organization);
        let query = format!(
            "q=criteria&organizationalEntity={organization}&actions=List(SHARE_MENTION,COMMENT_MENTION)&timeRange=(start:{start},end:{now_ms})&count=50"
        );
        let page: Elements<Notification> = self
            .call(
                "LinkedIn organizationalEntityNotifications",
                Purpose::Poll,
                |http, api| http.get(format!("{api}/organizationalEntityNotifications?{query}")),
            )
            .await?;
        let mut found = Vec::new();
        let mut newest = since;
        for note in page.elements {
            let Some(at) = note.last_modified_at else {
                continue;
            };
            let Some(target) = note.generated_activity.clone().or(note.source_post.clone()) else {
                continue;
            };
            newest = Some(newest.map_or(at, |n| n.max(at)));
            let post = note.source_post.clone().unwrap_or_else(|| target.clone());
            found.push(Mention {
                key: MentionKey::new(&self.name, &target),
                network: Network::LinkedIn,
                author: Author::default(),
                text: match note.action.as_deref() {
                    Some("COMMENT_MENTION") => "mentioned the Page in a comment".into(),
                    _ => "mentioned the Page in a post".into(),
                },
                link: Some(format!("{SITE}/feed/update/{post}")),
                created_at: DateTime::from_timestamp_millis(at).unwrap_or_default(),
                matched: Vec::new(),
                language: None,
                in_reply_to: (target != post).then_some(post),
                direct: true,
                review: None,
            });
        }
        Ok((found, newest))
    }

    async fn read_comments(
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
    async fn comments_of(&self, target: &str) -> Result<Vec<Comment>, Failure> {
        let encoded = encode(target);
        let mut all = Vec::new();
        let mut start = 0u32;
        for _ in 0..5 {
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
            network: Network::LinkedIn,
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

    /// The organization's comment with this text under `target`, if it is there already.
    async fn earlier(&self, target: &str, text: &str) -> Result<Option<Posted>, Failure> {
        let comments = self.comments_of(target).await?;
        Ok(comments
            .iter()
            .find(|c| {
                c.actor.as_deref() == Some(self.settings.organization.as_str())
                    && c.message
                        .as_ref()
                        .and_then(|m| m.text.as_deref())
                        .map(str::trim)
                        == Some(text.trim())
            })
            .map(|c| Posted {
                link: None,
                id: c.urn(),
            }))
    }

    async fn post(
        &self,
        target: &str,
        object: &str,
        parent: Option<&str>,
        text: &str,
    ) -> Result<Posted, Failure> {
        let mut body = json!({
            "actor": self.settings.organization,
            "object": object,
            "message": {"text": text},
        });
        if let Some(parent) = parent {
            body["parentComment"] = json!(parent);
        }
        let encoded = encode(target);
        let created: Comment = self
            .call("LinkedIn comment", Purpose::Answer, |http, api| {
                http.post(format!("{api}/socialActions/{encoded}/comments"))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string())
            })
            .await?;
        Ok(Posted {
            link: None,
            id: created.urn(),
        })
    }
}

/// A URN as one path segment or query value (Rest.li 2.0 wants `:`, `(`, `,` encoded).
fn encode(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

#[async_trait]
impl Source for LinkedIn {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        Network::LinkedIn
    }

    fn every(&self) -> Duration {
        self.every
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks = CursorSet::<i64, SourceError>::read(cursor, "LinkedIn", &self.name);
        let mut mentions = Vec::new();
        for watch in &self.settings.watch {
            let key = watch.key();
            let since = marks.get(key).copied();
            let outcome = match watch {
                Watch::Mentions => self.read_mentions(since).await,
                Watch::Comments => self.read_comments(since).await,
            };
            marks.record(key, outcome.map_err(SourceError::from), &mut mentions);
        }
        let (cursor, mut problems) = marks.finish(cursor)?;
        problems.extend(self.token_warning());
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    /// Under a comment: a reply (`parentComment`) on the comment's post; under a post: a
    /// top-level comment. Posted once: the thread is read for the same text first.
    async fn reply(&self, mention: &Mention, text: &str, key: &str) -> Result<Posted, SourceError> {
        let id = mention.key.id.as_str();
        let post = mention
            .in_reply_to
            .clone()
            .unwrap_or_else(|| id.to_string());
        let (target, parent) = if id.starts_with("urn:li:comment:") {
            (id.to_string(), Some(id.to_string()))
        } else {
            (id.to_string(), None)
        };
        // A reply to a reply goes to the top-level comment: LinkedIn nests one level.
        let object = wire::comment_object(id).unwrap_or(post);
        Ok(self
            .answers
            .post(
                key,
                || self.earlier(&target, text),
                || self.post(&target, &object, parent.as_deref(), text),
            )
            .await?)
    }
}
