//! The network a mention was found on, and the network's answer rules: whether earshot can
//! answer there, how long an answer may be and how the network counts it, whether an answer
//! replaces the brand's earlier one, and how people read its name.
//!
//! The domain knows no network by name. Each network's folder (`src/sources/<kind>/`) declares
//! its [`NetworkTraits`], and a [`Network`] is a small copyable handle to them, so that every
//! domain rule reads the traits instead of matching on a list of networks. A network is stored
//! as its kind (`"mastodon"`, `"google-reviews"`); the registry, which knows them all, reads
//! a stored kind back (`sources::registry`).

use std::fmt;
use std::hash::{Hash, Hasher};

use super::mention::Mention;

/// How an answer reaches the person who posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyPath {
    /// earshot posts the answer itself; the network refuses longer texts.
    Direct { max_chars: usize },
    /// The network has no write API: a person answers on the site and then marks the mention done.
    Manual,
}

/// What a network's folder says about it to the domain.
#[derive(Debug)]
pub struct NetworkTraits {
    /// The `kind` of its `[[sources]]` sections, and how a mention records its network.
    pub kind: &'static str,
    /// What people read: "Google Business Profile".
    pub label: &'static str,
    pub reply: ReplyPath,
    /// How long an answer is by the network's count, to compare with `max_chars`.
    pub count: fn(&str) -> usize,
    /// What `count` counts, for the person told their answer is too long.
    pub unit: &'static str,
    /// How many accounts an answer may @-mention, where the network limits it.
    pub max_mentions: Option<usize>,
    /// Whether a post holds at most one reply by the brand, so that answering again replaces
    /// the earlier reply (the review networks' replies are upserts).
    pub replaces: bool,
    /// Whether an answer must name the person it answers to reach them (it opens with their
    /// handle).
    pub names_author: bool,
    /// The names besides their handle that the author of a post goes by there (an account's
    /// full name on other instances, an id that owns the post), given the post, the author's
    /// handle (without `@`, lower case, not empty) and the source's home (the domain its short
    /// names are on), in the same form: what `own_accounts` may use.
    pub aliases: fn(&Mention, &str, Option<&str>) -> Vec<String>,
    /// The network's colour (0xRRGGBB), a hint for chats that colour cards by network.
    pub colour: u32,
    /// How long the network's terms let earshot keep its copy of what a member wrote (see
    /// `domain::retention`); `None`: as long as the team needs it.
    pub copies_expire: Option<CopyLimit>,
}

/// A network's limit on keeping copies of its members' words: how long, and the terms that
/// say so, named in the placeholder that replaces a dropped text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyLimit {
    pub after: std::time::Duration,
    /// What people read: "LinkedIn's API Data Storage Requirements".
    pub terms: &'static str,
    /// Where the terms are published.
    pub link: &'static str,
}

impl NetworkTraits {
    /// A network earshot reads but cannot answer on, counting characters, with no further
    /// rules: the base the networks' folders override (`..NetworkTraits::new(kind, label)`).
    pub const fn new(kind: &'static str, label: &'static str) -> NetworkTraits {
        NetworkTraits {
            kind,
            label,
            reply: ReplyPath::Manual,
            count: super::length::chars,
            unit: "characters",
            max_mentions: None,
            replaces: false,
            names_author: false,
            aliases: no_aliases,
            colour: NEUTRAL,
            copies_expire: None,
        }
    }

    /// The network these traits describe.
    pub const fn network(&'static self) -> Network {
        Network(self)
    }
}

/// A card's colour when the network names none: a quiet grey.
const NEUTRAL: u32 = 0x99AAB5;

fn no_aliases(_: &Mention, _: &str, _: Option<&str>) -> Vec<String> {
    Vec::new()
}

/// The network a mention was found on: a handle to its [`NetworkTraits`], equal by kind.
#[derive(Clone, Copy)]
pub struct Network(&'static NetworkTraits);

impl Network {
    pub const fn new(traits: &'static NetworkTraits) -> Network {
        Network(traits)
    }

    pub fn traits(self) -> &'static NetworkTraits {
        self.0
    }

    pub fn kind(self) -> &'static str {
        self.0.kind
    }

    pub fn label(self) -> &'static str {
        self.0.label
    }

    pub fn reply_path(self) -> ReplyPath {
        self.0.reply
    }

    /// How many accounts an answer may @-mention, where the network limits it.
    pub fn max_mentions(self) -> Option<usize> {
        self.0.max_mentions
    }

    /// How long `text` is by this network's count, to compare with `max_chars`.
    pub fn answer_length(self, text: &str) -> usize {
        (self.0.count)(text)
    }

    /// What [`Network::answer_length`] counts, for the person told their answer is too long.
    pub fn length_unit(self) -> &'static str {
        self.0.unit
    }

    /// Whether answering again replaces the brand's earlier reply.
    pub fn answer_replaces(self) -> bool {
        self.0.replaces
    }

    /// The network's colour (0xRRGGBB).
    pub fn colour(self) -> u32 {
        self.0.colour
    }

    /// How long a copy of a member's words may be kept, where the network's terms limit it.
    pub fn copies_expire(self) -> Option<CopyLimit> {
        self.0.copies_expire
    }
}

impl PartialEq for Network {
    fn eq(&self, other: &Network) -> bool {
        self.kind() == other.kind()
    }
}

impl Eq for Network {}

impl Hash for Network {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.kind().hash(state);
    }
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Network").field(&self.kind()).finish()
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Networks of the shapes the domain's rules tell apart, for the domain's own tests (which
/// may not reach the networks' folders).
#[cfg(test)]
pub(crate) mod examples {
    use super::{Network, NetworkTraits, ReplyPath};

    /// Read only: a person answers on the site.
    pub const READ_ONLY: Network = Network::new(&NetworkTraits::new("forum", "the forum"));

    /// Answered directly; an answer names the person it answers.
    pub const NAMING: Network = Network::new(&NetworkTraits {
        reply: ReplyPath::Direct { max_chars: 500 },
        names_author: true,
        ..NetworkTraits::new("naming", "Naming")
    });

    /// Answered directly, counting graphemes, up to 300.
    pub const SHORT: Network = Network::new(&NetworkTraits {
        reply: ReplyPath::Direct { max_chars: 300 },
        count: crate::domain::length::graphemes,
        ..NetworkTraits::new("short", "Short")
    });

    /// Answered directly, up to 10,000 characters.
    pub const LONG: Network = Network::new(&NetworkTraits {
        reply: ReplyPath::Direct { max_chars: 10_000 },
        ..NetworkTraits::new("long", "Long")
    });

    /// A review network: one reply by the brand, replaced by the next, counted in bytes.
    pub const REVIEWS: Network = Network::new(&NetworkTraits {
        reply: ReplyPath::Direct { max_chars: 350 },
        count: crate::domain::length::bytes,
        unit: "bytes",
        replaces: true,
        ..NetworkTraits::new("reviews", "Reviews")
    });

    /// Answered directly; its terms let a copy of a member's words be kept 48 hours.
    pub const EXPIRING: Network = Network::new(&NetworkTraits {
        reply: ReplyPath::Direct { max_chars: 1_250 },
        copies_expire: Some(super::CopyLimit {
            after: std::time::Duration::from_secs(48 * 3600),
            terms: "the Expiring terms",
            link: "https://expiring.example/terms",
        }),
        ..NetworkTraits::new("expiring", "Expiring")
    });

    /// Answered directly, with at most 2 @-mentions.
    pub const FEW_MENTIONS: Network = Network::new(&NetworkTraits {
        reply: ReplyPath::Direct { max_chars: 2_200 },
        max_mentions: Some(2),
        ..NetworkTraits::new("few-mentions", "Few Mentions")
    });
}

#[cfg(test)]
mod tests {
    use super::examples::{NAMING, READ_ONLY, REVIEWS, SHORT};
    use super::*;

    #[test]
    fn a_network_reads_its_traits() {
        assert_eq!(READ_ONLY.reply_path(), ReplyPath::Manual);
        assert_eq!(SHORT.reply_path(), ReplyPath::Direct { max_chars: 300 });
        let family = "👨\u{200D}👩\u{200D}👧 e\u{301}";
        assert_eq!(SHORT.answer_length(family), 3);
        assert_eq!(NAMING.answer_length(family), 8);
        assert_eq!(REVIEWS.answer_length(family), 22);
        assert_eq!(REVIEWS.length_unit(), "bytes");
        assert_eq!(NAMING.length_unit(), "characters");
        assert!(REVIEWS.answer_replaces() && !NAMING.answer_replaces());
        assert_eq!(READ_ONLY.colour(), NEUTRAL);
    }

    #[test]
    fn networks_are_equal_by_kind_and_read_by_label() {
        static AGAIN: NetworkTraits = NetworkTraits::new("short", "Other");
        assert_eq!(SHORT, Network::new(&AGAIN));
        assert_ne!(SHORT, NAMING);
        assert_eq!(SHORT.to_string(), "Short");
        assert_eq!(format!("{SHORT:?}"), "Network(\"short\")");
    }
}
