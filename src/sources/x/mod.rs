//! X (Twitter), through API v2: the brand account's mentions and recent search, read with the
//! app's bearer token; answers posted with `POST /2/tweets` and a user-context token, which
//! [`user_token`] keeps fresh when a refresh token is configured. A reply by the brand found in
//! a mention's conversation (recent search) marks it answered.

pub mod config;

pub use config::NETWORK;

mod user_token;

mod wire;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Fetched, Posted, Source, SourceError};
use crate::domain::text::unescape_x;
use crate::domain::{Author, Cursor, Mention, MentionKey, Network};
use crate::net::{
    base_url, read_json, Budget, Clock, CursorSet, Failure, Pager, PostOnce, Purpose, RateHeaders,
    Reset, Secret, Transport, Turn,
};
use crate::store::Credentials;
use user_token::UserToken;
use wire::{newer, problem_detail, snowflake_time, without_links, Page, Reference, User};

pub use user_token::REFRESH_REFUSED;

pub const DEFAULT_API_URL: &str = "https://api.x.com";
pub const DEFAULT_TOKEN_URL: &str = "https://api.x.com/2/oauth2/token";
/// The tightest read limit earshot meets is the mentions timeline, 180 requests per 15 minutes
/// per user (recent search allows 450 per app). A poll is one request per watch when nothing is
/// new, so polling every minute spends 15 of those 180; X bills per post read, not per request,
/// and `since_id` means no post is read twice, so polling faster costs latency budget, not money.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);

const PAGE_SIZE: u32 = 100;
/// X serves the 800 latest mentions at most; ten pages cover that and bound one pass.
const PAGER: Pager = Pager::new(10);
/// X's window per endpoint: requests left, and the Unix time it resets.
const RATE_HEADERS: RateHeaders = RateHeaders {
    remaining: "x-rate-limit-remaining",
    reset: "x-rate-limit-reset",
    form: Reset::UnixSeconds,
};
/// Polls stop this many requests before the window's end of an endpoint.
const RESERVE: u32 = 2;
/// How many of the brand's latest posts are checked for an answer already posted (X's minimum).
const OWN_POSTS_CHECKED: u32 = 5;
const TWEET_FIELDS: &str =
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,lang";
const EXPANSIONS: &str = "author_id,referenced_tweets.id,referenced_tweets.id.author_id";
const SITE: &str = "https://x.com";
/// Recent search reaches 7 days back.
const SEARCH_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The app's bearer token: reads public posts.
    pub bearer_token: Secret,
    /// An OAuth 2.0 user-context access token of the brand account (`tweet.write`): posts
    /// answers. Without it (and without `refresh`) the source only reads.
    pub user_token: Option<Secret>,
    /// How to renew the user token; without it, the token is used until X refuses it.
    pub refresh: Option<Refresh>,
    /// The brand account's numeric id.
    pub user_id: String,
    pub watch: Vec<Watch>,
    pub api_url: String,
}

/// An OAuth 2.0 refresh token (`offline.access`) and the app it was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    /// The app's OAuth 2.0 client id.
    pub client_id: String,
    /// Only for confidential clients ("Web App, Automated App or Bot"), which authenticate
    /// with it; public clients ("Native App") have none.
    pub client_secret: Option<Secret>,
    /// The refresh token from the config: only the seed. X replaces it on every refresh, and
    /// earshot keeps the newest in the store.
    pub token: Secret,
    pub token_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// Posts that mention the brand account, replies to it included.
    Mentions,
    /// Recent search (the last 7 days), retweets left out.
    Search(String),
}

impl Watch {
    pub fn parse(text: &str) -> Result<Watch, String> {
        let text = text.trim();
        if text == "mentions" {
            return Ok(Watch::Mentions);
        }
        match text.strip_prefix("search:").map(str::trim) {
            Some(query) if !query.is_empty() && query.len() <= 500 => {
                Ok(Watch::Search(query.to_string()))
            }
            Some(query) if query.len() > 500 => Err(format!(
                "the X search `{query}` is too long: X takes queries up to 512 characters, earshot adds ` -is:retweet`"
            )),
            _ => Err(format!(
                "`{text}` is not an X watch; use \"mentions\" or \"search:<query>\""
            )),
        }
    }

    fn key(&self) -> String {
        match self {
            Watch::Mentions => "mentions".into(),
            Watch::Search(query) => format!("search:{query}"),
        }
    }
}

/// X counts requests per endpoint; each has its own budget.
#[derive(Clone, Copy)]
enum Endpoint {
    Mentions,
    Search,
    OwnPosts,
    Post,
    /// One post by id (`/2/tweets/:id`).
    Lookup,
}

pub struct X {
    name: String,
    settings: Settings,
    every: Duration,
    http: reqwest::Client,
    /// X counts requests per endpoint: one transport (and budget) each, by [`Endpoint`].
    transports: [Transport; 5],
    user_token: UserToken,
    answers: PostOnce<Posted>,
    /// The conversation of each reply mention looked up so far, by post id: it never changes,
    /// and each lookup is a billed post read.
    conversations: Mutex<HashMap<String, String>>,
}

impl X {
    pub fn new(name: String, settings: Settings, every: Duration, http: reqwest::Client) -> X {
        let user_token = UserToken::new(
            settings.user_token.clone(),
            settings.refresh.clone(),
            http.clone(),
            std::sync::Arc::new(Utc::now),
        );
        X {
            name,
            settings,
            every,
            transports: std::array::from_fn(|_| {
                Transport::new("X", http.clone(), Budget::new(RESERVE), RATE_HEADERS)
            }),
            http,
            user_token,
            answers: PostOnce::default(),
            conversations: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps the rotating refresh token in `credentials`, so it survives restarts.
    pub fn with_credentials(mut self, credentials: Credentials) -> X {
        self.user_token.set_credentials(credentials);
        self
    }

    /// Tells token expiry by `clock` instead of the wall clock.
    pub fn with_clock(mut self, clock: Clock) -> X {
        self.user_token.set_clock(clock);
        self
    }

    fn api(&self) -> String {
        base_url(&self.settings.api_url)
    }

    /// Sends one request against `endpoint`'s budget and notes what the headers say of it;
    /// the status is not judged.
    async fn call(
        &self,
        what: &str,
        endpoint: Endpoint,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let purpose = match endpoint {
            Endpoint::Post | Endpoint::OwnPosts => Purpose::Answer,
            Endpoint::Mentions | Endpoint::Search | Endpoint::Lookup => Purpose::Poll,
        };
        self.transports[endpoint as usize]
            .send(what, purpose, request)
            .await
    }

    /// The response if it succeeded, else its failure with X's wait.
    async fn check(
        &self,
        what: &str,
        endpoint: Endpoint,
        response: reqwest::Response,
    ) -> Result<reqwest::Response, Failure> {
        self.transports[endpoint as usize]
            .check(what, response)
            .await
    }

    /// Posts newer than `since`, over as many pages as the pass takes. `since_id` stays the
    /// same on every page: X pages backwards from the newest, so moving it before the last
    /// page would skip the posts between.
    async fn read_watch(
        &self,
        watch: &Watch,
        since: Option<&str>,
    ) -> Result<(Vec<Mention>, Option<String>), Failure> {
        let (what, endpoint, url, page_param) = match watch {
            Watch::Mentions => (
                "X mentions",
                Endpoint::Mentions,
                format!("{}/2/users/{}/mentions", self.api(), self.settings.user_id),
                "pagination_token",
            ),
            Watch::Search(_) => (
                "X search",
                Endpoint::Search,
                format!("{}/2/tweets/search/recent", self.api()),
                "next_token",
            ),
        };
        let mut found = Vec::new();
        let mut newest: Option<String> = since.map(str::to_string);
        let mut pages = PAGER.pages();
        while let Some(token) = pages.next_page() {
            let mut query: Vec<(&str, String)> = vec![
                ("max_results", PAGE_SIZE.to_string()),
                ("tweet.fields", TWEET_FIELDS.into()),
                // The referenced posts and their authors: a retweet or quote of the brand's
                // own post is known by who wrote what it refers to.
                ("expansions", EXPANSIONS.into()),
                ("user.fields", "username,name".into()),
            ];
            if let Watch::Search(words) = watch {
                query.push(("query", format!("{words} -is:retweet")));
            }
            if let Some(since) = since {
                query.push(("since_id", since.to_string()));
            }
            if let Some(token) = token {
                query.push((page_param, token));
            }
            let request = self
                .http
                .get(&url)
                .bearer_auth(self.settings.bearer_token.expose())
                .query(&query);
            let response = self.call(what, endpoint, request).await?;
            let response = self.check(what, endpoint, response).await?;
            let page: Page = read_json(what, response).await?;
            for problem in &page.errors {
                tracing::debug!(source = %self.name, ?problem, "X reported a partial error");
            }
            let includes = page.includes.unwrap_or_default();
            let own_posts = includes.posts_by(&self.settings.user_id);
            let users = includes.users;
            for post in page.data {
                let id = post
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if id.is_empty() {
                    tracing::warn!(source = %self.name, "skipped an X post without an id");
                    continue;
                }
                if newer(&id, newest.as_deref()) {
                    newest = Some(id.clone());
                }
                match self.mention(post, &users, &own_posts) {
                    Ok(Some(mention)) => found.push(mention),
                    Ok(None) => {}
                    Err(reason) => {
                        tracing::warn!(source = %self.name, %reason, "skipped an X post")
                    }
                }
            }
            if let Some(reported) = page
                .meta
                .as_ref()
                .and_then(|meta| meta.newest_id.as_deref())
            {
                if newer(reported, newest.as_deref()) {
                    newest = Some(reported.to_string());
                }
            }
            let next = page
                .meta
                .and_then(|meta| meta.next_token)
                .filter(|token| !token.is_empty());
            // The first pass starts from now: its newest page only.
            pages.turn(match next {
                Some(next) if since.is_some() => Turn::Next(next),
                _ => Turn::Stop,
            });
        }
        if pages.cut_short() {
            tracing::warn!(source = %self.name, watch = %watch.key(), "more new X posts than one pass reads; the oldest are skipped");
        }
        Ok((found, newest))
    }

    /// One post as a mention; `None` for the brand's own posts, and for retweets and quotes of
    /// them (`own_posts`: the brand's posts among those referred to), which name the brand
    /// without saying anything new to it.
    fn mention(
        &self,
        post: Value,
        users: &[User],
        own_posts: &[String],
    ) -> Result<Option<Mention>, String> {
        #[derive(Deserialize)]
        struct Post {
            id: String,
            text: Option<String>,
            author_id: Option<String>,
            created_at: Option<String>,
            lang: Option<String>,
            #[serde(default)]
            referenced_tweets: Vec<Reference>,
        }
        let post: Post =
            serde_json::from_value(post).map_err(|error| format!("malformed post: {error}"))?;
        let id = post.id;
        let text = post.text.ok_or_else(|| format!("post {id} has no text"))?;
        let author_id = post.author_id.unwrap_or_default();
        if author_id == self.settings.user_id {
            return Ok(None);
        }
        // A retweet whose original X left out of `includes` (withheld, or deleted since) still
        // says whose it is: "RT @<author>: ...".
        let brand = users
            .iter()
            .find(|user| user.id == self.settings.user_id)
            .map(|user| format!("RT @{}:", user.username.to_lowercase()));
        let shares_own =
            post.referenced_tweets
                .iter()
                .any(|reference| match reference.kind.as_str() {
                    "quoted" => own_posts.contains(&reference.id),
                    "retweeted" => {
                        own_posts.contains(&reference.id)
                            || brand.as_deref().is_some_and(|brand| {
                                text.get(..brand.len())
                                    .is_some_and(|start| start.eq_ignore_ascii_case(brand))
                            })
                    }
                    _ => false,
                });
        if shares_own {
            return Ok(None);
        }
        let user = users.iter().find(|user| user.id == author_id);
        let handle = user.map(|user| user.username.clone()).unwrap_or_default();
        let created_at = post
            .created_at
            .as_deref()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|time| time.with_timezone(&Utc))
            .or_else(|| snowflake_time(&id))
            .ok_or_else(|| format!("post {id} has no creation time"))?;
        let link = if handle.is_empty() {
            format!("{SITE}/i/web/status/{id}")
        } else {
            format!("{SITE}/{handle}/status/{id}")
        };
        Ok(Some(Mention {
            key: MentionKey::new(self.name.clone(), id),
            network: Network::X,
            author: Author {
                profile: (!handle.is_empty()).then(|| format!("{SITE}/{handle}")),
                name: user.and_then(|user| user.name.clone()),
                handle,
            },
            // X escapes &, < and > in post text, and nothing else: it is not HTML.
            text: unescape_x(&text),
            link: Some(link),
            created_at,
            matched: Vec::new(),
            language: post.lang.filter(|lang| lang != "und"),
            in_reply_to: post
                .referenced_tweets
                .into_iter()
                .find(|reference| reference.kind == "replied_to")
                .map(|reference| reference.id),
            direct: false,
            review: None,
        }))
    }

    /// The conversation `mention` belongs to (`None` once the post is gone). A post that
    /// replies to nothing starts its own; a reply's is the root's id, which the mention does
    /// not keep, so it is looked up (`/2/tweets/:id`) and remembered.
    async fn conversation_of(&self, mention: &Mention) -> Result<Option<String>, Failure> {
        let id = &mention.key.id;
        if mention.in_reply_to.is_none() {
            return Ok(Some(id.clone()));
        }
        if let Some(known) = self
            .conversations
            .lock()
            .ok()
            .and_then(|known| known.get(id).cloned())
        {
            return Ok(Some(known));
        }
        #[derive(Deserialize)]
        struct Found {
            data: Option<Value>,
            #[serde(default)]
            errors: Vec<Value>,
        }
        let what = "X (the mention's conversation)";
        let request = self
            .http
            .get(format!("{}/2/tweets/{id}", self.api()))
            .bearer_auth(self.settings.bearer_token.expose())
            .query(&[("tweet.fields", "conversation_id")]);
        let response = self.call(what, Endpoint::Lookup, request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = self.check(what, Endpoint::Lookup, response).await?;
        let found: Found = read_json(what, response).await?;
        // A deleted, suspended or protected post comes back as a 200 with only `errors`.
        let Some(post) = found.data else {
            return if found.errors.is_empty() {
                Err(Failure::retry(format!(
                    "{what} came back with neither the post nor an error"
                )))
            } else {
                Ok(None)
            };
        };
        let conversation = post
            .get("conversation_id")
            .and_then(Value::as_str)
            .filter(|conversation| newer(conversation, None))
            .ok_or_else(|| Failure::retry(format!("{what} came back without a conversation_id")))?
            .to_string();
        if let Ok(mut known) = self.conversations.lock() {
            known.insert(id.clone(), conversation.clone());
        }
        Ok(Some(conversation))
    }

    /// The brand's own recent reply to `parent` with this text, if an earlier try posted it.
    async fn existing_answer(&self, parent: &str, text: &str) -> Result<Option<Posted>, Failure> {
        let what = "X (the brand's latest posts)";
        let request = self
            .http
            .get(format!(
                "{}/2/users/{}/tweets",
                self.api(),
                self.settings.user_id
            ))
            .bearer_auth(self.settings.bearer_token.expose())
            .query(&[
                ("max_results", OWN_POSTS_CHECKED.to_string()),
                ("tweet.fields", "referenced_tweets".to_string()),
            ]);
        let response = self.call(what, Endpoint::OwnPosts, request).await?;
        let response = self.check(what, Endpoint::OwnPosts, response).await?;
        let page: Page = read_json(what, response).await?;
        Ok(page.data.into_iter().find_map(|post| {
            let replies_to_parent = post
                .get("referenced_tweets")
                .and_then(Value::as_array)
                .is_some_and(|references| {
                    references.iter().any(|reference| {
                        reference.get("type").and_then(Value::as_str) == Some("replied_to")
                            && reference.get("id").and_then(Value::as_str) == Some(parent)
                    })
                });
            let same_text = post
                .get("text")
                .and_then(Value::as_str)
                .is_some_and(|posted| without_links(&unescape_x(posted)) == without_links(text));
            let id = post.get("id").and_then(Value::as_str)?;
            (replies_to_parent && same_text).then(|| Posted {
                link: Some(format!("{SITE}/i/web/status/{id}")),
                id: Some(id.to_string()),
            })
        }))
    }
}

#[async_trait]
impl Source for X {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        Network::X
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// The cursor holds, per watch, the newest post id of the last complete pass; see
    /// [`CursorSet`] for what a failing watch or an unreadable position does.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut marks = CursorSet::<String, Failure>::read(cursor, "X", &self.name);
        let mut mentions = Vec::new();
        for watch in &self.settings.watch {
            let key = watch.key();
            let outcome = self
                .read_watch(watch, marks.get(&key).map(String::as_str))
                .await;
            marks.record(&key, outcome, &mut mentions);
        }
        let (cursor, problems) = marks.finish(cursor)?;
        Ok(Fetched {
            mentions,
            cursor,
            problems,
        })
    }

    /// The brand's replies in the mention's conversation (recent search, `from:` the brand's
    /// id): one whose `replied_to` is the mention answers it.
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        let id = mention.key.id.as_str();
        let brand = self.settings.user_id.as_str();
        // Both go into a search expression; anything but a snowflake would change its meaning.
        if !newer(id, None) || !newer(brand, None) {
            return Err(SourceError::Permanent(format!(
                "cannot search X for replies to `{id}` by `{brand}`: post and user ids are numbers"
            )));
        }
        // Search cannot see past 7 days. A reply made while the mention was younger was found
        // by an earlier check; searching on would cost requests and post reads for ever.
        if Utc::now() - mention.created_at > chrono::Duration::days(SEARCH_DAYS) {
            return Ok(None);
        }
        let Some(conversation) = self.conversation_of(mention).await? else {
            return Ok(None);
        };
        let what = "X search (the brand's replies)";
        // One page: the brand replying 100 times within one conversation is not a case to pay for.
        let request = self
            .http
            .get(format!("{}/2/tweets/search/recent", self.api()))
            .bearer_auth(self.settings.bearer_token.expose())
            .query(&[
                (
                    "query",
                    format!("conversation_id:{conversation} from:{brand} is:reply"),
                ),
                (
                    "tweet.fields",
                    "in_reply_to_user_id,referenced_tweets,author_id,created_at".into(),
                ),
                ("expansions", "author_id".into()),
                ("user.fields", "username".into()),
                ("max_results", PAGE_SIZE.to_string()),
            ]);
        let response = self.call(what, Endpoint::Search, request).await?;
        let response = self.check(what, Endpoint::Search, response).await?;
        let page: Page = read_json(what, response).await?;
        let handle = page
            .includes
            .and_then(|includes| includes.users.into_iter().find(|user| user.id == brand))
            .map(|user| user.username);
        let reply = page.data.iter().find_map(|post| {
            let by_brand = post.get("author_id").and_then(Value::as_str) == Some(brand);
            let to_mention = post
                .get("referenced_tweets")
                .and_then(Value::as_array)
                .is_some_and(|references| {
                    references.iter().any(|reference| {
                        reference.get("type").and_then(Value::as_str) == Some("replied_to")
                            && reference.get("id").and_then(Value::as_str) == Some(id)
                    })
                });
            post.get("id")
                .and_then(Value::as_str)
                .filter(|_| by_brand && to_mention)
        });
        Ok(reply.map(|reply| match &handle {
            Some(handle) => format!("reply by @{handle} on X: {SITE}/{handle}/status/{reply}"),
            None => format!("reply by the brand's account on X: {SITE}/i/web/status/{reply}"),
        }))
    }

    /// X takes no idempotency key. Before posting, the brand's latest posts are read: if an
    /// earlier try already posted this reply (the outbox crashed between X's "created" and
    /// recording it), that post is the answer. X also refuses a duplicate text outright; that
    /// refusal is checked the same way.
    async fn reply(
        &self,
        mention: &Mention,
        text: &str,
        idempotency_key: &str,
    ) -> Result<Posted, SourceError> {
        if !self.user_token.configured() {
            return Err(SourceError::Permanent(
                "earshot cannot post on X for this source: it has no `user_token` or `refresh_token` (an OAuth 2.0 user token with tweet.write)".into(),
            ));
        }
        let parent = mention.key.id.as_str();
        Ok(self
            .answers
            .post(
                idempotency_key,
                || self.existing_answer(parent, text),
                || self.post(parent, text),
            )
            .await?)
    }
}

impl X {
    /// Posts the answer with the user token; when X refuses the token (401), renews it once
    /// and posts again.
    async fn post(&self, parent: &str, text: &str) -> Result<Posted, Failure> {
        let token = self.user_token.current().await?;
        if let Some(posted) = self.post_with(parent, text, &token).await? {
            return Ok(posted);
        }
        let token = self.user_token.refused(&token).await?;
        match self.post_with(parent, text, &token).await? {
            Some(posted) => Ok(posted),
            None => Err(Failure::Permanent(
                "X refused the renewed user token too; check that it was granted tweet.write"
                    .into(),
            )),
        }
    }

    /// `None` when X refused the token.
    async fn post_with(
        &self,
        parent: &str,
        text: &str,
        user_token: &Secret,
    ) -> Result<Option<Posted>, Failure> {
        let what = "X (posting the answer)";
        let body = json!({"text": text, "reply": {"in_reply_to_tweet_id": parent}});
        let request = self
            .http
            .post(format!("{}/2/tweets", self.api()))
            .bearer_auth(user_token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let response = self.call(what, Endpoint::Post, request).await?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            return Ok(None);
        }
        if status == StatusCode::FORBIDDEN {
            let detail = problem_detail(response).await;
            if detail.to_lowercase().contains("duplicate") {
                if let Some(posted) = self.existing_answer(parent, text).await? {
                    return Ok(Some(posted));
                }
            }
            return Err(Failure::Permanent(format!(
                "X refused the answer: {detail}"
            )));
        }
        let response = self.check(what, Endpoint::Post, response).await?;
        #[derive(Deserialize)]
        struct Created {
            data: Option<Value>,
        }
        let created: Created = read_json(what, response).await?;
        let id = created
            .data
            .as_ref()
            .and_then(|data| data.get("id"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Failure::Permanent(
                    "X accepted the answer but sent no id; check the brand's account".into(),
                )
            })?;
        Ok(Some(Posted {
            link: Some(format!("{SITE}/i/web/status/{id}")),
            id: Some(id.to_string()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_parse() {
        assert_eq!(Watch::parse("mentions"), Ok(Watch::Mentions));
        assert_eq!(
            Watch::parse("search:\"acme coffee\" lang:en"),
            Ok(Watch::Search("\"acme coffee\" lang:en".into()))
        );
        assert!(Watch::parse("search:").is_err());
        assert!(Watch::parse(&format!("search:{}", "a".repeat(501))).is_err());
        assert!(Watch::parse("#acme").is_err());
    }
}
