//! How long earshot keeps its copy of what a member wrote, where the network's terms limit it
//! (the network's `copies_expire`): what earshot needs to answer and chase (the ids, the link,
//! the state, the history) it keeps; the copied text it reads again while the mention is owed
//! an answer, and drops once it is closed, gone from the network, or cannot be read again in
//! time. A dropped text is replaced by a placeholder naming the terms, so the card still
//! opens the post.
//!
//! The rule is a pure function of the mention and `now`; the hourly task (`src/retention.rs`)
//! asks it, reads again through the mention's source, and the store applies the change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lifecycle::{Actor, HistoryEntry, Step};
use super::network::CopyLimit;
use super::Tracked;

/// The rule acts this long before a copy's limit: six hourly tries to read a text again
/// before it must go.
pub const ACT_BEFORE: chrono::Duration = chrono::Duration::hours(6);
/// A text that could not be read again is dropped this long before its limit: the task runs
/// hourly, so the next tick might already be too late.
pub const LAST_HOUR: chrono::Duration = chrono::Duration::hours(1);

/// Where a mention's text stands against the network's limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "copy", rename_all = "snake_case")]
pub enum TextCopy {
    /// The text copied when earshot found the mention (at `received_at`).
    #[default]
    Fresh,
    /// The text as the network gave it when read again at `at`.
    ReadAgain { at: DateTime<Utc> },
    /// The text was replaced by the placeholder at `at`.
    Dropped { at: DateTime<Utc> },
}

/// What the network says when a mention's text is read again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reread {
    /// The text as it is now.
    Text(String),
    /// The post or comment is no longer there (deleted, or hidden from the brand).
    Gone,
    /// The source cannot read this mention again.
    Unsupported,
}

/// What is due for a mention's copy now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Still owed an answer: read the text again from the network.
    ReadAgain,
    /// Drop the text now.
    Drop(Why),
}

/// Why a text was dropped, for its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The mention is answered, done or ignored: nobody needs the text any more.
    Closed,
    /// The network no longer has the post.
    Gone,
    /// It could not be read again before the limit (the reason).
    Unread(String),
}

/// A change to a mention's copy, which the store applies in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The text read again (it may be unchanged): kept for another full limit.
    Refresh { text: String },
    /// The text replaced by the placeholder.
    Drop(Why),
}

/// What the rule asks of `tracked` at `now`: nothing (no limit, dropped already, or not yet
/// near the limit), a read again for a mention still owed an answer, or a drop for a closed one.
pub fn due(tracked: &Tracked, now: DateTime<Utc>) -> Option<Due> {
    let (limit, age) = limit_and_age(tracked, now)?;
    if age < limit - ACT_BEFORE {
        return None;
    }
    Some(if tracked.state.status().is_owed() {
        Due::ReadAgain
    } else {
        Due::Drop(Why::Closed)
    })
}

/// What a read again (`Err`: why it failed) of `tracked` at `now` leads to: the new text, a
/// drop when the network says it is gone, and when it failed a drop in the limit's last hour
/// or, before that, nothing (the next tick tries again).
pub fn after_reading(
    tracked: &Tracked,
    read: Result<Reread, String>,
    now: DateTime<Utc>,
) -> Option<Change> {
    let (limit, age) = limit_and_age(tracked, now)?;
    let failure = match read {
        Ok(Reread::Text(text)) => return Some(Change::Refresh { text }),
        Ok(Reread::Gone) => return Some(Change::Drop(Why::Gone)),
        Ok(Reread::Unsupported) => format!(
            "earshot cannot read {} posts again",
            tracked.mention.network
        ),
        Err(reason) => reason,
    };
    (age >= limit - LAST_HOUR).then_some(Change::Drop(Why::Unread(failure)))
}

impl Change {
    /// Applies the change to `tracked` (its text and copy) and gives the history entry that
    /// records it, by earshot.
    pub fn apply(&self, tracked: &mut Tracked, now: DateTime<Utc>) -> HistoryEntry {
        let status = tracked.state.status();
        let network = tracked.mention.network;
        let (to, note) = match self {
            Change::Refresh { text } => {
                let note = if *text == tracked.mention.text {
                    "unchanged".to_string()
                } else {
                    "the text changed on the network".to_string()
                };
                tracked.mention.text = text.clone();
                tracked.copy = TextCopy::ReadAgain { at: now };
                (Step::TextReadAgain, note)
            }
            Change::Drop(why) => {
                let limit = network.copies_expire();
                tracked.mention.text = placeholder(limit, network.label());
                tracked.copy = TextCopy::Dropped { at: now };
                let why = match why {
                    Why::Closed => "closed".to_string(),
                    Why::Gone => format!("no longer on {network}"),
                    Why::Unread(reason) => format!("could not be read again: {reason}"),
                };
                let terms = limit.map_or("the network's terms", |limit| limit.terms);
                (Step::TextDropped, format!("{why}; as {terms} require"))
            }
        };
        HistoryEntry {
            at: now,
            by: Actor::System,
            from: Some(status),
            to,
            note: Some(note),
        }
    }
}

/// What a dropped text reads: why it is gone and where the post still is.
pub fn placeholder(limit: Option<CopyLimit>, network: &str) -> String {
    match limit {
        Some(limit) => format!(
            "(text removed: {} let earshot keep a copy for {} hours, see {}; open the link to read it on {network})",
            limit.terms,
            limit.after.as_secs() / 3600,
            limit.link
        ),
        None => format!("(text removed; open the link to read it on {network})"),
    }
}

/// The network's limit and how old the copy is, when the mention has a copy under a limit.
fn limit_and_age(
    tracked: &Tracked,
    now: DateTime<Utc>,
) -> Option<(chrono::Duration, chrono::Duration)> {
    let limit = tracked.mention.network.copies_expire()?;
    let limit = chrono::Duration::from_std(limit.after).ok()?;
    let copied = match tracked.copy {
        TextCopy::Fresh => tracked.received_at,
        TextCopy::ReadAgain { at } => at,
        TextCopy::Dropped { .. } => return None,
    };
    Some((limit, now - copied))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::examples::{EXPIRING, LONG};
    use crate::domain::{Author, Member, Mention, MentionKey, State, Status};

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    const FOUND: &str = "2026-12-01T00:00:00Z";

    fn member() -> Member {
        Member::new("U1", "jane")
    }

    fn tracked(network: crate::domain::Network, state: State, copy: TextCopy) -> Tracked {
        Tracked {
            number: 7,
            mention: Mention {
                key: MentionKey::new("linkedin", "urn:li:comment:(urn:li:activity:1,2)"),
                network,
                author: Author::default(),
                text: "Is this shipping?".into(),
                link: Some("https://expiring.example/post/1".into()),
                created_at: utc(FOUND),
                matched: vec![],
                language: None,
                in_reply_to: None,
                direct: true,
                review: None,
            },
            state,
            received_at: utc(FOUND),
            follow_up_of: None,
            priority: Default::default(),
            place: Default::default(),
            copy,
        }
    }

    fn claimed() -> State {
        State::Claimed {
            by: member(),
            at: utc(FOUND),
            answering: false,
        }
    }

    fn answered() -> State {
        State::Answered {
            by: member().into(),
            at: utc(FOUND),
            link: None,
        }
    }

    fn ignored() -> State {
        State::Ignored {
            by: member().into(),
            at: utc(FOUND),
            reason: None,
        }
    }

    fn hours_after(at: &str, hours: i64) -> DateTime<Utc> {
        utc(at) + chrono::Duration::hours(hours)
    }

    #[test]
    fn the_rule_acts_from_six_hours_before_the_limit_by_state() {
        let read_again_at = TextCopy::ReadAgain {
            at: utc("2026-12-02T00:00:00Z"),
        };
        let dropped = TextCopy::Dropped {
            at: utc("2026-12-02T00:00:00Z"),
        };
        // (network, state, copy, hours after FOUND) -> what is due.
        let table = [
            (EXPIRING, State::Open, TextCopy::Fresh, 0, None),
            (EXPIRING, State::Open, TextCopy::Fresh, 41, None),
            (
                EXPIRING,
                State::Open,
                TextCopy::Fresh,
                42,
                Some(Due::ReadAgain),
            ),
            (
                EXPIRING,
                claimed(),
                TextCopy::Fresh,
                47,
                Some(Due::ReadAgain),
            ),
            (
                EXPIRING,
                State::Open,
                TextCopy::Fresh,
                500,
                Some(Due::ReadAgain),
            ),
            (EXPIRING, answered(), TextCopy::Fresh, 41, None),
            (
                EXPIRING,
                answered(),
                TextCopy::Fresh,
                42,
                Some(Due::Drop(Why::Closed)),
            ),
            (
                EXPIRING,
                ignored(),
                TextCopy::Fresh,
                60,
                Some(Due::Drop(Why::Closed)),
            ),
            // A text read again a day after it was found is counted from then.
            (EXPIRING, State::Open, read_again_at, 42, None),
            (EXPIRING, State::Open, read_again_at, 24 + 41, None),
            (
                EXPIRING,
                State::Open,
                read_again_at,
                24 + 42,
                Some(Due::ReadAgain),
            ),
            (
                EXPIRING,
                answered(),
                read_again_at,
                24 + 42,
                Some(Due::Drop(Why::Closed)),
            ),
            (EXPIRING, answered(), dropped, 500, None),
            (EXPIRING, State::Open, dropped, 500, None),
            // A network without a limit keeps its copies.
            (LONG, answered(), TextCopy::Fresh, 5000, None),
            (LONG, State::Open, TextCopy::Fresh, 5000, None),
        ];
        for (network, state, copy, hours, want) in table {
            let subject = tracked(network, state.clone(), copy);
            assert_eq!(
                due(&subject, hours_after(FOUND, hours)),
                want,
                "{network:?} {:?} {copy:?} after {hours}h",
                state.status()
            );
        }
    }

    #[test]
    fn a_read_again_refreshes_and_a_failed_one_drops_only_in_the_last_hour() {
        let unread = |reason: &str| Some(Change::Drop(Why::Unread(reason.to_string())));
        let cannot = "earshot cannot read Expiring posts again";
        // (what reading again gave, hours after FOUND) -> the change.
        let table = [
            (
                Ok(Reread::Text("new".into())),
                42,
                Some(Change::Refresh { text: "new".into() }),
            ),
            (
                Ok(Reread::Text("new".into())),
                47,
                Some(Change::Refresh { text: "new".into() }),
            ),
            (Ok(Reread::Gone), 42, Some(Change::Drop(Why::Gone))),
            (Ok(Reread::Unsupported), 42, None),
            (Ok(Reread::Unsupported), 46, None),
            (Ok(Reread::Unsupported), 47, unread(cannot)),
            (Err("HTTP 503".to_string()), 44, None),
            (Err("HTTP 503".to_string()), 47, unread("HTTP 503")),
            (Err("HTTP 503".to_string()), 49, unread("HTTP 503")),
        ];
        let subject = tracked(EXPIRING, State::Open, TextCopy::Fresh);
        for (read, hours, want) in table {
            let shown = format!("{read:?}");
            assert_eq!(
                after_reading(&subject, read, hours_after(FOUND, hours)),
                want,
                "{shown} after {hours}h"
            );
        }
        let without_limit = tracked(LONG, State::Open, TextCopy::Fresh);
        assert_eq!(
            after_reading(&without_limit, Ok(Reread::Gone), hours_after(FOUND, 99)),
            None
        );
    }

    #[test]
    fn a_refresh_keeps_the_new_text_and_a_drop_leaves_the_placeholder_and_the_link() {
        let now = hours_after(FOUND, 43);
        let mut subject = tracked(EXPIRING, claimed(), TextCopy::Fresh);
        let entry = Change::Refresh {
            text: "Is this shipping? (edited)".into(),
        }
        .apply(&mut subject, now);
        assert_eq!(subject.mention.text, "Is this shipping? (edited)");
        assert_eq!(subject.copy, TextCopy::ReadAgain { at: now });
        assert_eq!(
            entry.summary(),
            "text read again by earshot: the text changed on the network"
        );
        assert_eq!(
            (entry.from, entry.to, entry.by.clone()),
            (Some(Status::Claimed), Step::TextReadAgain, Actor::System)
        );
        assert!(!entry.settles());

        let entry = Change::Drop(Why::Gone).apply(&mut subject, now);
        assert_eq!(subject.copy, TextCopy::Dropped { at: now });
        assert_eq!(
            subject.mention.text,
            "(text removed: the Expiring terms let earshot keep a copy for 48 hours, see https://expiring.example/terms; open the link to read it on Expiring)"
        );
        assert_eq!(
            subject.mention.link.as_deref(),
            Some("https://expiring.example/post/1"),
            "the card still opens the post"
        );
        assert_eq!(subject.state, claimed(), "the mention is still owed");
        assert_eq!(
            entry.summary(),
            "text dropped by earshot: no longer on Expiring; as the Expiring terms require"
        );
    }

    #[test]
    fn a_copy_is_stored_by_name() {
        let at = utc("2026-12-03T10:00:00Z");
        let written = serde_json::to_string(&TextCopy::ReadAgain { at }).unwrap();
        assert_eq!(
            written,
            r#"{"copy":"read_again","at":"2026-12-03T10:00:00Z"}"#
        );
        let read: TextCopy = serde_json::from_str(&written).unwrap();
        assert_eq!(read, TextCopy::ReadAgain { at });
        assert_eq!(
            serde_json::to_string(&TextCopy::Fresh).unwrap(),
            r#"{"copy":"fresh"}"#
        );
    }
}
