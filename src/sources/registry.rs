//! Every network earshot can read, each described in its own folder: the keys it takes, its
//! default poll interval, how its keys are checked and how its source is built (the way
//! vector's sources implement `SourceConfig::build`). The config and the app only go through
//! [`NETWORKS`]; adding a network is one folder and one line here.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::{
    app_store, bluesky, facebook, feed, google_play, google_reviews, hackernews, instagram,
    linkedin, mastodon, reddit, trustpilot, x, youtube, Source,
};
use crate::config::keys::{KeyError, Keys};
use crate::store::Credentials;

/// The networks, in the order `earshot check` and error messages list them.
pub const NETWORKS: &[Network] = &[
    feed::NETWORK,
    hackernews::NETWORK,
    reddit::NETWORK,
    x::NETWORK,
    mastodon::NETWORK,
    bluesky::NETWORK,
    facebook::NETWORK,
    instagram::NETWORK,
    youtube::NETWORK,
    linkedin::NETWORK,
    google_reviews::NETWORK,
    google_play::NETWORK,
    app_store::NETWORK,
    trustpilot::NETWORK,
];

/// One network, as its folder describes it.
pub struct Network {
    /// The `kind` of its `[[sources]]` sections.
    pub kind: &'static str,
    /// The keys its sections take besides `kind`, `name`, `every` and `rules`.
    pub keys: &'static [&'static str],
    /// The poll interval when the section names none, chosen from the network's rate limits.
    pub every: Duration,
    /// Checks a section's keys into the network's settings.
    pub parse: fn(&Keys<'_>) -> Result<Box<dyn SourceSpec>, KeyError>,
}

/// A network's checked settings for one source: what `earshot check` shows, and the source.
pub trait SourceSpec: std::fmt::Debug + Send + Sync + Any {
    /// One line for `earshot check` (no secrets).
    fn describe(&self) -> String;
    fn build(&self, context: Context) -> Arc<dyn Source>;
    fn as_any(&self) -> &dyn Any;
    /// The domain whose accounts this source's network shows by a short name (a Mastodon
    /// instance's account domain), so that a short name in `own_accounts` means the brand's
    /// account there; `None` where names are global.
    fn home(&self) -> Option<String> {
        None
    }
}

impl dyn SourceSpec {
    /// The settings as the network's own type, for tests and tools that know the network.
    pub fn settings<T: 'static>(&self) -> Option<&T> {
        self.as_any().downcast_ref()
    }
}

/// What building a source may use.
pub struct Context {
    pub name: String,
    pub every: Duration,
    pub http: reqwest::Client,
    /// The store's narrow handle for this source's rotating credentials (X's refresh token).
    pub credentials: Credentials,
}

pub fn network(kind: &str) -> Option<&'static Network> {
    NETWORKS.iter().find(|network| network.kind == kind)
}

pub fn kinds() -> Vec<&'static str> {
    NETWORKS.iter().map(|network| network.kind).collect()
}

/// Every key some network takes.
pub fn all_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = NETWORKS
        .iter()
        .flat_map(|network| network.keys.iter().copied())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}
