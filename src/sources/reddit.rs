//! Reddit, through its OAuth API as a "script" app logged in as the brand's account: keyword
//! search (newest first), watched subreddits' new posts and comments, and the inbox (username
//! mentions and replies to the brand). Answers go to `/api/comment`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, USER_AGENT};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use super::http::{base_url, check_status, header_number, read_json, transmit, Budget, Secret};
use super::{Fetched, Posted, Source, SourceError};
use crate::domain::text::plain_text;
use crate::domain::{Author, Cursor, Mention, MentionKey, Network};

pub const DEFAULT_API_URL: &str = "https://oauth.reddit.com";
pub const DEFAULT_TOKEN_URL: &str = "https://www.reddit.com/api/v1/access_token";
/// Reddit allows 100 requests a minute per OAuth client, averaged over 10 minutes. A poll costs
/// one request per listing when nothing is new (two for a subreddit: posts and comments), so a
/// typical set of four listings polled every minute spends 4 of the 100, leaving the rest for
/// answers, bursts and other tools on the same app.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);

/// Reddit listings hold at most 100 items a page and 1,000 in all.
const PAGE_SIZE: u32 = 100;
const MAX_PAGES: u32 = 10;
/// Reddit's search index lags behind new posts, so search looks back this far before the newest
/// post it has seen, instead of stopping at it; the store drops the repeats.
const SEARCH_OVERLAP_SECS: f64 = 10.0 * 60.0;
/// A token is renewed this long before Reddit says it expires, so no request carries a token
/// that dies on the way.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// Polls stop this many requests before the window's end, so answers still get through.
const RESERVE: u32 = 5;
/// How many of the brand's latest comments are checked for an answer already posted.
const OWN_COMMENTS_CHECKED: u32 = 25;
const SITE: &str = "https://www.reddit.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub client_id: String,
    pub client_secret: Secret,
    pub username: String,
    pub password: Secret,
    pub user_agent: String,
    pub watch: Vec<Watch>,
    pub api_url: String,
    pub token_url: String,
}

/// What a Reddit source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// Site-wide post search, newest first.
    Search(String),
    /// New posts and new comments in a subreddit.
    Subreddit(String),
    /// The inbox: username mentions, and replies to the brand's posts and comments.
    Mentions,
}

impl Watch {
    pub fn parse(text: &str) -> Result<Watch, String> {
        let text = text.trim();
        if text == "mentions" {
            return Ok(Watch::Mentions);
        }
        if let Some(query) = text.strip_prefix("search:") {
            let query = query.trim();
            if !query.is_empty() {
                return Ok(Watch::Search(query.to_string()));
            }
        }
        if let Some(sub) = text.strip_prefix("r/").or_else(|| text.strip_prefix("/r/")) {
            let valid = sub.split('+').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if valid {
                return Ok(Watch::Subreddit(sub.to_string()));
            }
        }
        Err(format!(
            "`{text}` is not a Reddit watch; use \"mentions\", \"search:<words>\" or \"r/<subreddit>\""
        ))
    }

    fn listings(&self) -> Vec<Listing> {
        let listing =
            |key: String, path: String, query: Vec<(&'static str, String)>, search| Listing {
                key,
                path,
                query,
                search,
            };
        match self {
            Watch::Search(words) => vec![listing(
                format!("search:{words}"),
                "/search".into(),
                vec![
                    ("q", words.clone()),
                    ("sort", "new".into()),
                    ("type", "link".into()),
                ],
                true,
            )],
            Watch::Subreddit(sub) => vec![
                listing(
                    format!("r/{sub}/new"),
                    format!("/r/{sub}/new"),
                    vec![],
                    false,
                ),
                listing(
                    format!("r/{sub}/comments"),
                    format!("/r/{sub}/comments"),
                    vec![],
                    false,
                ),
            ],
            // `mark=false`: reading the inbox must not mark it read for the people who use it.
            Watch::Mentions => vec![listing(
                "mentions".into(),
                "/message/inbox".into(),
                vec![("mark", "false".into())],
                false,
            )],
        }
    }
}

/// Reddit asks every client for a unique, descriptive User-Agent and throttles generic ones.
pub fn default_user_agent(username: &str) -> String {
    format!(
        "{}:earshot:{} (by /u/{username})",
        std::env::consts::OS,
        env!("CARGO_PKG_VERSION")
    )
}

pub struct Reddit {
    name: String,
    settings: Settings,
    every: Duration,
    http: reqwest::Client,
    token: tokio::sync::Mutex<Option<Token>>,
    budget: Budget,
    /// Answers this process posted, by idempotency key: a retry after the post went through but
    /// before the outbox recorded it returns the same answer instead of posting again.
    delivered: Mutex<HashMap<String, Posted>>,
}

struct Token {
    value: String,
    expires_at: Instant,
}

/// One listing endpoint read by a watch, with its own place in the cursor.
struct Listing {
    key: String,
    path: String,
    query: Vec<(&'static str, String)>,
    search: bool,
}

/// The newest item handled in one listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Mark {
    name: String,
    created: f64,
}

/// Which budget check a request passes: polls leave a reserve for answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Poll,
    Answer,
}

impl Reddit {
    pub fn new(name: String, settings: Settings, every: Duration, http: reqwest::Client) -> Reddit {
        Reddit {
            name,
            settings,
            every,
            http,
            token: tokio::sync::Mutex::new(None),
            budget: Budget::new(RESERVE),
            delivered: Mutex::new(HashMap::new()),
        }
    }

    /// The cached access token, or a new one when it is missing or about to expire.
    async fn token(&self) -> Result<String, SourceError> {
        let mut token = self.token.lock().await;
        if let Some(token) = token.as_ref() {
            if token.expires_at > Instant::now() + TOKEN_MARGIN {
                return Ok(token.value.clone());
            }
        }
        let fresh = self.log_in().await?;
        let value = fresh.value.clone();
        *token = Some(fresh);
        Ok(value)
    }

    async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    async fn log_in(&self) -> Result<Token, SourceError> {
        #[derive(Deserialize)]
        struct Grant {
            access_token: Option<String>,
            expires_in: Option<f64>,
            error: Option<Value>,
        }
        let settings = &self.settings;
        let request = self
            .http
            .post(&settings.token_url)
            .header(USER_AGENT, &settings.user_agent)
            .basic_auth(&settings.client_id, Some(settings.client_secret.expose()))
            .form(&[
                ("grant_type", "password"),
                ("username", settings.username.as_str()),
                ("password", settings.password.expose()),
            ]);
        let response = transmit("the Reddit login", request).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(SourceError::Permanent(
                "Reddit refused the app's client_id and client_secret".into(),
            ));
        }
        let response = check_status("the Reddit login", response, reddit_wait).await?;
        let grant: Grant = read_json("the Reddit login", response).await?;
        // A wrong password comes back as HTTP 200 with an error in the body.
        if let Some(error) = grant.error {
            return Err(SourceError::Permanent(format!(
                "Reddit refused the login for /u/{}: {error} (check username and password)",
                settings.username
            )));
        }
        let value = grant
            .access_token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| SourceError::Retry {
                reason: "the Reddit login answered without an access token".into(),
                after: None,
            })?;
        let lifetime = grant
            .expires_in
            .filter(|secs| *secs > 0.0)
            .unwrap_or(3600.0);
        Ok(Token {
            value,
            expires_at: Instant::now() + Duration::from_secs_f64(lifetime.min(1e9)),
        })
    }

    /// One authenticated request, its status checked.
    async fn call(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SourceError> {
        let response = self.send(what, purpose, build).await?;
        check_status(what, response, reset_in).await
    }

    /// One authenticated request, whatever its status. A 401 means the token died early: log
    /// in again, once.
    async fn send(
        &self,
        what: &str,
        purpose: Purpose,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SourceError> {
        let budget = match purpose {
            Purpose::Poll => self.budget.check_poll(),
            Purpose::Answer => self.budget.check_answer(),
        };
        if let Err(wait) = budget {
            return Err(SourceError::Retry {
                reason: format!(
                    "Reddit's rate limit is nearly spent; waiting {}s for its window to reset",
                    wait.as_secs()
                ),
                after: Some(wait),
            });
        }
        let mut response = transmit(what, self.authorised(&build, &self.token().await?)).await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            self.forget_token().await;
            response = transmit(what, self.authorised(&build, &self.token().await?)).await?;
        }
        self.budget.record(
            header_number(response.headers(), "x-ratelimit-remaining"),
            reset_in(response.headers()),
        );
        Ok(response)
    }

    fn authorised(
        &self,
        build: &impl Fn(&str) -> reqwest::RequestBuilder,
        token: &str,
    ) -> reqwest::RequestBuilder {
        build(&base_url(&self.settings.api_url))
            .bearer_auth(token)
            .header(USER_AGENT, &self.settings.user_agent)
    }

    /// New items of one listing, newest first, down to the last one handled (`seen`).
    async fn read_listing(
        &self,
        listing: &Listing,
        seen: Option<&Mark>,
    ) -> Result<(Vec<Mention>, Option<Mark>), SourceError> {
        let what = format!("Reddit {}", listing.key);
        let mut found = Vec::new();
        let mut newest: Option<Mark> = None;
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let response = self
                .call(&what, Purpose::Poll, |api| {
                    let mut request = self
                        .http
                        .get(format!("{api}{}", listing.path))
                        .query(&listing.query)
                        .query(&[("limit", PAGE_SIZE.to_string()), ("raw_json", "1".into())]);
                    if let Some(after) = &after {
                        request = request.query(&[("after", after)]);
                    }
                    request
                })
                .await?;
            let page: Thing = read_json(&what, response).await?;
            let data = page.listing();
            let mut reached = false;
            for child in data.children {
                let item = match Item::read(child) {
                    Ok(item) => item,
                    Err(reason) => {
                        tracing::warn!(source = %self.name, listing = %listing.key, %reason, "skipped a Reddit item");
                        continue;
                    }
                };
                if let Some(seen) = seen {
                    let older = if listing.search {
                        item.mark.created < seen.created - SEARCH_OVERLAP_SECS
                    } else {
                        item.mark.name == seen.name || item.mark.created < seen.created
                    };
                    if older {
                        reached = true;
                        break;
                    }
                }
                if newest
                    .as_ref()
                    .is_none_or(|newest| item.mark.created > newest.created)
                {
                    newest = Some(item.mark.clone());
                }
                if let Some(mention) = item.mention(&self.name, &self.settings.username) {
                    found.push(mention);
                }
            }
            after = data.after.filter(|after| !after.is_empty());
            // The first read of a listing starts from now: its newest page only.
            if reached || seen.is_none() || after.is_none() {
                break;
            }
        }
        let mark = match (newest, seen) {
            (Some(newest), Some(seen)) if newest.created < seen.created => Some(seen.clone()),
            (newest, seen) => newest.or_else(|| seen.cloned()),
        };
        Ok((found, mark))
    }

    /// The brand's own comment under `parent` with this text, if an earlier try posted it.
    async fn existing_answer(
        &self,
        parent: &str,
        text: &str,
    ) -> Result<Option<Posted>, SourceError> {
        let username = &self.settings.username;
        let what = "Reddit (the brand's latest comments)";
        let response = self
            .call(what, Purpose::Answer, |api| {
                self.http
                    .get(format!("{api}/user/{username}/comments"))
                    .query(&[
                        ("limit", OWN_COMMENTS_CHECKED.to_string()),
                        ("sort", "new".into()),
                        ("raw_json", "1".into()),
                    ])
            })
            .await?;
        let page: Thing = read_json(what, response).await?;
        Ok(page
            .listing()
            .children
            .into_iter()
            .filter_map(|child| child.data)
            .find(|comment| {
                text_of(comment, "parent_id") == Some(parent)
                    && text_of(comment, "body").map(str::trim) == Some(text.trim())
            })
            .map(|comment| Posted {
                link: text_of(&comment, "permalink").map(|path| format!("{SITE}{path}")),
                id: fullname(&comment),
            }))
    }
}

#[async_trait]
impl Source for Reddit {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        Network::Reddit
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// The cursor holds the newest item handled per listing. A listing that fails keeps its
    /// mark, so a later poll reads it again from there; the listings read before it count.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks: BTreeMap<String, Mark> = match cursor.position.as_deref() {
            Some(position) => serde_json::from_str(position).unwrap_or_else(|error| {
                tracing::warn!(source = %self.name, %error, "unreadable Reddit cursor; starting from now");
                BTreeMap::new()
            }),
            None => BTreeMap::new(),
        };
        let mut mentions = Vec::new();
        let listings: Vec<Listing> = self
            .settings
            .watch
            .iter()
            .flat_map(Watch::listings)
            .collect();
        for (index, listing) in listings.iter().enumerate() {
            match self.read_listing(listing, marks.get(&listing.key)).await {
                Ok((found, mark)) => {
                    mentions.extend(found);
                    if let Some(mark) = mark {
                        marks.insert(listing.key.clone(), mark);
                    }
                }
                Err(error) if index > 0 => {
                    tracing::warn!(source = %self.name, listing = %listing.key, %error, "Reddit listing failed; the ones before it are kept");
                    break;
                }
                Err(error) => return Err(error),
            }
        }
        Ok(Fetched {
            mentions,
            cursor: Cursor {
                position: Some(serde_json::to_string(&marks).unwrap_or_default()),
                ..cursor.clone()
            },
        })
    }

    /// The replies right below the mention (`/comments/<post>`, narrowed to the comment when
    /// the mention is one): a comment there by the brand's account means someone answered on
    /// Reddit. Reddit usernames are case-insensitive.
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        let id = mention.key.id.as_str();
        let (post, comment) = match (id.strip_prefix("t3_"), id.strip_prefix("t1_")) {
            (Some(post), _) if base36(post) => (post.to_string(), None),
            (_, Some(comment)) if base36(comment) => {
                let post = post_of(mention).ok_or_else(|| {
                    SourceError::Permanent(format!(
                        "cannot tell which Reddit post the comment {id} is in: its link names none"
                    ))
                })?;
                (post, Some(comment))
            }
            _ => {
                return Err(SourceError::Permanent(format!(
                    "`{id}` is not a Reddit post or comment"
                )))
            }
        };
        let what = "Reddit (the replies below a mention)";
        let response = self
            .send(what, Purpose::Poll, |api| {
                // A comment's own replies are one level below it; a post's are its top level.
                let mut query = vec![
                    (
                        "depth",
                        if comment.is_some() { "2" } else { "1" }.to_string(),
                    ),
                    ("limit", PAGE_SIZE.to_string()),
                    ("raw_json", "1".into()),
                ];
                if let Some(comment) = comment {
                    query.insert(0, ("comment", comment.to_string()));
                }
                self.http
                    .get(format!("{api}/comments/{post}"))
                    .query(&query)
            })
            .await?;
        // A post gone with its subreddit (banned) answers 404: nothing left to detect.
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = check_status(what, response, reset_in).await?;
        // `[post listing, comment tree]`; only the tree matters.
        let listings: Vec<Thing> = read_json(what, response).await?;
        let Some(tree) = listings.into_iter().nth(1) else {
            return Err(SourceError::Retry {
                reason: format!("{what} came back without the comment tree"),
                after: None,
            });
        };
        // Unlike a poll's listing, where one odd item is skipped, a tree or replies that cannot
        // be read could hide the brand's reply: an error, and the next check tries again.
        let top = match tree.data {
            Some(data) => {
                serde_json::from_value::<ListingData>(data)
                    .map_err(|error| SourceError::Retry {
                        reason: format!("{what} sent a comment tree earshot cannot read: {error}"),
                        after: None,
                    })?
                    .children
            }
            None => Vec::new(),
        };
        let replies = match comment {
            None => top,
            // Reddit roots the tree at the comment asked for; a deleted one keeps its replies.
            Some(_) => top
                .into_iter()
                .find(|child| {
                    child.data.as_ref().and_then(|data| text_of(data, "name")) == Some(id)
                })
                .and_then(|child| child.data)
                .map(|comment| replies_of(&comment))
                .transpose()
                .map_err(|error| SourceError::Retry {
                    reason: format!("{what} sent replies earshot cannot read: {error}"),
                    after: None,
                })?
                .unwrap_or_default(),
        };
        let brand = &self.settings.username;
        Ok(replies
            .into_iter()
            .filter(|reply| reply.kind.as_deref() == Some("t1"))
            .filter_map(|reply| reply.data)
            .find(|reply| {
                text_of(reply, "author").is_some_and(|author| author.eq_ignore_ascii_case(brand))
            })
            .map(|reply| {
                let link = text_of(&reply, "permalink")
                    .map(|path| format!("{SITE}{path}"))
                    .or_else(|| {
                        text_of(&reply, "id").map(|id| format!("{SITE}/comments/{post}/_/{id}"))
                    })
                    .unwrap_or_else(|| format!("{SITE}/comments/{post}/"));
                format!("reply by u/{brand} on Reddit: {link}")
            }))
    }

    /// Reddit has no idempotency key, so before posting, the brand's latest comments are read:
    /// if an earlier try already posted this answer under this parent (the outbox crashed
    /// between Reddit's "ok" and recording it), that comment is the answer.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        if let Some(posted) = self
            .delivered
            .lock()
            .ok()
            .and_then(|done| done.get(idempotency_key).cloned())
        {
            return Ok(posted);
        }
        let parent = mention.key.id.as_str();
        if !(parent.starts_with("t1_") || parent.starts_with("t3_")) {
            return Err(SourceError::Permanent(format!(
                "`{parent}` is not a Reddit post or comment"
            )));
        }
        let posted = match self.existing_answer(parent, text).await? {
            Some(posted) => posted,
            None => self.post_comment(parent, text).await?,
        };
        if let Ok(mut done) = self.delivered.lock() {
            done.insert(idempotency_key.to_string(), posted.clone());
        }
        Ok(posted)
    }
}

impl Reddit {
    async fn post_comment(&self, parent: &str, text: &str) -> Result<Posted, SourceError> {
        #[derive(Deserialize)]
        struct Answer {
            json: Option<Body>,
        }
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            errors: Vec<Vec<Value>>,
            ratelimit: Option<f64>,
            data: Option<Things>,
        }
        #[derive(Deserialize)]
        struct Things {
            #[serde(default)]
            things: Vec<Thing>,
        }
        let what = "Reddit (posting the answer)";
        let response = self
            .call(what, Purpose::Answer, |api| {
                self.http.post(format!("{api}/api/comment")).form(&[
                    ("api_type", "json"),
                    ("thing_id", parent),
                    ("text", text),
                ])
            })
            .await?;
        let answer: Answer = read_json(what, response).await?;
        let body = answer.json.ok_or_else(|| SourceError::Retry {
            reason: "Reddit answered the comment without a `json` field".into(),
            after: None,
        })?;
        // Reddit reports refusals inside a 200: [[code, message, field], ...].
        if let Some(error) = body.errors.first() {
            let part = |index: usize| error.get(index).and_then(Value::as_str).unwrap_or_default();
            let (code, message) = (part(0), part(1));
            if code == "RATELIMIT" {
                let wait = body
                    .ratelimit
                    .filter(|secs| secs.is_finite() && *secs >= 0.0)
                    .map(|secs| Duration::from_secs_f64(secs.ceil().min(86_400.0)))
                    .or_else(|| wait_in_words(message));
                return Err(SourceError::Retry {
                    reason: format!("Reddit says: {message}"),
                    after: wait,
                });
            }
            return Err(SourceError::Permanent(format!(
                "Reddit refused the answer: {code}: {message}"
            )));
        }
        let comment = body
            .data
            .and_then(|data| data.things.into_iter().next())
            .and_then(|thing| thing.data);
        Ok(Posted {
            link: comment.as_ref().and_then(|comment| {
                text_of(comment, "permalink")
                    .map(|path| format!("{SITE}{path}"))
                    .or_else(|| {
                        text_of(comment, "id").map(|id| {
                            format!(
                                "{SITE}/comments/{}/_/{id}",
                                parent.trim_start_matches("t3_")
                            )
                        })
                    })
            }),
            id: comment.as_ref().and_then(fullname),
        })
    }
}

/// A comment's fullname (`t1_<id>`), which is how a reply to it names its parent.
fn fullname(comment: &Value) -> Option<String> {
    text_of(comment, "name")
        .map(str::to_string)
        .or_else(|| text_of(comment, "id").map(|id| format!("t1_{id}")))
}

/// A Reddit "thing": `{"kind": "t3", "data": {...}}`; a listing is a thing whose data holds
/// `children` and `after`.
#[derive(Deserialize, Default)]
struct Thing {
    kind: Option<String>,
    data: Option<Value>,
}

#[derive(Deserialize, Default)]
struct ListingData {
    #[serde(default)]
    children: Vec<Thing>,
    after: Option<String>,
}

impl Thing {
    fn listing(self) -> ListingData {
        self.data
            .and_then(|data| serde_json::from_value(data).ok())
            .unwrap_or_default()
    }
}

/// One post, comment or inbox message from a listing.
struct Item {
    kind: String,
    data: Value,
    mark: Mark,
}

impl Item {
    fn read(thing: Thing) -> Result<Item, String> {
        let kind = thing.kind.unwrap_or_default();
        let data = thing.data.ok_or("an item without data")?;
        let name = text_of(&data, "name")
            .ok_or("an item without a fullname")?
            .to_string();
        let created = data
            .get("created_utc")
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("{name} has no created_utc"))?;
        Ok(Item {
            kind,
            mark: Mark { name, created },
            data,
        })
    }

    /// The item as a mention; `None` for what is not a public mention: deleted or removed
    /// items, private messages, and the brand's own posts.
    fn mention(&self, source: &str, brand: &str) -> Option<Mention> {
        let data = &self.data;
        let author = text_of(data, "author").filter(|author| *author != "[deleted]")?;
        if author.eq_ignore_ascii_case(brand) {
            return None;
        }
        let gone = |text: &str| matches!(text.trim(), "" | "[deleted]" | "[removed]");
        let (text, link, in_reply_to) = match self.kind.as_str() {
            "t3" => {
                let title = plain_text(text_of(data, "title").unwrap_or_default());
                let body = text_of(data, "selftext")
                    .filter(|body| !gone(body))
                    .map(plain_text)
                    .unwrap_or_default();
                let text = if body.is_empty() {
                    title
                } else {
                    format!("{title}\n{body}")
                };
                (
                    text,
                    text_of(data, "permalink").map(|path| format!("{SITE}{path}")),
                    None,
                )
            }
            // The inbox holds t1 for mentions and replies, t4 for private messages (not public).
            "t1" => {
                let body = text_of(data, "body").filter(|body| !gone(body))?;
                let path = text_of(data, "permalink").or_else(|| text_of(data, "context"));
                (
                    plain_text(body),
                    path.map(|path| format!("{SITE}{path}")),
                    text_of(data, "parent_id").map(str::to_string),
                )
            }
            _ => return None,
        };
        if text.is_empty() {
            return None;
        }
        Some(Mention {
            key: MentionKey::new(source, self.mark.name.clone()),
            network: Network::Reddit,
            author: Author {
                handle: author.to_string(),
                name: None,
                profile: Some(format!("{SITE}/user/{author}")),
            },
            text,
            link,
            created_at: DateTime::from_timestamp(self.mark.created as i64, 0)
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            matched: Vec::new(),
            language: None,
            in_reply_to,
            direct: false,
            review: None,
        })
    }
}

/// The replies below a comment: `data.replies` is a listing, or `""` when there are none.
fn replies_of(comment: &Value) -> Result<Vec<Thing>, String> {
    #[derive(Deserialize)]
    struct Replies {
        data: ListingData,
    }
    match comment.get("replies") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(none)) if none.is_empty() => Ok(Vec::new()),
        Some(replies) => serde_json::from_value::<Replies>(replies.clone())
            .map(|replies| replies.data.children)
            .map_err(|error| format!("the comment's replies: {error}")),
    }
}

/// The id of the post a comment mention is in. Comments carry it in their link
/// (`/r/<sub>/comments/<post>/<title>/<comment>/`), and a top-level comment's parent is the
/// post itself.
fn post_of(mention: &Mention) -> Option<String> {
    let from_link = mention.link.as_deref().and_then(|link| {
        let (_, rest) = link.split_once("/comments/")?;
        rest.split(['/', '?']).next().map(str::to_string)
    });
    let from_parent = || {
        mention
            .in_reply_to
            .as_deref()
            .and_then(|parent| parent.strip_prefix("t3_"))
            .map(str::to_string)
    };
    from_link
        .filter(|post| base36(post))
        .or_else(from_parent)
        .filter(|post| base36(post))
}

/// Reddit ids are base 36; anything else in a stored id must not reach a URL path.
fn base36(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn text_of<'a>(data: &'a Value, field: &str) -> Option<&'a str> {
    data.get(field)?.as_str()
}

/// Seconds until Reddit's rate-limit window resets.
fn reset_in(headers: &HeaderMap) -> Option<Duration> {
    header_number(headers, "x-ratelimit-reset")
        .filter(|secs| *secs >= 0.0)
        .map(|secs| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Like [`reset_in`], with the signature [`check_status`] wants.
fn reddit_wait(headers: &HeaderMap) -> Option<Duration> {
    reset_in(headers)
}

/// "you are doing that too much. try again in 5 minutes." -> 5 minutes.
fn wait_in_words(message: &str) -> Option<Duration> {
    let words: Vec<&str> = message.split_whitespace().collect();
    words.windows(2).find_map(|pair| {
        let count: u64 = pair[0].parse().ok()?;
        let unit = pair[1].trim_end_matches(['.', ',', '!']);
        let secs = match unit {
            "second" | "seconds" => 1,
            "minute" | "minutes" => 60,
            "hour" | "hours" => 3600,
            _ => return None,
        };
        Some(Duration::from_secs(count * secs))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn watches_parse_and_refuse_nonsense() {
        assert_eq!(Watch::parse("mentions"), Ok(Watch::Mentions));
        assert_eq!(
            Watch::parse("search:acme coffee"),
            Ok(Watch::Search("acme coffee".into()))
        );
        assert_eq!(Watch::parse("r/rust"), Ok(Watch::Subreddit("rust".into())));
        assert_eq!(
            Watch::parse("/r/a+b_c"),
            Ok(Watch::Subreddit("a+b_c".into()))
        );
        for bad in ["search:", "r/", "r/no spaces", "#acme", ""] {
            assert!(Watch::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ratelimit_messages_give_the_wait() {
        assert_eq!(
            wait_in_words("you are doing that too much. try again in 5 minutes."),
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            wait_in_words("try again in 1 second"),
            Some(Duration::from_secs(1))
        );
        assert_eq!(wait_in_words("slow down"), None);
    }

    #[test]
    fn items_become_mentions_or_nothing() {
        let thing = |kind: &str, data: Value| Thing {
            kind: Some(kind.into()),
            data: Some(data),
        };
        let post = Item::read(thing("t3", json!({"name": "t3_a", "author": "u1", "title": "Acme &amp; me",
            "selftext": "**love** it", "permalink": "/r/x/comments/a/t/", "created_utc": 1763770000.0}))).unwrap();
        let mention = post.mention("r", "acmehq").unwrap();
        assert_eq!(mention.text, "Acme & me\n**love** it");
        assert_eq!(
            mention.link.as_deref(),
            Some("https://www.reddit.com/r/x/comments/a/t/")
        );
        assert_eq!(mention.key.id, "t3_a");

        let removed = Item::read(thing(
            "t1",
            json!({"name": "t1_b", "author": "u2", "body": "[removed]", "created_utc": 1.0}),
        ))
        .unwrap();
        assert!(removed.mention("r", "acmehq").is_none());
        let own = Item::read(thing(
            "t1",
            json!({"name": "t1_c", "author": "AcmeHQ", "body": "hi", "created_utc": 1.0}),
        ))
        .unwrap();
        assert!(own.mention("r", "acmehq").is_none());
        let private = Item::read(thing(
            "t4",
            json!({"name": "t4_d", "author": "u3", "body": "hi", "created_utc": 1.0}),
        ))
        .unwrap();
        assert!(private.mention("r", "acmehq").is_none());
        assert!(Item::read(thing("t1", json!({"author": "u", "created_utc": 1.0}))).is_err());
        assert!(Item::read(thing(
            "t1",
            json!({"name": "t1_e", "created_utc": "yesterday"})
        ))
        .is_err());
    }
}
