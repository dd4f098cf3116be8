//! The `[[sources]]` keys of a Facebook Page source, checked, and the source they build.
//! Written against plain values so that any config front end (today `config.rs`, later a
//! per-network registry) can hand them over.

use std::time::Duration;

use super::Facebook;
use crate::net::Secret;
use crate::sources::graph::DEFAULT_GRAPH_URL;

/// Two minutes: one request per watch per poll when nothing is new, 90 an hour for all three,
/// far inside the Business Use Case budget of even a small Page (4,800 calls a day per engaged
/// user), and a new comment shows up within about two minutes.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(2 * 60);

/// The keys a `kind = "facebook"` section takes besides `kind`, `name`, `every` and `rules`.
pub const KEYS: &[&str] = &["page_id", "token", "app_secret", "watch", "graph_url"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub page_id: String,
    pub token: Secret,
    pub app_secret: Option<Secret>,
    pub watch: Vec<Watch>,
    pub graph_url: String,
}

/// What a Facebook source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// New comments and replies under the Page's recent posts.
    Comments,
    /// Posts others write on the Page.
    VisitorPosts,
    /// Public posts that tag the Page.
    Tagged,
}

impl Watch {
    pub const ALL: [Watch; 3] = [Watch::Comments, Watch::VisitorPosts, Watch::Tagged];

    pub fn key(self) -> &'static str {
        match self {
            Watch::Comments => "comments",
            Watch::VisitorPosts => "visitor_posts",
            Watch::Tagged => "tagged",
        }
    }

    pub fn parse(text: &str) -> Result<Watch, String> {
        Watch::ALL
            .into_iter()
            .find(|watch| watch.key() == text.trim())
            .ok_or_else(|| {
                format!("`{text}` is not a Facebook watch; use \"comments\", \"visitor_posts\" or \"tagged\"")
            })
    }
}

/// The section's values, `${VAR}` already read from the environment.
#[derive(Debug, Default)]
pub struct Fields {
    pub page_id: Option<String>,
    pub token: Option<String>,
    pub app_secret: Option<String>,
    pub watch: Option<Vec<String>>,
    pub graph_url: Option<String>,
}

impl Settings {
    /// Checks the section; an error names the key and says what is expected.
    pub fn parse(fields: Fields) -> Result<Settings, (&'static str, String)> {
        let page_id = graph_id(fields.page_id, "page_id", "the Page's numeric id (Page → About → Page transparency, or `GET /me?fields=id` with the Page token)")?;
        let token = fields
            .token
            .filter(|token| !token.trim().is_empty())
            .ok_or((
                "token",
                "a facebook source needs `token`: a long-lived Page access token".to_string(),
            ))?;
        let watch = match fields.watch {
            None => Watch::ALL.to_vec(),
            Some(list) if list.is_empty() => {
                return Err(("watch", "`watch` is empty; leave it out for all of \"comments\", \"visitor_posts\" and \"tagged\"".into()))
            }
            Some(list) => list
                .iter()
                .map(|item| Watch::parse(item).map_err(|message| ("watch", message)))
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(Settings {
            page_id,
            token: Secret::new(token.trim()),
            app_secret: fields
                .app_secret
                .filter(|secret| !secret.trim().is_empty())
                .map(|secret| Secret::new(secret.trim())),
            watch,
            graph_url: http_url(fields.graph_url, "graph_url")?,
        })
    }
}

/// Builds the source.
pub fn build(name: String, settings: Settings, every: Duration, http: reqwest::Client) -> Facebook {
    Facebook::new(name, settings, every, http)
}

/// A Graph id: digits (Meta's ids are numbers written as strings).
pub fn graph_id(
    value: Option<String>,
    key: &'static str,
    what: &str,
) -> Result<String, (&'static str, String)> {
    let value = value
        .map(|value| value.trim().to_string())
        .unwrap_or_default();
    if value.is_empty() {
        return Err((key, format!("a source of this kind needs `{key}`: {what}")));
    }
    if !value.chars().all(|c| c.is_ascii_digit()) {
        return Err((
            key,
            format!("`{value}` is not a Graph id; `{key}` is all digits: {what}"),
        ));
    }
    Ok(value)
}

/// The Graph API's base URL, default or configured.
pub fn http_url(
    value: Option<String>,
    key: &'static str,
) -> Result<String, (&'static str, String)> {
    let Some(value) = value else {
        return Ok(DEFAULT_GRAPH_URL.to_string());
    };
    match url::Url::parse(value.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
            Ok(value.trim().to_string())
        }
        _ => Err((key, format!("`{value}` is not an http(s) URL"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            page_id: Some("104857600000000".into()),
            token: Some("EAAB".into()),
            ..Fields::default()
        }
    }

    #[test]
    fn defaults_and_refusals() {
        let settings = Settings::parse(fields()).unwrap();
        assert_eq!(settings.watch, Watch::ALL.to_vec());
        assert_eq!(settings.graph_url, DEFAULT_GRAPH_URL);
        assert_eq!(settings.app_secret, None);
        let cases: Vec<(Fields, &str)> = vec![
            (
                Fields {
                    page_id: None,
                    ..fields()
                },
                "page_id",
            ),
            (
                Fields {
                    page_id: Some("acme".into()),
                    ..fields()
                },
                "page_id",
            ),
            (
                Fields {
                    token: Some(" ".into()),
                    ..fields()
                },
                "token",
            ),
            (
                Fields {
                    watch: Some(vec!["mentions".into()]),
                    ..fields()
                },
                "watch",
            ),
            (
                Fields {
                    watch: Some(vec![]),
                    ..fields()
                },
                "watch",
            ),
            (
                Fields {
                    graph_url: Some("ftp://x".into()),
                    ..fields()
                },
                "graph_url",
            ),
        ];
        for (fields, key) in cases {
            assert_eq!(Settings::parse(fields).unwrap_err().0, key);
        }
        let watch = Settings::parse(Fields {
            watch: Some(vec!["tagged".into(), "comments".into()]),
            ..fields()
        })
        .unwrap()
        .watch;
        assert_eq!(watch, vec![Watch::Tagged, Watch::Comments]);
    }
}
