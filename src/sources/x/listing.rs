//! Reading a watch (the mentions timeline or recent search) page by page from the last
//! complete pass, and a post as a mention: never the brand's own, nor its retweets and quotes
//! of the brand.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::wire::{newer, snowflake_time, Page, Reference, User};
use super::{Endpoint, Watch, PAGE_SIZE, SITE, X};
use crate::domain::text::unescape_x;
use crate::domain::{Author, Mention, MentionKey};
use crate::net::{read_json, Failure, Pager, Turn};

/// X serves the 800 latest mentions at most; ten pages cover that and bound one pass.
const PAGER: Pager = Pager::new(10);
const TWEET_FIELDS: &str =
    "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,lang";
const EXPANSIONS: &str = "author_id,referenced_tweets.id,referenced_tweets.id.author_id";

impl X {
    /// Posts newer than `since`, over as many pages as the pass takes. `since_id` stays the
    /// same on every page: X pages backwards from the newest, so moving it before the last
    /// page would skip the posts between.
    pub(super) async fn read_watch(
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
            network: super::TRAITS.network(),
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
}
