//! Mastodon's wire types (accounts, statuses, the instance description) and how a status
//! becomes a mention.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::text::{as_written, plain_text};
use crate::domain::{Author, Mention, MentionKey};

/// The account a token belongs to (`verify_credentials`), or a post's author.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Account {
    pub id: String,
    #[serde(default)]
    pub acct: String,
    #[serde(default)]
    pub display_name: String,
    pub url: Option<String>,
}

/// `/api/v1/statuses/:id/context`: only the replies below matter here.
#[derive(Deserialize)]
pub(super) struct Thread {
    #[serde(default)]
    pub descendants: Vec<RawStatus>,
}

/// A status as the API gives it. Everything but `id` and `account` may be missing.
#[derive(Debug, Deserialize)]
pub(super) struct RawStatus {
    pub id: Option<String>,
    pub account: Option<Account>,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub spoiler_text: String,
    pub url: Option<String>,
    pub uri: Option<String>,
    pub created_at: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub visibility: Option<String>,
    pub language: Option<String>,
    pub reblog: Option<serde_json::Value>,
}

/// The instance's description: `/api/v2/instance`, or `/api/v1/instance` on servers that
/// predate it (Mastodon before 4.0, and several other fediverse servers). Only the post length
/// limit and the streaming host matter; every field may be missing or oddly typed.
#[derive(Deserialize, Default)]
pub(super) struct Instance {
    #[serde(default)]
    configuration: Option<InstanceConfiguration>,
    /// v1: the streaming host is `urls.streaming_api`.
    #[serde(default)]
    urls: Option<InstanceUrls>,
    /// v1 on Pleroma, Akkoma and glitch-soc.
    #[serde(default, deserialize_with = "count")]
    max_toot_chars: Option<usize>,
}

#[derive(Deserialize, Default)]
struct InstanceConfiguration {
    #[serde(default)]
    statuses: Option<StatusLimits>,
    #[serde(default)]
    urls: Option<InstanceUrls>,
}

#[derive(Deserialize, Default)]
struct InstanceUrls {
    #[serde(default, deserialize_with = "text")]
    streaming: Option<String>,
    #[serde(default, deserialize_with = "text")]
    streaming_api: Option<String>,
}

#[derive(Deserialize, Default)]
struct StatusLimits {
    #[serde(default, deserialize_with = "count")]
    max_characters: Option<usize>,
}

impl Instance {
    /// The longest post the instance takes, if it says.
    pub fn max_characters(&self) -> Option<usize> {
        self.configuration
            .as_ref()
            .and_then(|c| c.statuses.as_ref())
            .and_then(|s| s.max_characters)
            .or(self.max_toot_chars)
    }

    /// Where it serves its streaming API, if it says.
    pub fn streaming(&self) -> Option<&str> {
        let v2 = self.configuration.as_ref().and_then(|c| c.urls.as_ref());
        v2.and_then(|urls| urls.streaming.as_deref()).or_else(|| {
            self.urls
                .as_ref()
                .and_then(|urls| urls.streaming_api.as_deref())
        })
    }
}

/// A positive count, given as a number or as a string of digits; anything else is unknown.
fn count<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(match value {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n > 0))
}

fn text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(value.as_str().map(str::to_string))
}

#[derive(Deserialize)]
pub(super) struct SearchResults {
    #[serde(default)]
    pub statuses: Vec<RawStatus>,
}

#[derive(Deserialize)]
pub(super) struct ApiError {
    pub error: Option<String>,
}

/// An item's place in its stream (the notification's or status's id) and the status it
/// carries: `Ok(None)` for a mention whose post was deleted since, `Err` for one that cannot be
/// read (skipped, with the reason logged, while its place still counts).
pub(super) fn stream_item(
    item: &serde_json::Value,
    direct: bool,
) -> Option<(String, Result<Option<RawStatus>, String>)> {
    let id = item.get("id")?.as_str()?.to_string();
    let status = if direct {
        item.get("status")
            .cloned()
            .unwrap_or(serde_json::Value::Null)
    } else {
        item.clone()
    };
    if status.is_null() {
        return Some((id, Ok(None)));
    }
    let status = serde_json::from_value::<RawStatus>(status)
        .map(Some)
        .map_err(|error| format!("item {id}: {error}"));
    Some((id, status))
}

/// A status as a mention; `None` for what is never relayed: the brand's own posts, boosts,
/// and posts that are not public (followers-only or direct).
pub(super) fn to_mention(
    source: &str,
    status: RawStatus,
    direct: bool,
    me: &Account,
) -> Option<Mention> {
    let id = status.id?;
    let account = status.account?;
    if account.id == me.id || status.reblog.is_some_and(|r| !r.is_null()) {
        return None;
    }
    if !matches!(
        status.visibility.as_deref(),
        None | Some("public") | Some("unlisted")
    ) {
        return None;
    }
    let content = plain_text(&without_quote_fallback(&status.content));
    let text = if status.spoiler_text.trim().is_empty() {
        content
    } else {
        // The content warning is plain text; only `content` is HTML.
        format!("CW: {}\n{content}", as_written(&status.spoiler_text))
    };
    let created_at = status
        .created_at
        .as_deref()
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map_or_else(Utc::now, |at| at.with_timezone(&Utc));
    let name = account.display_name.trim().to_string();
    Some(Mention {
        review: None,
        key: MentionKey::new(source, id),
        network: super::TRAITS.network(),
        author: Author {
            handle: account.acct.clone(),
            name: (!name.is_empty()).then_some(name),
            profile: account.url.clone(),
        },
        text,
        link: status.url.or(status.uri),
        created_at,
        matched: Vec::new(),
        language: status.language,
        in_reply_to: status.in_reply_to_id,
        direct,
    })
}

/// Mastodon 4.5 puts a `<p class="quote-inline">RE: <a href="…">…</a></p>` paragraph in a
/// quote post's content for clients that cannot show quotes; clients that can drop it, and so
/// does earshot: it is a link, not the writer's words, and a link to the brand's own post
/// (`…/@acme/…`) would match the keyword `acme` by itself.
fn without_quote_fallback(html: &str) -> std::borrow::Cow<'_, str> {
    if !html.contains("quote-inline") {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find("<p") {
        let Some(tag_end) = rest[open..].find('>').map(|end| open + end) else {
            break;
        };
        let tag = &rest[open..=tag_end];
        let is_fallback = tag
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '>')
            .any(|word| word == "quote-inline");
        match rest[tag_end..].find("</p>") {
            Some(close) if is_fallback => {
                out.push_str(&rest[..open]);
                rest = &rest[tag_end + close + "</p>".len()..];
            }
            _ => {
                out.push_str(&rest[..=tag_end]);
                rest = &rest[tag_end + 1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Mastodon 4.5 quote post: the `RE:` fallback paragraph is not the writer's text.
    #[test]
    fn the_quote_fallback_paragraph_is_left_out() {
        let html = "<p class=\"quote-inline\">RE: <a href=\"https://mastodon.social/@acme/115\">mastodon.social/@acme/115</a></p><p>This roast is <b>great</b></p>";
        assert_eq!(
            without_quote_fallback(html),
            "<p>This roast is <b>great</b></p>"
        );
        assert_eq!(
            plain_text(&without_quote_fallback(html)),
            "This roast is great"
        );
        // Other paragraphs, other classes and unclosed tags stay as they are.
        let other = "<p class=\"lead\">quote-inline is a class name</p><p";
        assert_eq!(without_quote_fallback(other), other);
        let status: RawStatus = serde_json::from_value(serde_json::json!({
            "id": "120", "visibility": "public", "created_at": "2026-11-21T10:00:00.000Z",
            "account": {"id": "7", "acct": "jane@example.social", "display_name": "Jane",
                        "url": "https://example.social/@jane"},
            "content": html,
            "quote": {"state": "accepted", "quoted_status": {"id": "115"}},
        }))
        .unwrap();
        let me = Account {
            id: "1".into(),
            acct: "acme".into(),
            display_name: String::new(),
            url: None,
        };
        let mention = to_mention("masto", status, false, &me).expect("a mention");
        assert_eq!(mention.text, "This roast is great");
    }

    /// `content` is HTML; `spoiler_text` is the plain text its author typed.
    #[test]
    fn only_the_content_is_html() {
        let status: RawStatus = serde_json::from_value(serde_json::json!({
            "id": "110", "visibility": "public", "created_at": "2026-11-21T10:00:00.000Z",
            "account": {"id": "7", "acct": "jane@example.social", "display_name": "Jane",
                "url": "https://example.social/@jane"},
            "spoiler_text": "Vec<Lid> & <acme> rant",
            "content": "<p><span class=\"h-card\"><a href=\"https://mastodon.social/@acme\" class=\"u-url mention\">@<span>acme</span></a></span> lids &lt;leak&gt; &amp;amp; drip</p><p>second<br>line</p>",
            "url": "https://example.social/@jane/110"
        }))
        .unwrap();
        let me = Account {
            id: "1".into(),
            acct: "acme".into(),
            display_name: String::new(),
            url: None,
        };
        let mention = to_mention("masto", status, false, &me).unwrap();
        assert_eq!(
            mention.text,
            "CW: Vec<Lid> & <acme> rant\n@acme lids <leak> &amp; drip\n\nsecond\nline"
        );
    }
}
