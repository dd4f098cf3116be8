//! A feed's `[[sources]]` keys: `url`, an http(s) URL or a file beside the config.

use std::any::Any;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{Feed, Location};
use crate::config::keys::{KeyError, Keys};
use crate::domain::NetworkTraits;
use crate::sources::registry::{Context, Network, SourceSpec};
use crate::sources::Source;

/// Google Alerts keeps only its latest ~20 entries; polling every 5 minutes misses none.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(5 * 60);

/// How a feed takes answers.
/// A feed has no write API: a person answers on the site.
pub static TRAITS: NetworkTraits = NetworkTraits {
    colour: 0xF26522,
    ..NetworkTraits::new("feed", "feed")
};

pub const NETWORK: Network = Network {
    traits: &TRAITS,
    also_known_as: &[],
    keys: &["url"],
    every: DEFAULT_EVERY,
    parse,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub location: Location,
}

fn parse(keys: &Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError> {
    let Some(url) = keys.string("url")? else {
        return Err(keys.error("url", "a feed needs `url`: an http(s) URL or a file path"));
    };
    let location = location(keys.base(), &url).map_err(|message| keys.error("url", message))?;
    Ok(Box::new(Settings { location }))
}

impl SourceSpec for Settings {
    fn describe(&self) -> String {
        match &self.location {
            Location::Url(url) => url.clone(),
            Location::File(path) => path.display().to_string(),
        }
    }

    fn build(&self, context: Context) -> Arc<dyn Source> {
        Arc::new(Feed::new(
            context.name,
            self.location.clone(),
            context.every,
            context.http,
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An http(s) URL as is, anything else a file relative to the config file.
fn location(base: &Path, url: &str) -> Result<Location, String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        url::Url::parse(url).map_err(|error| format!("`{url}` is not a valid URL: {error}"))?;
        return Ok(Location::Url(url.to_string()));
    }
    let path = base.join(url.strip_prefix("file://").unwrap_or(url));
    if !path.is_file() {
        return Err(format!(
            "no feed file at {} (expected an http(s) URL, or a file path relative to this config file)",
            path.display()
        ));
    }
    Ok(Location::File(path))
}
