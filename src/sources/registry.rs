//! Every network earshot can read, each described in its own folder: the keys it takes, its
//! default poll interval, how its keys are checked and how its source is built (the way
//! vector's sources implement `SourceConfig::build`). The config and the app only go through
//! [`NETWORKS`]; adding a network is one folder and its name in the `networks!` line of
//! `sources/mod.rs`.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use super::Source;
use crate::config::keys::{KeyError, Keys};
use crate::domain::NetworkTraits;
use crate::store::Credentials;

mod stored;

pub use super::NETWORKS;

/// Declares each network's folder as a module of `sources` and lists them in [`NETWORKS`], in
/// the order given (the order `earshot check` and error messages list them): so that the one
/// `networks!` line in `sources/mod.rs` is all a new folder needs.
macro_rules! networks {
    ($($network:ident),+ $(,)?) => {
        $(pub mod $network;)+

        /// The networks, in the order `earshot check` and error messages list them.
        pub const NETWORKS: &[registry::Network] = &[$($network::NETWORK),+];
    };
}
pub(crate) use networks;

/// One network, as its folder describes it.
pub struct Network {
    /// What the domain knows of it (its kind, label and answer rules).
    pub traits: &'static NetworkTraits,
    /// Names a route's `network` takes for it besides its kind and its label.
    pub also_known_as: &'static [&'static str],
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

impl Network {
    /// The `kind` of its `[[sources]]` sections, and how a mention records it.
    pub fn kind(&self) -> &'static str {
        self.traits.kind
    }
}

pub fn network(kind: &str) -> Option<&'static Network> {
    NETWORKS.iter().find(|network| network.kind() == kind)
}

/// The network a route's `network = [...]` names: by its kind, its label or another name it
/// is known by, in any case.
pub fn named(name: &str) -> Option<&'static Network> {
    let name = name.trim().to_lowercase();
    NETWORKS.iter().find(|network| {
        network.kind() == name
            || network.traits.label.to_lowercase() == name
            || network.also_known_as.contains(&name.as_str())
    })
}

pub fn kinds() -> Vec<&'static str> {
    NETWORKS.iter().map(Network::kind).collect()
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

#[cfg(test)]
mod tests {
    use super::{named, NETWORKS};
    use crate::domain::ReplyPath;

    /// A kind, its longest answer (0: none), its unit, whether an answer replaces the last,
    /// whether it names the author, its @-mention limit.
    type Rules = (&'static str, usize, &'static str, bool, bool, Option<usize>);

    #[test]
    fn every_network_keeps_its_answer_rules() {
        let expected: &[Rules] = &[
            ("feed", 0, "characters", false, false, None),
            ("hackernews", 0, "characters", false, false, None),
            ("reddit", 10_000, "characters", false, false, None),
            ("x", 280, "characters", false, false, None),
            ("mastodon", 500, "characters", false, true, None),
            ("bluesky", 300, "characters", false, false, None),
            ("facebook", 8_000, "characters", false, false, None),
            ("instagram", 2_200, "characters", false, true, Some(20)),
            ("youtube", 10_000, "characters", false, false, None),
            ("linkedin", 1_250, "characters", false, false, None),
            ("google-reviews", 4_096, "bytes", true, false, None),
            ("google-play", 350, "characters", true, false, None),
            ("app-store", 5_970, "characters", true, false, None),
            ("trustpilot", 2_048, "characters", true, false, None),
        ];
        assert_eq!(NETWORKS.len(), expected.len());
        for (described, (kind, max, unit, replaces, names, mentions)) in
            NETWORKS.iter().zip(expected)
        {
            let network = described.traits.network();
            let max_chars = match network.reply_path() {
                ReplyPath::Direct { max_chars } => max_chars,
                ReplyPath::Manual => 0,
            };
            assert_eq!(network.kind(), *kind);
            assert_eq!(max_chars, *max, "{kind}");
            assert_eq!(network.length_unit(), *unit, "{kind}");
            assert_eq!(network.answer_replaces(), *replaces, "{kind}");
            assert_eq!(described.traits.names_author, *names, "{kind}");
            assert_eq!(network.max_mentions(), *mentions, "{kind}");
        }
    }

    #[test]
    fn each_network_counts_an_answer_its_own_way() {
        let count =
            |kind: &str, text: &str| named(kind).unwrap().traits.network().answer_length(text);
        let family = "👨\u{200D}👩\u{200D}👧 e\u{301}";
        assert_eq!(count("bluesky", family), 3);
        assert_eq!(count("mastodon", family), 8);
        assert_eq!(
            count("x", "日本語 https://example.com/a/long/path"),
            6 + 1 + 23
        );
        let accents = "é".repeat(2_049);
        assert_eq!(count("google-reviews", &accents), 4_098);
        assert_eq!(count("google-play", &accents), 2_049);
    }

    #[test]
    fn kinds_and_labels_are_unique() {
        let mut kinds: Vec<_> = NETWORKS.iter().map(|n| n.kind()).collect();
        let mut labels: Vec<_> = NETWORKS.iter().map(|n| n.traits.label).collect();
        kinds.sort_unstable();
        kinds.dedup();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(
            (kinds.len(), labels.len()),
            (NETWORKS.len(), NETWORKS.len())
        );
    }

    #[test]
    fn a_route_names_a_network_by_kind_label_or_another_name() {
        let kind = |name: &str| named(name).map(|network| network.kind());
        assert_eq!(kind("hackernews"), Some("hackernews"));
        assert_eq!(kind(" Hacker News "), Some("hackernews"));
        assert_eq!(kind("hn"), Some("hackernews"));
        assert_eq!(kind("Twitter"), Some("x"));
        assert_eq!(kind("Google Business Profile"), Some("google-reviews"));
        assert_eq!(kind("myspace"), None);
    }
}
