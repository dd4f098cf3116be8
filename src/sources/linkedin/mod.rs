//! LinkedIn organization Pages, through the Community Management API: mentions of the Page
//! (social-action notifications) and comments on its recent posts with their replies, answered
//! as the organization. Every call carries `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`; a retired version is reported naming the `version` key.
//!
//! `config.rs` reads the section, `token.rs` holds the access token (renewed with a refresh
//! token when the app has them, and kept in the store), `comments.rs` reads the posts'
//! comments and their replies, `reply.rs` answers once, `reread.rs` reads a comment's text again (LinkedIn's terms limit
//! how long earshot keeps its copy), `wire.rs` holds the JSON shapes.

mod comments;
pub mod config;
mod reply;
mod reread;
mod token;
mod wire;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use super::{Fetched, Posted, Source, SourceError};
use crate::domain::{Author, Cursor, Mention, MentionKey, Network, Reread};
use crate::net::{
    base_url, read_json, Budget, Clock, CursorSet, Failure, PostOnce, Purpose, RateHeaders,
    Transport,
};
use crate::store::Credentials;
pub use config::{Settings, Watch, NETWORK, TRAITS};
use token::Token;
pub use token::DEFAULT_TOKEN_URL;
use wire::{Elements, Notification};

pub const DEFAULT_API_URL: &str = "https://api.linkedin.com/rest";
/// LinkedIn retires a version about a year after it ships; `version` overrides this.
pub const DEFAULT_VERSION: &str = "202611";
/// A poll reads the notifications and the newest posts' comments: a handful of calls, far
/// below the Community Management API's daily application limits.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(5 * 60);
const SITE: &str = "https://www.linkedin.com";

pub struct LinkedIn {
    name: String,
    settings: Settings,
    every: Duration,
    transport: Transport,
    token: Token,
    answers: PostOnce<Posted>,
}

impl LinkedIn {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> LinkedIn {
        let token = Token::new(&name, &settings);
        LinkedIn {
            name,
            settings,
            token,
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

    /// Where the renewed token is kept across restarts; without it, each start renews again.
    pub fn with_credentials(mut self, credentials: Credentials) -> LinkedIn {
        self.token.set_credentials(credentials);
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> LinkedIn {
        self.transport.set_clock(clock);
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.transport.budget().now()
    }

    /// One call with the token (renewed once if LinkedIn refuses it) and the versioned
    /// headers, its JSON answer read; a retired version and a dead token say which config key
    /// to change.
    async fn call<T: DeserializeOwned>(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<T, Failure> {
        let response = self.respond(what, purpose, build).await?;
        let response = self.transport.check(what, response).await?;
        read_json(what, response).await
    }

    /// [`LinkedIn::call`] up to the response, for a caller that reads a status itself (a 404
    /// that means the comment is gone).
    async fn respond(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let api = base_url(&self.settings.api_url);
        let http = self.transport.http();
        let auth = self.token.auth(&self.transport);
        let response = self
            .transport
            .send_authorised(what, purpose, &auth, |token| {
                build(http, &api)
                    .bearer_auth(token.expose())
                    .header("LinkedIn-Version", &self.settings.version)
                    .header("X-Restli-Protocol-Version", "2.0.0")
            })
            .await?;
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
            // Refused again right after a renewal (a renewal that failed says so itself).
            return Err(Failure::Permanent(format!(
                "LinkedIn refused the renewed token of source `{}` (401): check that the Page admin who signed in is still an admin of the Page and that the app keeps its Community Management access",
                self.name
            )));
        }
        Ok(response)
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
                network: TRAITS.network(),
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
        TRAITS.network()
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
        problems.extend(self.token.warning(self.now()));
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    /// A comment's text as it is now (404: gone). A mention of the Page in a post is not read
    /// again (it holds earshot's words, not the post's): its text goes at the limit.
    async fn read_again(&self, mention: &Mention) -> Result<Reread, SourceError> {
        Ok(self.reread(mention).await?)
    }

    /// Under a comment: a reply on the comment's post; under a post: a top-level comment.
    async fn reply(&self, mention: &Mention, text: &str, key: &str) -> Result<Posted, SourceError> {
        Ok(self.answer(mention, text, key).await?)
    }
}
