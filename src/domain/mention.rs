//! A mention: one public post that names the brand, as earshot keeps it.

use std::fmt;

use super::network::Network;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

impl Mention {
    /// How an answer should start: where a reply only reaches its author when it names them
    /// (the network's `names_author`), the draft opens with their handle; elsewhere the reply
    /// link is enough.
    pub fn answer_draft(&self) -> String {
        if self.network.traits().names_author && !self.author.handle.is_empty() {
            format!("@{} ", self.author.handle)
        } else {
            String::new()
        }
    }
}

/// What makes a mention unique: the source that found it and the network's own id for the post.
/// Two sources watching the same network may see the same post; each relays it under its own key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MentionKey {
    pub source: String,
    pub id: String,
}

impl MentionKey {
    pub fn new(source: impl Into<String>, id: impl Into<String>) -> Self {
        MentionKey {
            source: source.into(),
            id: id.into(),
        }
    }
}

impl fmt::Display for MentionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.source, self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Author {
    /// The handle as the network shows it, without a leading `@` (may be empty for feeds).
    pub handle: String,
    pub name: Option<String>,
    pub profile: Option<String>,
}

impl Author {
    /// What a person reads: "Jane Doe (@jane)", "@jane", "Jane Doe" or "someone".
    pub fn display(&self) -> String {
        match (self.name.as_deref(), self.handle.as_str()) {
            (Some(name), "") => name.to_string(),
            (Some(name), handle) if name != handle => format!("{name} (@{handle})"),
            (_, "") => "someone".to_string(),
            (_, handle) => format!("@{handle}"),
        }
    }
}

/// A public post that matched the rules. Text is plain: HTML stripped and entities decoded at the
/// edge, so every chat renders it the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub key: MentionKey,
    pub network: Network,
    pub author: Author,
    pub text: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The rule keywords the text matched, as written in the config.
    pub matched: Vec<String>,
    pub language: Option<String>,
    /// The network's id (or link) of the post this one replies to.
    pub in_reply_to: Option<String>,
    /// Addressed to the brand's own account (an @-mention, a reply to it): relayed without a
    /// keyword, since someone is talking to the brand.
    #[serde(default)]
    pub direct: bool,
    /// The rating and details of a review (review networks only); mentions stored before
    /// reviews existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<crate::domain::review::Review>,
}

/// What earshot knows of a post's place in a conversation with the brand, beside the post.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Its source finds only posts addressed to the brand (its @-mentions, its inbox).
    pub source_addressed: bool,
    /// It is an answer earshot posted, read back by a poll.
    pub is_our_answer: bool,
    /// It replies to an answer earshot posted.
    pub replies_to_our_answer: bool,
}

impl Mention {
    /// The post as earshot takes it in: `None` for the brand's own answer read back (it is
    /// not a mention); otherwise direct when the network, the source or the conversation says
    /// it is addressed to the brand. A reply to one of the brand's answers is someone talking
    /// to the brand, keyword or not.
    pub fn taken_in(mut self, provenance: Provenance) -> Option<Mention> {
        if provenance.is_our_answer {
            return None;
        }
        self.direct |= provenance.source_addressed || provenance.replies_to_our_answer;
        Some(self)
    }

    /// The first words of the text, for one-line lists.
    pub fn excerpt(&self, max_chars: usize) -> String {
        let flat = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() <= max_chars {
            return flat;
        }
        let cut: String = flat.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

/// A mention as the team works on it: its number on the cards and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracked {
    /// `#N`: sequential, never reused, what people type.
    pub number: u64,
    pub mention: Mention,
    pub state: crate::domain::State,
    /// When earshot found it: the clock for reminders and time-to-answer.
    pub received_at: DateTime<Utc>,
    /// The earlier mention whose answer this post replies to: the conversation goes on.
    #[serde(default)]
    pub follow_up_of: Option<u64>,
    /// How likely it is a complaint, scored when it was found.
    #[serde(default)]
    pub priority: crate::domain::Priority,
    /// Which route took it and the channel it lives in per chat, decided at ingest. Mentions
    /// stored before routes existed read as unrouted.
    #[serde(default)]
    pub place: crate::domain::routing::Placement,
    /// Whether its text is still the copy made when it was found, one read again since, or
    /// dropped under the network's terms (see `domain::retention`). Mentions stored before
    /// the rule existed read as `Fresh`: copied when they were found.
    #[serde(default)]
    pub copy: crate::domain::TextCopy,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::examples::{NAMING, READ_ONLY, SHORT};

    fn author(handle: &str, name: Option<&str>) -> Author {
        Author {
            handle: handle.into(),
            name: name.map(Into::into),
            profile: None,
        }
    }

    #[test]
    fn author_display_covers_every_shape() {
        assert_eq!(
            author("jane", Some("Jane Doe")).display(),
            "Jane Doe (@jane)"
        );
        assert_eq!(author("jane", Some("jane")).display(), "@jane");
        assert_eq!(author("jane", None).display(), "@jane");
        assert_eq!(author("", Some("Example News")).display(), "Example News");
        assert_eq!(author("", None).display(), "someone");
    }

    #[test]
    fn answer_draft_names_the_author_only_where_the_network_needs_it() {
        let mut mention = Mention {
            key: MentionKey::new("s", "1"),
            network: NAMING,
            author: author("jane@example.social", None),
            text: String::new(),
            link: None,
            created_at: DateTime::UNIX_EPOCH,
            matched: vec![],
            language: None,
            in_reply_to: None,
            direct: false,
            review: None,
        };
        assert_eq!(mention.answer_draft(), "@jane@example.social ");
        mention.network = SHORT;
        assert_eq!(mention.answer_draft(), "");
        mention.network = NAMING;
        mention.author.handle.clear();
        assert_eq!(mention.answer_draft(), "");
    }

    #[test]
    fn a_post_is_direct_when_its_source_or_conversation_says_so_and_our_answer_is_no_mention() {
        let post = |direct: bool| Mention {
            key: MentionKey::new("s", "1"),
            network: SHORT,
            author: Author::default(),
            text: "hello".into(),
            link: None,
            created_at: DateTime::UNIX_EPOCH,
            matched: vec![],
            language: None,
            in_reply_to: Some("0".into()),
            direct,
            review: None,
        };
        let taken = |direct: bool, provenance: Provenance| {
            post(direct)
                .taken_in(provenance)
                .map(|mention| mention.direct)
        };
        let from = |source_addressed, is_our_answer, replies_to_our_answer| Provenance {
            source_addressed,
            is_our_answer,
            replies_to_our_answer,
        };
        // (the network said direct, provenance) -> None (ours) or whether it is direct.
        let table = [
            (false, from(false, false, false), Some(false)),
            (true, from(false, false, false), Some(true)),
            (false, from(true, false, false), Some(true)),
            (false, from(false, false, true), Some(true)),
            (false, from(false, true, false), None),
            (true, from(true, true, true), None),
        ];
        for (direct, provenance, want) in table {
            assert_eq!(taken(direct, provenance), want, "{direct} {provenance:?}");
        }
    }

    #[test]
    fn excerpt_flattens_whitespace_and_cuts_on_chars() {
        let mention = Mention {
            key: MentionKey::new("s", "1"),
            network: READ_ONLY,
            author: Author::default(),
            text: "Ünïcode  text\nacross lines".into(),
            link: None,
            created_at: DateTime::UNIX_EPOCH,
            matched: vec![],
            language: None,
            in_reply_to: None,
            direct: false,
            review: None,
        };
        assert_eq!(mention.excerpt(100), "Ünïcode text across lines");
        assert_eq!(mention.excerpt(8), "Ünïcode…");
    }
}
