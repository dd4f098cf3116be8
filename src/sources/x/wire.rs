//! X API v2's wire types, and what its ids and texts mean.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub(super) struct Page {
    #[serde(default)]
    pub data: Vec<Value>,
    pub includes: Option<Includes>,
    pub meta: Option<Meta>,
    #[serde(default)]
    pub errors: Vec<Value>,
}

#[derive(Deserialize, Default)]
pub(super) struct Includes {
    #[serde(default)]
    pub users: Vec<User>,
    /// The posts the page's posts refer to (`expansions=referenced_tweets.id`): retweeted,
    /// quoted, replied to. Only their ids and authors matter, and one odd item must not lose
    /// the page.
    #[serde(default)]
    pub tweets: Vec<Value>,
}

impl Includes {
    /// Ids of the referenced posts written by the account `author`.
    pub fn posts_by(&self, author: &str) -> Vec<String> {
        self.tweets
            .iter()
            .filter(|post| post.get("author_id").and_then(Value::as_str) == Some(author))
            .filter_map(|post| post.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    }
}

#[derive(Deserialize)]
pub(super) struct User {
    pub id: String,
    pub username: String,
    pub name: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Meta {
    pub newest_id: Option<String>,
    pub next_token: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Reference {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// X's problem details: `{"detail": "...", "title": "..."}`, or the raw body.
pub(super) async fn problem_detail(response: reqwest::Response) -> String {
    let body = response.text().await.unwrap_or_default();
    serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|problem| {
            problem
                .get("detail")
                .or_else(|| problem.get("title"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| body.chars().take(300).collect())
}

/// Post ids are snowflakes: decimal numbers, compared by length first.
pub(super) fn newer(id: &str, than: Option<&str>) -> bool {
    let digits = |id: &str| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    match than {
        _ if !digits(id) => false,
        Some(than) if digits(than) => (id.len(), id) > (than.len(), than),
        _ => true,
    }
}

/// A snowflake holds its creation time: milliseconds since X's epoch, above 22 bits.
pub(super) fn snowflake_time(id: &str) -> Option<DateTime<Utc>> {
    let id: u64 = id.parse().ok()?;
    DateTime::from_timestamp_millis(((id >> 22) + 1_288_834_974_657) as i64)
}

/// X rewrites links to t.co, so texts are compared without them.
pub(super) fn without_links(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !(word.starts_with("http://") || word.starts_with("https://")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflake_ids_compare_as_numbers() {
        assert!(newer("1301573587187331075", Some("1301573587187331074")));
        assert!(newer("10000000000000000000", Some("9999999999999999999")));
        assert!(!newer("999", Some("1000")));
        assert!(!newer("1000", Some("1000")));
        assert!(newer("5", None));
        assert!(!newer("", None));
        assert!(!newer("abc", Some("1")));
    }

    #[test]
    fn snowflakes_tell_their_time() {
        let time = snowflake_time("1301573587187331074").unwrap();
        assert_eq!(time.format("%Y-%m-%d").to_string(), "2020-09-03");
        assert_eq!(snowflake_time("nope"), None);
    }

    #[test]
    fn links_do_not_make_texts_differ() {
        assert_eq!(
            without_links("see https://t.co/abc now"),
            without_links("see https://acme.example/a now")
        );
    }
}
