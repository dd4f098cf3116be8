//! The `kind = "youtube"` config section: its keys, defaults and checks, read through
//! [`Fields`] so that it does not depend on how the config file is parsed.

use std::time::Duration;

use super::{OAuth, YouTube, DEFAULT_API_URL, DEFAULT_TOKEN_URL};
use crate::net::Secret;

/// The keys a YouTube source takes besides `kind`, `name`, `every` and `rules`.
pub const KEYS: &[&str] = &[
    "channel_id",
    "api_key",
    "client_id",
    "client_secret",
    "refresh_token",
    "watch",
    "api_url",
    "token_url",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub channel_id: String,
    pub api_key: Secret,
    /// The channel's OAuth grant; without it earshot reads but cannot answer.
    pub oauth: Option<OAuth>,
    pub watch: Vec<Watch>,
    pub api_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// Comments (and replies) on the channel's videos.
    Comments,
    /// New videos that name the brand.
    Search(String),
}

impl Watch {
    pub fn parse(text: &str) -> Result<Watch, String> {
        let text = text.trim();
        if text == "comments" {
            return Ok(Watch::Comments);
        }
        if let Some(query) = text.strip_prefix("search:") {
            if !query.trim().is_empty() {
                return Ok(Watch::Search(query.trim().to_string()));
            }
        }
        Err(format!(
            "`{text}` is not a YouTube watch; use \"comments\" or \"search:<words>\""
        ))
    }

    /// The watch's entry in the cursor.
    pub fn key(&self) -> String {
        match self {
            Watch::Comments => "comments".into(),
            Watch::Search(query) => format!("search:{query}"),
        }
    }
}

/// The section's values, by key: strings already `${VAR}`-expanded, `watch` as its items.
pub struct Fields<'a> {
    pub get: &'a dyn Fn(&str) -> Option<String>,
    pub watch: Option<Vec<String>>,
}

/// A key that is wrong, and what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub key: &'static str,
    pub message: String,
}

fn error(key: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        key,
        message: message.into(),
    }
}

pub fn parse(fields: &Fields<'_>) -> Result<Settings, FieldError> {
    let value = |key: &str| (fields.get)(key).filter(|value| !value.trim().is_empty());
    let channel_id = value("channel_id").ok_or_else(|| {
        error(
            "channel_id",
            "a youtube source needs `channel_id`: the channel's id, \"UC\" and 22 characters (YouTube Studio → Settings → Channel → Advanced settings)",
        )
    })?;
    let channel_id = channel_id.trim().to_string();
    if !(channel_id.starts_with("UC")
        && channel_id.len() == 24
        && channel_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(error(
            "channel_id",
            format!("`{channel_id}` is not a YouTube channel id; it starts with \"UC\" and has 24 characters (not the @handle)"),
        ));
    }
    let api_key = value("api_key").ok_or_else(|| {
        error(
            "api_key",
            "a youtube source needs `api_key`: an API key of the Google Cloud project with the YouTube Data API v3 enabled",
        )
    })?;
    let oauth_keys = ["client_id", "client_secret", "refresh_token"];
    let oauth = match oauth_keys.map(value) {
        [Some(client_id), Some(client_secret), Some(refresh_token)] => Some(OAuth {
            client_id,
            client_secret: Secret::new(client_secret),
            refresh_token: Secret::new(refresh_token),
            token_url: url(value("token_url"), "token_url", DEFAULT_TOKEN_URL)?,
        }),
        [None, None, None] => {
            if value("token_url").is_some() {
                return Err(error(
                    "token_url",
                    "`token_url` is only used to answer; set `client_id`, `client_secret` and `refresh_token` too",
                ));
            }
            None
        }
        set => {
            let missing = oauth_keys
                .iter()
                .zip(set.iter())
                .find(|(_, value)| value.is_none())
                .map_or("client_id", |(key, _)| *key);
            return Err(error(
                missing,
                format!("answering as the channel needs `client_id`, `client_secret` and `refresh_token` together; `{missing}` is missing"),
            ));
        }
    };
    let items = fields
        .watch
        .clone()
        .unwrap_or_else(|| vec!["comments".to_string()]);
    if items.is_empty() {
        return Err(error(
            "watch",
            "`watch` is empty; use [\"comments\"] and/or \"search:<words>\"",
        ));
    }
    let mut watch = Vec::new();
    for item in items {
        let parsed = Watch::parse(&item).map_err(|message| error("watch", message))?;
        if watch.contains(&parsed) {
            return Err(error("watch", format!("`{item}` is listed twice")));
        }
        watch.push(parsed);
    }
    Ok(Settings {
        channel_id,
        api_key: Secret::new(api_key),
        oauth,
        watch,
        api_url: url(value("api_url"), "api_url", DEFAULT_API_URL)?,
    })
}

fn url(value: Option<String>, key: &'static str, default: &str) -> Result<String, FieldError> {
    let Some(value) = value else {
        return Ok(default.to_string());
    };
    match url::Url::parse(value.trim()) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(value.trim().to_string()),
        _ => Err(error(key, format!("`{value}` is not an http(s) URL"))),
    }
}

impl Settings {
    /// The source, ready to poll.
    pub fn build(&self, name: &str, every: Duration, http: reqwest::Client) -> YouTube {
        YouTube::new(name.to_string(), self.clone(), every, http)
    }

    /// One line for `earshot check`.
    pub fn describe(&self) -> String {
        let watches: Vec<String> = self.watch.iter().map(Watch::key).collect();
        format!(
            "channel {} ({}){}",
            self.channel_id,
            watches.join(", "),
            if self.oauth.is_some() {
                ""
            } else {
                "; read only: no OAuth grant to answer with"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse_with(pairs: &[(&str, &str)], watch: Option<&[&str]>) -> Result<Settings, FieldError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = move |key: &str| map.get(key).cloned();
        parse(&Fields {
            get: &get,
            watch: watch.map(|w| w.iter().map(|s| s.to_string()).collect()),
        })
    }

    const CHANNEL: (&str, &str) = ("channel_id", "UCabcdefghijklmnopqrstuv");

    #[test]
    fn a_minimal_section_reads_comments_without_answering() {
        let settings = parse_with(&[CHANNEL, ("api_key", "k")], None).unwrap();
        assert_eq!(settings.watch, vec![Watch::Comments]);
        assert!(settings.oauth.is_none());
        assert_eq!(settings.api_url, DEFAULT_API_URL);
    }

    #[test]
    fn mistakes_name_the_key() {
        let key = |result: Result<Settings, FieldError>| result.unwrap_err().key;
        assert_eq!(key(parse_with(&[("api_key", "k")], None)), "channel_id");
        assert_eq!(
            key(parse_with(
                &[("channel_id", "@acme"), ("api_key", "k")],
                None
            )),
            "channel_id"
        );
        assert_eq!(key(parse_with(&[CHANNEL], None)), "api_key");
        assert_eq!(
            key(parse_with(
                &[
                    CHANNEL,
                    ("api_key", "k"),
                    ("client_id", "c"),
                    ("refresh_token", "r")
                ],
                None
            )),
            "client_secret"
        );
        assert_eq!(
            key(parse_with(&[CHANNEL, ("api_key", "k")], Some(&["videos"]))),
            "watch"
        );
        assert_eq!(
            key(parse_with(
                &[CHANNEL, ("api_key", "k"), ("api_url", "ftp://x")],
                None
            )),
            "api_url"
        );
        let both = parse_with(
            &[CHANNEL, ("api_key", "k")],
            Some(&["comments", "search:acme coffee"]),
        )
        .unwrap();
        assert_eq!(both.watch[1], Watch::Search("acme coffee".into()));
    }
}
