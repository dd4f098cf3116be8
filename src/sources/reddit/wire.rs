//! Reddit's wire types: "things" and listings, and how one item becomes a mention.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SITE;
use crate::domain::text::as_written;
use crate::domain::{Author, Mention, MentionKey};

/// The newest item handled in one listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Mark {
    pub name: String,
    pub created: f64,
}

/// A comment's fullname (`t1_<id>`), which is how a reply to it names its parent.
pub(super) fn fullname(comment: &Value) -> Option<String> {
    text_of(comment, "name")
        .map(str::to_string)
        .or_else(|| text_of(comment, "id").map(|id| format!("t1_{id}")))
}

/// A Reddit "thing": `{"kind": "t3", "data": {...}}`; a listing is a thing whose data holds
/// `children` and `after`.
#[derive(Deserialize, Default)]
pub(super) struct Thing {
    pub kind: Option<String>,
    pub data: Option<Value>,
}

#[derive(Deserialize, Default)]
pub(super) struct ListingData {
    #[serde(default)]
    pub children: Vec<Thing>,
    pub after: Option<String>,
}

impl Thing {
    pub fn listing(self) -> ListingData {
        self.data
            .and_then(|data| serde_json::from_value(data).ok())
            .unwrap_or_default()
    }
}

/// One post, comment or inbox message from a listing.
pub(super) struct Item {
    pub kind: String,
    pub data: Value,
    pub mark: Mark,
}

impl Item {
    pub fn read(thing: Thing) -> Result<Item, String> {
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
    pub fn mention(&self, source: &str, brand: &str) -> Option<Mention> {
        let data = &self.data;
        let author = text_of(data, "author").filter(|author| *author != "[deleted]")?;
        if author.eq_ignore_ascii_case(brand) {
            return None;
        }
        let gone = |text: &str| matches!(text.trim(), "" | "[deleted]" | "[removed]");
        let (text, link, in_reply_to) = match self.kind.as_str() {
            "t3" => {
                // Read with `raw_json=1`: titles, selftext and bodies are the Markdown as typed.
                let title = markdown(text_of(data, "title").unwrap_or_default());
                let body = text_of(data, "selftext")
                    .filter(|body| !gone(body))
                    .map(markdown)
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
                (
                    markdown(body),
                    comment_link(data),
                    text_of(data, "parent_id").map(str::to_string),
                )
            }
            _ => return None,
        };
        if text.is_empty() {
            return None;
        }
        Some(Mention {
            review: None,
            key: MentionKey::new(source, self.mark.name.clone()),
            network: super::TRAITS.network(),
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
        })
    }
}

/// Reddit Markdown as its author typed it, except the spacer lines its editors write to keep an
/// empty paragraph (`&nbsp;`, `&#x200B;`), which are the blank lines they stand for.
fn markdown(text: &str) -> String {
    let spacer = |line: &str| {
        matches!(
            line.trim().to_ascii_lowercase().as_str(),
            "&nbsp;" | "&#x200b;" | "&#8203;" | "\u{200b}"
        )
    };
    let lines: Vec<&str> = text
        .lines()
        .map(|line| if spacer(line) { "" } else { line })
        .collect();
    as_written(&lines.join("\n"))
}

/// Where a comment is read: its `permalink`, or the inbox's `context`, or (older and removed
/// comments carry neither) the post it is in, from `link_id`.
pub(super) fn comment_link(comment: &Value) -> Option<String> {
    let path = text_of(comment, "permalink").or_else(|| text_of(comment, "context"));
    if let Some(path) = path.filter(|path| path.starts_with('/')) {
        return Some(format!("{SITE}{path}"));
    }
    let post = text_of(comment, "link_id")?.strip_prefix("t3_")?;
    let id = text_of(comment, "id")
        .or_else(|| text_of(comment, "name").and_then(|name| name.strip_prefix("t1_")))?;
    (base36(post) && base36(id)).then(|| format!("{SITE}/comments/{post}/_/{id}/"))
}

/// The replies below a comment: `data.replies` is a listing, or `""` when there are none.
pub(super) fn replies_of(comment: &Value) -> Result<Vec<Thing>, String> {
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
pub(super) fn post_of(mention: &Mention) -> Option<String> {
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
pub(super) fn base36(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

pub(super) fn text_of<'a>(data: &'a Value, field: &str) -> Option<&'a str> {
    data.get(field)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_become_mentions_or_nothing() {
        let thing = |kind: &str, data: Value| Thing {
            kind: Some(kind.into()),
            data: Some(data),
        };
        let post = Item::read(thing("t3", json!({"name": "t3_a", "author": "u1", "title": "Acme & me",
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

    /// With `raw_json=1` Reddit sends the Markdown as typed: nothing in it is HTML.
    #[test]
    fn markdown_arrives_as_typed() {
        let thing = Thing {
            kind: Some("t3".into()),
            data: Some(
                json!({"name": "t3_b", "author": "u1", "created_utc": 1763770000.0,
                "title": "Acme's <Vec<String>> & friends",
                "selftext": "Printing it gives `<acme.Config object at 0x7f3a>`.\n\n&nbsp;\n\n    from <module>\n    import acme\n\n&#x200B;\n\nping /u/<USERNAME> &amp; co",
                "permalink": "/r/x/comments/b/t/"}),
            ),
        };
        let mention = Item::read(thing).unwrap().mention("r", "acmehq").unwrap();
        assert_eq!(
            mention.text,
            "Acme's <Vec<String>> & friends\nPrinting it gives `<acme.Config object at 0x7f3a>`.\n\n    from <module>\n    import acme\n\nping /u/<USERNAME> &amp; co"
        );
    }

    #[test]
    fn a_comment_without_permalink_finds_its_post_from_link_id() {
        let thing = Thing {
            kind: Some("t1".into()),
            data: Some(
                json!({"name": "t1_d0iaye9", "id": "d0iaye9", "author": "u1",
                "body": "acme soon", "created_utc": 1456000000.0, "link_id": "t3_484169",
                "parent_id": "t1_d0hkqti", "permalink": null, "context": null}),
            ),
        };
        let mention = Item::read(thing).unwrap().mention("r", "acmehq").unwrap();
        assert_eq!(
            mention.link.as_deref(),
            Some("https://www.reddit.com/comments/484169/_/d0iaye9/")
        );
        assert_eq!(post_of(&mention).as_deref(), Some("484169"));
    }
}
