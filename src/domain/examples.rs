//! What the library's unit tests build from, so each test states only what differs.

use chrono::{DateTime, Utc};

use super::{Author, Mention, MentionKey, Network, State, Tracked};

/// `#12`: an open post `masto/109` on `network` by @jane@example.social saying "acme"
/// (which matched), posted and found at the epoch, unrouted, not a complaint.
pub fn tracked(network: Network) -> Tracked {
    Tracked {
        number: 12,
        mention: Mention {
            key: MentionKey::new("masto", "109"),
            network,
            author: Author {
                handle: "jane@example.social".into(),
                name: None,
                profile: None,
            },
            text: "acme".into(),
            link: None,
            created_at: DateTime::UNIX_EPOCH,
            matched: vec!["acme".into()],
            language: None,
            in_reply_to: None,
            direct: false,
            review: None,
        },
        state: State::Open,
        received_at: DateTime::UNIX_EPOCH,
        follow_up_of: None,
        priority: Default::default(),
        place: Default::default(),
        copy: Default::default(),
    }
}

/// `text` as RFC 3339, in UTC.
pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}
