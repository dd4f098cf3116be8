//! Hacker News, through Algolia's search API (`search_by_date`): stories and comments that
//! contain the query, newest first. HN has no write API, so answers are manual: each mention's
//! link is the page where a person replies, and the desk hands it out when they try `answer`.
//! With the brand's HN `account` configured, a direct reply by it (made on HN, since earshot
//! cannot post there) marks the mention answered.

pub mod config;

pub use config::{NETWORK, TRAITS};

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{Fetched, Source, SourceError};
use crate::domain::text::{as_written, plain_text};
use crate::domain::{Author, Cursor, Mention, MentionKey, Network};
use crate::net::{base_url, read_json, Budget, Pager, Purpose, RateHeaders, Transport, Turn};

/// Algolia's public endpoint; tests point `api_url` at a local server.
pub const DEFAULT_API_URL: &str = "https://hn.algolia.com/api/v1";
/// Algolia allows about 10,000 requests an hour per IP, and a poll is one request when nothing
/// is new: every 2 minutes costs 30 an hour, and HN itself shows a new comment to Algolia
/// within a minute or two, so polling faster finds nothing sooner.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(2 * 60);

/// Algolia indexes an item minutes after HN created it, so a poll looks this far back before
/// the newest item it has seen; the store drops the repeats by `objectID`.
const OVERLAP_SECS: i64 = 10 * 60;
const HITS_PER_PAGE: u32 = 100;
/// Algolia serves at most 1,000 hits per query; the time window keeps a poll far below that.
const PAGER: Pager = Pager::new(10);
const SITE: &str = "https://news.ycombinator.com";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What to search for, as Algolia reads it (words; `"quoted phrase"`).
    pub query: String,
    pub api_url: String,
    /// The brand's HN username, whose replies answer a mention. HN usernames are
    /// case-sensitive, so it is compared exactly.
    pub account: Option<String>,
}

pub struct HackerNews {
    name: String,
    settings: Settings,
    every: Duration,
    /// Algolia announces no window; its ~10,000 requests an hour are far above a poll's needs.
    transport: Transport,
}

impl HackerNews {
    pub fn new(
        name: String,
        settings: Settings,
        every: Duration,
        http: reqwest::Client,
    ) -> HackerNews {
        HackerNews {
            name,
            settings,
            every,
            transport: Transport::new("Hacker News", http, Budget::new(0), RateHeaders::NONE),
        }
    }

    async fn page(&self, since: Option<i64>, page: u32) -> Result<Page, SourceError> {
        let url = format!("{}/search_by_date", base_url(&self.settings.api_url));
        let mut query = vec![
            ("query", self.settings.query.clone()),
            ("tags", "(story,comment)".to_string()),
            ("hitsPerPage", HITS_PER_PAGE.to_string()),
            ("page", page.to_string()),
        ];
        if let Some(since) = since {
            query.push((
                "numericFilters",
                format!("created_at_i>={}", since - OVERLAP_SECS),
            ));
        }
        let what = "Hacker News search";
        let request = self.transport.http().get(&url).query(&query);
        let response = self.transport.call(what, Purpose::Poll, request).await?;
        Ok(read_json(what, response).await?)
    }

    /// The item with its replies, as Algolia's `/items/<id>` nests them; `None` when Algolia
    /// does not know it (deleted before it was indexed, or never there).
    async fn item(&self, id: &str) -> Result<Option<Item>, SourceError> {
        let what = "Hacker News item";
        let url = format!("{}/items/{id}", base_url(&self.settings.api_url));
        let request = self.transport.http().get(&url);
        let response = self.transport.send(what, Purpose::Poll, request).await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = self.transport.check(what, response).await?;
        Ok(read_json::<Item>(what, response).await.map(Some)?)
    }
}

#[async_trait]
impl Source for HackerNews {
    fn name(&self) -> &str {
        &self.name
    }

    fn network(&self) -> Network {
        TRAITS.network()
    }

    fn every(&self) -> Duration {
        self.every
    }

    /// The cursor is the newest `created_at_i` stored. Every page of the window is read before
    /// the cursor moves, so a failure half-way leaves it where it was. The first poll reads
    /// only the newest page: earshot starts from now, not from HN's beginning.
    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let mut problems = Vec::new();
        let since = match cursor.position.as_deref() {
            None => None,
            Some(position) => match position.parse::<i64>() {
                Ok(since) => Some(since),
                Err(_) => {
                    problems.push(format!(
                        "the stored Hacker News position `{position}` is unreadable; polling starts again from the newest page"
                    ));
                    None
                }
            },
        };
        let mut mentions = Vec::new();
        let mut newest = since;
        let mut pages = PAGER.pages();
        while let Some(token) = pages.next_page() {
            let number: u32 = token.and_then(|token| token.parse().ok()).unwrap_or(0);
            let page = self.page(since, number).await?;
            let count = page.hits.len();
            for hit in page.hits {
                match mention(&self.name, hit) {
                    Ok(Some(found)) => {
                        newest = newest.max(Some(found.created_at.timestamp()));
                        mentions.push(found);
                    }
                    Ok(None) => {}
                    Err(reason) => {
                        tracing::warn!(source = %self.name, %reason, "skipped a Hacker News hit")
                    }
                }
            }
            let last = page.nb_pages.is_none_or(|pages| number + 1 >= pages);
            pages.turn(if since.is_none() || count == 0 || last {
                Turn::Stop
            } else {
                Turn::Next((number + 1).to_string())
            });
        }
        if pages.cut_short() {
            tracing::warn!(source = %self.name, "more Hacker News hits than one poll reads; the oldest of this window are skipped");
        }
        Ok(Fetched {
            mentions,
            cursor: Cursor {
                position: newest.map(|newest| newest.to_string()),
                ..cursor.clone()
            },
            problems,
        })
    }

    /// Algolia's item tree (`/items/<id>`): a direct reply by the brand's `account` means
    /// someone answered on HN, the only place an HN answer can be made. Without an account
    /// earshot cannot tell whose reply is the brand's, so it reports nothing.
    async fn answered_by_brand(&self, mention: &Mention) -> Result<Option<String>, SourceError> {
        let Some(account) = self.settings.account.as_deref() else {
            return Ok(None);
        };
        let id = mention.key.id.as_str();
        // HN ids are numbers; anything else in a stored id must not reach a URL path.
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SourceError::Permanent(format!(
                "`{id}` is not a Hacker News item id"
            )));
        }
        let Some(item) = self.item(id).await? else {
            return Ok(None);
        };
        Ok(item
            .children
            .iter()
            .filter(|child| child.author.as_deref() == Some(account))
            .find_map(|child| child.id.as_ref().and_then(id_text))
            .map(|id| format!("reply by {account} on Hacker News: {SITE}/item?id={id}")))
    }
}

/// The page on HN where a person answers an item: the reply form for a comment, the item
/// itself (which has the comment box) for a story.
pub fn reply_link(id: &str, story: Option<&str>) -> String {
    match story {
        Some(story) if story != id => {
            format!("{SITE}/reply?id={id}&goto=item%3Fid%3D{story}")
        }
        _ => format!("{SITE}/item?id={id}"),
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    hits: Vec<Value>,
    #[serde(rename = "nbPages")]
    nb_pages: Option<u32>,
}

/// An item from `/items/<id>`: only who wrote each direct reply matters here. A deleted
/// reply has no author and never counts.
#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    children: Vec<Reply>,
}

#[derive(Deserialize)]
struct Reply {
    id: Option<Value>,
    author: Option<String>,
}

/// One Algolia hit as a mention; `None` for a deleted item (no author or no text left).
/// Hits are read one by one, so one odd hit costs only itself.
fn mention(source: &str, hit: Value) -> Result<Option<Mention>, String> {
    #[derive(Deserialize)]
    struct Hit {
        #[serde(rename = "objectID")]
        object_id: Option<Value>,
        created_at_i: Option<i64>,
        created_at: Option<String>,
        author: Option<String>,
        title: Option<String>,
        story_text: Option<String>,
        comment_text: Option<String>,
        url: Option<String>,
        story_id: Option<Value>,
        parent_id: Option<Value>,
    }
    let hit: Hit =
        serde_json::from_value(hit).map_err(|error| format!("malformed hit: {error}"))?;
    let id = hit
        .object_id
        .as_ref()
        .and_then(id_text)
        .ok_or("a hit without an objectID")?;
    let created_at = hit
        .created_at_i
        .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        .or_else(|| {
            hit.created_at
                .as_deref()
                .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
                .map(|time| time.with_timezone(&Utc))
        })
        .ok_or_else(|| format!("hit {id} has no creation time"))?;
    let Some(author) = hit.author.filter(|author| !author.is_empty()) else {
        return Ok(None);
    };
    let story = hit.story_id.as_ref().and_then(id_text);
    let (text, in_reply_to) = match hit.comment_text {
        Some(comment) => (
            plain_text(&comment),
            hit.parent_id.as_ref().and_then(id_text),
        ),
        None => {
            let title = hit
                .title
                .map(|title| as_written(&title))
                .unwrap_or_default();
            let body = hit
                .story_text
                .map(|text| plain_text(&text))
                .unwrap_or_default();
            let text = [title, body, hit.url.unwrap_or_default()]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            (text, None)
        }
    };
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(Mention {
        key: MentionKey::new(source, id.clone()),
        network: TRAITS.network(),
        author: Author {
            profile: Some(format!("{SITE}/user?id={author}")),
            handle: author,
            name: None,
        },
        text,
        link: Some(reply_link(&id, story.as_deref())),
        created_at,
        matched: Vec::new(),
        language: None,
        in_reply_to,
        direct: false,
        review: None,
    }))
}

/// Algolia sends ids as numbers in some fields and strings in others.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn comments_and_stories_become_mentions() {
        let comment = json!({"objectID": "42", "created_at_i": 1763726400, "author": "pg",
            "comment_text": "I like <b>Acme</b> &amp; co<p>second", "story_id": 41, "parent_id": 40});
        let found = mention("hn", comment).unwrap().unwrap();
        assert_eq!(found.key, MentionKey::new("hn", "42"));
        assert_eq!(found.text, "I like Acme & co\n\nsecond");
        assert_eq!(found.in_reply_to.as_deref(), Some("40"));
        assert_eq!(
            found.link.as_deref(),
            Some("https://news.ycombinator.com/reply?id=42&goto=item%3Fid%3D41")
        );
        assert_eq!(found.created_at.timestamp(), 1763726400);

        let story = json!({"objectID": "41", "created_at": "2025-11-21T12:00:00Z", "author": "dang",
            "title": "Show HN: Acme", "url": "https://acme.example", "story_text": null, "story_id": 41});
        let found = mention("hn", story).unwrap().unwrap();
        assert_eq!(found.text, "Show HN: Acme\nhttps://acme.example");
        assert_eq!(
            found.link.as_deref(),
            Some("https://news.ycombinator.com/item?id=41")
        );
        assert_eq!(found.in_reply_to, None);
    }

    /// Algolia's titles are the plain text as submitted; only comment and story texts are HTML.
    #[test]
    fn titles_are_plain_and_texts_are_html() {
        let story = json!({"objectID": "43", "created_at_i": 1763726400, "author": "a",
            "title": "Ask HN: Is Vec<Acme> & <T> worth it?",
            "story_text": "I tried &lt;Acme&gt;<p>It&#x27;s &amp;amp; fine<p>Really"});
        let found = mention("hn", story).unwrap().unwrap();
        assert_eq!(
            found.text,
            "Ask HN: Is Vec<Acme> & <T> worth it?\nI tried <Acme>\n\nIt's &amp; fine\n\nReally"
        );
    }

    #[test]
    fn deleted_and_malformed_hits_never_panic() {
        let deleted =
            json!({"objectID": "7", "created_at_i": 1, "author": null, "comment_text": null});
        assert_eq!(mention("hn", deleted), Ok(None));
        let emptied =
            json!({"objectID": "8", "created_at_i": 1, "author": "a", "comment_text": ""});
        assert_eq!(mention("hn", emptied), Ok(None));
        assert!(mention(
            "hn",
            json!({"created_at_i": 1, "author": "a", "title": "t"})
        )
        .is_err());
        assert!(mention("hn", json!({"objectID": "9", "author": "a", "title": "t"})).is_err());
        assert!(mention("hn", json!({"objectID": "9", "created_at_i": "soon"})).is_err());
        assert!(mention("hn", json!([1, 2])).is_err());
    }
}
