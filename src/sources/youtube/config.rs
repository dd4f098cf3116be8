//! A YouTube source's `[[sources]]` keys: the channel, the API key for reading, the optional
//! OAuth grant for answering, and what to watch.

use std::any::Any;
use std::sync::Arc;

use super::{quota, OAuth, YouTube, DEFAULT_API_URL, DEFAULT_EVERY, DEFAULT_TOKEN_URL};
use crate::config::keys::{KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::Secret;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// How YouTube takes answers.
/// `comments.insert` takes up to 10,000 characters.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 10_000 },
    colour: 0xFF0000,
    ..NetworkTraits::new("youtube", "YouTube")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &[
        "channel_id",
        "api_key",
        "client_id",
        "client_secret",
        "refresh_token",
        "watch",
        "api_url",
        "token_url",
        "daily_units",
        "daily_searches",
    ],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub channel_id: String,
    pub api_key: Secret,
    /// The channel's OAuth grant; without it earshot reads but cannot answer.
    pub oauth: Option<OAuth>,
    pub watch: Vec<Watch>,
    pub api_url: String,
    /// The project's daily allocation (Google Cloud console → APIs → YouTube Data API v3 →
    /// Quotas): units for every endpoint but search, and `search.list` calls.
    pub daily_units: u32,
    pub daily_searches: u32,
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

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let channel_id = keys.required(
        "channel_id",
        "the channel's id, \"UC\" and 22 characters (YouTube Studio → Settings → Channel → Advanced settings)",
    )?;
    let channel_id = channel_id.trim().to_string();
    if !(channel_id.starts_with("UC")
        && channel_id.len() == 24
        && channel_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(keys.error(
            "channel_id",
            format!("`{channel_id}` is not a YouTube channel id; it starts with \"UC\" and has 24 characters (not the @handle)"),
        ));
    }
    let api_key = keys.secret(
        "api_key",
        "an API key of the Google Cloud project with the YouTube Data API v3 enabled",
    )?;
    let oauth = keys.refresh_grant(DEFAULT_TOKEN_URL, "to answer as the channel")?;
    let listed = keys.watch(&["comments"], Watch::parse)?;
    if listed.is_empty() {
        return Err(keys.error(
            "watch",
            "`watch` is empty; use [\"comments\"] and/or \"search:<words>\"",
        ));
    }
    let mut watch: Vec<Watch> = Vec::new();
    for parsed in listed {
        if watch.contains(&parsed) {
            return Err(keys.error("watch", format!("`{}` is listed twice", parsed.key())));
        }
        watch.push(parsed);
    }
    Ok(Box::new(Settings {
        channel_id,
        api_key,
        oauth,
        watch,
        api_url: keys.base_url("api_url", DEFAULT_API_URL)?,
        // A poll needs a few units and an answer 50: fewer than 100 a day cannot do both.
        daily_units: keys
            .number("daily_units", 100..=100_000_000)?
            .unwrap_or(quota::DAILY_UNITS),
        daily_searches: keys
            .number("daily_searches", 1..=1_000_000)?
            .unwrap_or(quota::DAILY_SEARCHES),
    }))
}

impl SourceSpec for Settings {
    /// The channel, its watches, and whether it can answer.
    fn describe(&self) -> String {
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

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(YouTube::new(
            context.name,
            self.clone(),
            context.every,
            context.http,
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
