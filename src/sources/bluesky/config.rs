//! A Bluesky source's `[[sources]]` keys and what it can watch.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::{jetstream, Bluesky};
use crate::config::keys::{socket_url, web_url, KeyError, Keys};
use crate::domain::{NetworkTraits, ReplyPath};
use crate::net::Secret;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// Bluesky's maintainers ask for gentle searchPosts polling ("every 60 s"); notifications ride along.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(60);

/// How Bluesky takes answers.
/// Bluesky counts graphemes (a flag or a family emoji is one) and takes up to 300; an
/// author is also known by the DID that owns the post.
pub static TRAITS: NetworkTraits = NetworkTraits {
    reply: ReplyPath::Direct { max_chars: 300 },
    count: crate::domain::length::graphemes,
    aliases: super::records::aliases,
    colour: 0x1185FE,
    ..NetworkTraits::new("bluesky", "Bluesky")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &["watch", "pds", "handle", "app_password", "jetstream_url"],
    every: DEFAULT_EVERY,
    parse,
};

/// One thing to watch on Bluesky.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// Mentions of, replies to and quotes of the account's posts.
    Mentions,
    /// Posts found by `app.bsky.feed.searchPosts` for this query.
    Search(String),
    /// Every new post on the network, read live from Jetstream; the rules pick the mentions.
    Jetstream,
}

impl Watch {
    /// The stream's name in the stored cursor.
    pub(super) fn key(&self) -> String {
        match self {
            Watch::Mentions => "mentions".to_string(),
            Watch::Search(query) => format!("search:{query}"),
            Watch::Jetstream => "jetstream".to_string(),
        }
    }

    /// `"mentions"` or `"search:<query>"`.
    pub fn parse(text: &str) -> Result<Watch, String> {
        let text = text.trim();
        if text == "mentions" {
            return Ok(Watch::Mentions);
        }
        if text == "jetstream" {
            return Ok(Watch::Jetstream);
        }
        match text.strip_prefix("search:").map(str::trim) {
            Some(query) if !query.is_empty() => Ok(Watch::Search(query.to_string())),
            _ => Err(format!(
                "`{text}` is not something Bluesky can watch; use \"mentions\", \"search:<words>\" or \"jetstream\""
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub pds: url::Url,
    pub handle: String,
    pub app_password: Secret,
    pub watch: Vec<Watch>,
    /// The Jetstream `/subscribe` URL the `jetstream` watch follows.
    pub jetstream_url: url::Url,
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let pds = keys.required("pds", "the account's PDS URL, such as https://bsky.social")?;
    let pds = web_url(&pds).map_err(|message| keys.error("pds", message))?;
    let watch = keys.watch(&["mentions"], Watch::parse)?;
    let jetstream = keys
        .string("jetstream_url")?
        .unwrap_or_else(|| jetstream::DEFAULT_URL.to_string());
    Ok(Box::new(Settings {
        pds,
        handle: keys
            .required("handle", "the account's handle or DID")?
            .trim()
            .trim_start_matches('@')
            .to_string(),
        app_password: keys.secret(
            "app_password",
            "an app password (Settings → Privacy and security → App passwords)",
        )?,
        watch,
        jetstream_url: socket_url(&jetstream)
            .map_err(|message| keys.error("jetstream_url", message))?,
    }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        format!("{} at {} watching {:?}", self.handle, self.pds, self.watch)
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(
            Bluesky::new(
                context.name,
                self.pds.clone(),
                self.handle.clone(),
                self.app_password.clone(),
                self.watch.clone(),
                context.every,
                context.http,
            )
            .with_jetstream(self.jetstream_url.clone()),
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
