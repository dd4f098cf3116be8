//! RSS 2.0, Atom and JSON Feed, from a URL or a local file: Google Alerts, news searches, blogs.
//! Feeds have no reply API; the desk tells people to answer on the site and mark the mention done.

pub mod config;
mod encoding;

pub use config::{Settings, NETWORK, TRAITS};

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::StatusCode;

use super::{Fetched, Source, SourceError};
use crate::domain::text::{as_written, plain_text};
use crate::domain::{Author, Cursor, Mention, MentionKey, Network};
use crate::net::{classify, error_chain, wait, Failure};
use sha2::{Digest, Sha256};

/// Where a feed is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Url(String),
    File(PathBuf),
}

/// A feed as served: its bytes, the validators for the next poll, the charset the server named.
struct Downloaded {
    body: Vec<u8>,
    cursor: Cursor,
    charset: Option<String>,
}

pub struct Feed {
    name: String,
    location: Location,
    every: Duration,
    http: reqwest::Client,
}

impl Feed {
    pub fn new(name: String, location: Location, every: Duration, http: reqwest::Client) -> Feed {
        Feed {
            name,
            location,
            every,
            http,
        }
    }

    /// Fetches over HTTP with the validators from the last poll; `None` means 304 Not Modified.
    async fn download(
        &self,
        url: &str,
        cursor: &Cursor,
    ) -> Result<Option<Downloaded>, SourceError> {
        let mut request = self.http.get(url);
        if let Some(etag) = &cursor.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &cursor.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        let response = request.send().await.map_err(|error| SourceError::Retry {
            reason: format!("cannot reach {url}: {}", error_chain(&error)),
            after: None,
        })?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        if !status.is_success() {
            let asked = wait::retry_after(response.headers(), Utc::now());
            let reason = format!("{url} answered {status}");
            return Err(Failure::of(classify(status), reason, asked).into());
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
                .map(str::to_string)
        };
        let charset = header(CONTENT_TYPE).and_then(|value| {
            let value = value.to_ascii_lowercase();
            let (_, charset) = value.split_once("charset=")?;
            Some(charset.trim_matches([' ', '"', '\'']).to_string())
        });
        let next = Cursor {
            position: cursor.position.clone(),
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let body = response.bytes().await.map_err(|error| SourceError::Retry {
            reason: format!("reading {url} failed: {}", error_chain(&error)),
            after: None,
        })?;
        Ok(Some(Downloaded {
            body: body.to_vec(),
            cursor: next,
            charset,
        }))
    }

    fn describe(&self) -> String {
        match &self.location {
            Location::Url(url) => url.clone(),
            Location::File(path) => path.display().to_string(),
        }
    }
}

#[async_trait]
impl Source for Feed {
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
        let (body, next, charset) = match &self.location {
            Location::Url(url) => match self.download(url, cursor).await? {
                Some(downloaded) => (downloaded.body, downloaded.cursor, downloaded.charset),
                None => {
                    return Ok(Fetched {
                        mentions: Vec::new(),
                        cursor: cursor.clone(),
                        problems: Vec::new(),
                    })
                }
            },
            Location::File(path) => {
                let body = tokio::fs::read(path).await.map_err(|error| {
                    SourceError::Permanent(format!("cannot read {}: {error}", path.display()))
                })?;
                (body, cursor.clone(), None)
            }
        };
        let mentions = parse_served(&self.name, &body, charset.as_deref()).map_err(|error| {
            SourceError::Permanent(format!(
                "{} is not a valid RSS, Atom or JSON feed: {error}",
                self.describe()
            ))
        })?;
        Ok(Fetched {
            mentions,
            cursor: next,
            problems: Vec::new(),
        })
    }
}

/// The entries of a feed document as mentions (rules not yet applied).
pub fn parse(source: &str, body: &[u8]) -> Result<Vec<Mention>, feed_rs::parser::ParseFeedError> {
    parse_served(source, body, None)
}

/// [`parse`] for a document served with `charset` in its `Content-Type`.
fn parse_served(
    source: &str,
    body: &[u8],
    charset: Option<&str>,
) -> Result<Vec<Mention>, feed_rs::parser::ParseFeedError> {
    let body = encoding::to_utf8(body, charset);
    // feed-rs keys an entry without an id by its first link (and title), or else by a random
    // UUID, which would relay the entry again on every poll; those get a key from their content
    // below instead.
    let feed = feed_rs::parser::Builder::new()
        .id_generator(|links, title, uri| {
            if links.is_empty() {
                String::new()
            } else {
                feed_rs::parser::generate_id(links, title, uri)
            }
        })
        .build()
        .parse(body.as_ref())?;
    let language = feed.language.clone();
    Ok(feed
        .entries
        .into_iter()
        .map(|entry| {
            let title = entry.title.as_ref().map(text_of).unwrap_or_default();
            let body = entry
                .summary
                .as_ref()
                .map(text_of)
                .or_else(|| {
                    let content = entry.content.as_ref()?;
                    let body = content.body.as_deref()?;
                    Some(if is_html(content.content_type.as_str()) {
                        plain_text(body)
                    } else {
                        as_written(body)
                    })
                })
                .unwrap_or_default();
            let text = match (title.is_empty(), body.is_empty() || body == title) {
                (false, false) => format!("{title}\n{body}"),
                (false, true) => title,
                (true, _) => body,
            };
            let link = entry.links.first().map(|link| unwrap_redirect(&link.href));
            let person = entry.authors.first();
            // feed-rs names an empty Atom <author> "unknown"; the site says more than that.
            let name = person
                .map(|person| person.name.trim().to_string())
                .filter(|name| !name.is_empty() && name != "unknown")
                .or_else(|| link.as_deref().and_then(site_of));
            let author = Author {
                handle: String::new(),
                name,
                profile: person.and_then(|person| person.uri.clone()),
            };
            let id = if entry.id.is_empty() {
                content_key(&entry)
            } else {
                entry.id.clone()
            };
            Mention {
                key: MentionKey::new(source, id),
                network: TRAITS.network(),
                author,
                text,
                link,
                created_at: entry.published.or(entry.updated).unwrap_or_else(Utc::now),
                matched: Vec::new(),
                language: language.clone(),
                in_reply_to: None,
                direct: false,
                review: None,
            }
        })
        .collect())
}

/// A text construct as its author meant it: HTML (or XHTML) rendered to text, plain text kept
/// as it is, with the entities the XML held decoded once by the parser.
fn text_of(text: &feed_rs::model::Text) -> String {
    if is_html(text.content_type.as_str()) {
        plain_text(&text.content)
    } else {
        as_written(&text.content)
    }
}

fn is_html(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("text/html") || essence.to_ascii_lowercase().ends_with("xml")
}

/// A stable key for an entry with no id and no link: a hash of what it says and when, so the
/// same entry gets the same key on every poll and a different entry another one.
fn content_key(entry: &feed_rs::model::Entry) -> String {
    let mut hash = Sha256::new();
    let mut part = |label: &str, value: &str| {
        hash.update(label.as_bytes());
        hash.update((value.len() as u64).to_be_bytes());
        hash.update(value.as_bytes());
    };
    part(
        "title",
        entry.title.as_ref().map_or("", |t| t.content.as_str()),
    );
    part(
        "summary",
        entry.summary.as_ref().map_or("", |s| s.content.as_str()),
    );
    part(
        "content",
        entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .unwrap_or_default(),
    );
    let when = entry.published.or(entry.updated).map(|at| at.to_rfc3339());
    part("date", when.as_deref().unwrap_or_default());
    let digest = hash.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("content:{hex}")
}

/// Google Alerts (and Google search) wrap every link in a `google.com/url?url=<target>`
/// redirect; people want the article itself.
pub fn unwrap_redirect(link: &str) -> String {
    let Ok(url) = url::Url::parse(link) else {
        return link.to_string();
    };
    let is_google = url
        .host_str()
        .is_some_and(|host| host == "google.com" || host.ends_with(".google.com"));
    if is_google && url.path() == "/url" {
        if let Some((_, target)) = url
            .query_pairs()
            .find(|(key, _)| key == "url" || key == "q")
        {
            if target.starts_with("http://") || target.starts_with("https://") {
                return target.into_owned();
            }
        }
    }
    link.to_string()
}

/// "news.example.com" for a link to an article there.
fn site_of(link: &str) -> Option<String> {
    let url = url::Url::parse(link).ok()?;
    let host = url.host_str()?;
    Some(host.strip_prefix("www.").unwrap_or(host).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_redirects_are_unwrapped() {
        let cases = [
            (
                "https://www.google.com/url?rct=j&sa=t&url=https://example.com/article%3Fid%3D3&ct=ga&cd=x&usg=y",
                "https://example.com/article?id=3",
            ),
            ("https://google.com/url?q=https://a.example/", "https://a.example/"),
            ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
            ("https://example.com/url?url=https://elsewhere/", "https://example.com/url?url=https://elsewhere/"),
            ("not a url", "not a url"),
        ];
        for (link, expected) in cases {
            assert_eq!(unwrap_redirect(link), expected, "{link}");
        }
    }

    #[test]
    fn parses_atom_rss_and_json_feed() {
        let atom = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title><updated>2026-11-21T12:00:00Z</updated>
<entry><id>tag:google.com,2013:googlealerts/feed:1</id><title type="html">New &lt;b&gt;Acme&lt;/b&gt; store</title>
<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://news.example/acme&amp;ct=ga"/>
<published>2026-11-21T10:00:00Z</published><updated>2026-11-21T10:00:00Z</updated>
<content type="html">Acme &amp;amp; friends open a &lt;b&gt;store&lt;/b&gt;</content><author><name/></author></entry></feed>"#;
        let rss = r#"<rss version="2.0"><channel><title>t</title><link>https://x</link><description>d</description>
<item><guid>rss-1</guid><title>Acme on the radio</title><link>https://radio.example/1</link><description>&lt;p&gt;Heard about Acme&lt;/p&gt;</description><pubDate>Sat, 21 Nov 2026 09:00:00 GMT</pubDate></item></channel></rss>"#;
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"j-1","url":"https://blog.example/acme","content_html":"<p>Acme is <em>fine</em></p>","date_published":"2026-11-21T08:00:00Z","authors":[{"name":"Blogger"}]}]}"#;

        let atom = parse("alerts", atom.as_bytes()).expect("atom parses");
        assert_eq!(atom.len(), 1);
        assert_eq!(
            atom[0].key,
            MentionKey::new("alerts", "tag:google.com,2013:googlealerts/feed:1")
        );
        assert_eq!(atom[0].text, "New Acme store\nAcme & friends open a store");
        assert_eq!(atom[0].link.as_deref(), Some("https://news.example/acme"));
        assert_eq!(
            atom[0].author.display(),
            "news.example",
            "an empty author is the site"
        );
        assert_eq!(atom[0].created_at.to_rfc3339(), "2026-11-21T10:00:00+00:00");

        let rss = parse("radio", rss.as_bytes()).expect("rss parses");
        assert_eq!(rss[0].key.id, "rss-1");
        assert_eq!(rss[0].text, "Acme on the radio\nHeard about Acme");

        let json = parse("blog", json.as_bytes()).expect("json feed parses");
        assert_eq!(json[0].text, "Acme is fine");
        assert_eq!(json[0].author.name.as_deref(), Some("Blogger"));
        assert_eq!(json[0].link.as_deref(), Some("https://blog.example/acme"));
    }

    #[test]
    fn plain_titles_keep_their_characters_and_entities_decode_once() {
        let rss = r#"<rss version="2.0"><channel><title>t</title>
<item><guid>1</guid><title>Vec&lt;String&gt; in &amp;lt;Acme&amp;gt;</title><description>&lt;p&gt;Acme &amp;amp;lt;3&lt;/p&gt;</description></item></channel></rss>"#;
        let found = parse("f", rss.as_bytes()).unwrap();
        assert_eq!(found[0].text, "Vec<String> in &lt;Acme&gt;\nAcme &lt;3");

        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><id>f</id><title>t</title>
<entry><id>e1</id><title type="text">Vec&lt;String&gt; &amp; Acme</title><summary type="text">line one
line two &lt;module&gt;</summary></entry>
<entry><id>e2</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Acme <b>bold</b></div></title>
<content type="text">plain &lt;tag&gt; content</content></entry></feed>"#;
        let found = parse("f", atom.as_bytes()).unwrap();
        assert_eq!(
            found[0].text,
            "Vec<String> & Acme\nline one\nline two <module>"
        );
        assert_eq!(found[1].text, "Acme bold\nplain <tag> content");
    }

    #[test]
    fn feeds_in_other_encodings_and_without_a_version_parse() {
        let rss = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss><channel><title>t</title><item><guid>u1</guid><title>Acme caf\u{e9}</title></item></channel></rss>";
        let mut utf16 = Vec::new();
        for unit in rss.encode_utf16() {
            utf16.extend(unit.to_be_bytes());
        }
        let found = parse("f", &utf16).expect("UTF-16 without a mark, and no version");
        assert_eq!(found[0].text, "Acme caf\u{e9}");

        let latin = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>t</title><item><guid>w1</guid><title>Acme\x92s caf\xe9</title></item></channel></rss>";
        assert_eq!(
            parse("f", latin).unwrap()[0].text,
            "Acme\u{2019}s caf\u{e9}"
        );
    }

    #[test]
    fn entries_without_id_link_or_title_keep_one_key() {
        let feed = |text: &str| {
            format!(
                r#"<rss version="2.0"><channel><title>t</title><item><description>{text}</description><pubDate>Sat, 21 Nov 2026 09:00:00 GMT</pubDate></item><item><title>titled only</title></item></channel></rss>"#
            )
        };
        let first = parse("f", feed("Acme is back").as_bytes()).unwrap();
        let again = parse("f", feed("Acme is back").as_bytes()).unwrap();
        let other = parse("f", feed("Acme is gone").as_bytes()).unwrap();
        assert_eq!(first[0].key, again[0].key, "the same entry, the same key");
        assert_eq!(first[1].key, again[1].key, "a title alone keys it too");
        assert_ne!(first[0].key, other[0].key);
        assert_ne!(first[0].key, first[1].key);
        assert!(first[0].key.id.starts_with("content:"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [
            &b""[..],
            b"<html>nope</html>",
            b"{\"version\":1}",
            b"\xff\xfe\x00",
        ] {
            assert!(parse("x", body).is_err());
        }
    }
}
