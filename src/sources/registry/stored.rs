//! How a network is written in stored records (mentions, outbox effects, history): as its
//! kind, the string the network enum of earlier earshots wrote (`"mastodon"`,
//! `"google-reviews"`), so that every record ever stored keeps reading without a schema
//! upgrade. Reading a kind back needs every network, which only the registry knows; so both
//! directions live here, beside each other, and the domain stays free of the list.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{kinds, network};
use crate::domain::Network;

impl Serialize for Network {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.kind())
    }
}

impl<'de> Deserialize<'de> for Network {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Network, D::Error> {
        deserializer.deserialize_str(KindVisitor)
    }
}

struct KindVisitor;

impl Visitor<'_> for KindVisitor {
    type Value = Network;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a network's kind, one of: {}", kinds().join(", "))
    }

    fn visit_str<E: de::Error>(self, kind: &str) -> Result<Network, E> {
        match network(kind) {
            Some(found) => Ok(found.traits.network()),
            None => Err(E::custom(format!(
                "unknown network `{kind}`; expected one of: {}",
                kinds().join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::{Network, Tracked};
    use crate::sources::registry::NETWORKS;

    /// What the `Network` enum wrote before networks were described in their folders
    /// (`#[serde(rename_all = "lowercase")]`, three renamed), with the label each had.
    const WRITTEN_BEFORE: &[(&str, &str)] = &[
        ("feed", "feed"),
        ("mastodon", "Mastodon"),
        ("bluesky", "Bluesky"),
        ("reddit", "Reddit"),
        ("hackernews", "Hacker News"),
        ("x", "X"),
        ("facebook", "Facebook"),
        ("instagram", "Instagram"),
        ("youtube", "YouTube"),
        ("linkedin", "LinkedIn"),
        ("google-reviews", "Google Business Profile"),
        ("app-store", "App Store"),
        ("google-play", "Google Play"),
        ("trustpilot", "Trustpilot"),
    ];

    #[test]
    fn every_form_written_before_reads_back_as_the_same_network_and_writes_the_same() {
        for (written, label) in WRITTEN_BEFORE {
            let json = format!("\"{written}\"");
            let network: Network = serde_json::from_str(&json).unwrap();
            assert_eq!(network.label(), *label, "{written}");
            assert_eq!(serde_json::to_string(&network).unwrap(), json);
        }
    }

    #[test]
    fn every_network_reads_back_what_it_writes() {
        for described in NETWORKS {
            let network = described.traits.network();
            let json = serde_json::to_string(&network).unwrap();
            assert_eq!(serde_json::from_str::<Network>(&json).unwrap(), network);
        }
    }

    #[test]
    fn a_mention_record_written_before_reads_with_its_answer_rules() {
        // A record as earshot wrote it before networks were described in their folders.
        let stored = r#"{"number":7,"mention":{"key":{"source":"reviews","id":"r1"},
            "network":"google-reviews","author":{"handle":"","name":"Jane","profile":null},
            "text":"Slow service","link":null,"created_at":"2026-11-20T12:00:00Z","matched":[],
            "language":"en","in_reply_to":null,"direct":true},"state":{"state":"open"},
            "received_at":"2026-11-20T12:00:00Z","follow_up_of":null}"#;
        let tracked: Tracked = serde_json::from_str(stored).unwrap();
        let network = tracked.mention.network;
        assert_eq!(network.to_string(), "Google Business Profile");
        assert!(network.answer_replaces());
        assert_eq!(network.length_unit(), "bytes");
        let written = serde_json::to_value(&tracked).unwrap();
        assert_eq!(written["mention"]["network"], "google-reviews");
    }

    #[test]
    fn an_unknown_network_is_refused_with_the_known_ones() {
        let error = serde_json::from_str::<Network>("\"myspace\"")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("unknown network `myspace`; expected one of: feed, hackernews,"),
            "{error}"
        );
        assert!(serde_json::from_str::<Network>("3").is_err());
    }
}
