//! RSS 2.0, Atom and JSON Feed, from a URL or a local file: Google Alerts, news searches, blogs.
//! Feeds have no reply API; the desk tells people to answer on the site and mark the mention done.

pub mod config;

pub use config::{Settings, NETWORK};

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::StatusCode;

use super::{Fetched, Source, SourceError};
use crate::domain::text::plain_text;
use crate::domain::{Author, Cursor, Mention, MentionKey, Network};
use crate::net::{classify, error_chain, wait, Failure};

/// Where a feed is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Url(String),
    File(PathBuf),
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
    ) -> Result<Option<(Vec<u8>, Cursor)>, SourceError> {
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
        let next = Cursor {
            position: cursor.position.clone(),
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let body = response.bytes().await.map_err(|error| SourceError::Retry {
            reason: format!("reading {url} failed: {}", error_chain(&error)),
            after: None,
        })?;
        Ok(Some((body.to_vec(), next)))
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
        Network::Feed
    }

    fn every(&self) -> Duration {
        self.every
    }

    async fn fetch(&self, cursor: &Cursor) -> Result<Fetched, SourceError> {
        let (body, next) = match &self.location {
            Location::Url(url) => match self.download(url, cursor).await? {
                Some(downloaded) => downloaded,
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
                (body, cursor.clone())
            }
        };
        let mentions = parse(&self.name, &body).map_err(|error| {
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
    let feed = feed_rs::parser::parse(body)?;
    let language = feed.language.clone();
    Ok(feed
        .entries
        .into_iter()
        .map(|entry| {
            let title = entry
                .title
                .as_ref()
                .map(|t| plain_text(&t.content))
                .unwrap_or_default();
            let body = entry
                .summary
                .as_ref()
                .map(|s| plain_text(&s.content))
                .or_else(|| {
                    entry
                        .content
                        .as_ref()
                        .and_then(|c| c.body.as_deref())
                        .map(plain_text)
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
            Mention {
                key: MentionKey::new(source, entry.id.clone()),
                network: Network::Feed,
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
