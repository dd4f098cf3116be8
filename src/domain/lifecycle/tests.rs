//! Every action from every state, by the holder and by someone else: one table.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::network::examples::{FEW_MENTIONS, NAMING, READ_ONLY, REVIEWS, SHORT};

fn jane() -> Member {
    Member::new("U1", "jane")
}

fn bob() -> Member {
    Member::new("U2", "bob")
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn states() -> Vec<(&'static str, State)> {
    let at = t0();
    vec![
        ("open", State::Open),
        (
            "claimed",
            State::Claimed {
                by: jane(),
                at,
                answering: false,
            },
        ),
        (
            "answering",
            State::Claimed {
                by: jane(),
                at,
                answering: true,
            },
        ),
        (
            "answered",
            State::Answered {
                by: jane(),
                at,
                link: Some("https://m.example/1".into()),
            },
        ),
        (
            "done",
            State::Done {
                by: jane(),
                at,
                note: None,
            },
        ),
        (
            "ignored",
            State::Ignored {
                by: jane(),
                at,
                reason: Some("spam".into()),
            },
        ),
    ]
}

fn actions() -> Vec<(&'static str, Action)> {
    vec![
        ("claim", Action::Claim),
        ("release", Action::Release),
        ("assign-bob", Action::Assign { to: bob() }),
        ("assign-jane", Action::Assign { to: jane() }),
        (
            "answer",
            Action::Answer {
                text: "Thanks!".into(),
            },
        ),
        (
            "delivered",
            Action::AnswerDelivered {
                link: Some("https://m.example/2".into()),
            },
        ),
        (
            "failed",
            Action::AnswerFailed {
                reason: "post deleted".into(),
            },
        ),
        ("done", Action::Done { note: None }),
        (
            "ignore",
            Action::Ignore {
                reason: Some("bot".into()),
            },
        ),
        ("reopen", Action::Reopen),
    ]
}

/// The outcome as a short word: the new state (with its holder), or the refusal's kind.
fn outcome(result: Result<Transition, Refusal>) -> String {
    match result {
        Ok(t) => match &t.state {
            State::Claimed {
                by,
                answering: true,
                ..
            } => format!("answering:{}", by.name),
            State::Claimed { by, .. } => format!("claimed:{}", by.name),
            other => other.status().label().to_string(),
        },
        Err(refusal) => format!(
            "no:{}",
            match refusal {
                Refusal::HeldByOther { .. } => "held",
                Refusal::AlreadyYours { .. } => "yours",
                Refusal::AlreadyHeld { .. } => "already-held",
                Refusal::NotClaimed { .. } => "not-claimed",
                Refusal::Closed { .. } => "closed",
                Refusal::AlreadyOpen { .. } => "open",
                Refusal::AnswerInFlight { .. } => "in-flight",
                Refusal::NoReplyApi { .. } => "no-api",
                Refusal::EmptyAnswer { .. } => "empty",
                Refusal::TooLong { .. } => "too-long",
                Refusal::TooManyMentions { .. } => "too-many-mentions",
                Refusal::SystemOnly { .. } => "system",
            }
        ),
    }
}

/// Rows: action, actor; columns: open, claimed (by jane), answering (jane), answered, done, ignored.
const TABLE: &[(&str, &str, [&str; 6])] = &[
    (
        "claim",
        "jane",
        [
            "claimed:jane",
            "no:yours",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "claim",
        "bob",
        [
            "claimed:bob",
            "no:held",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "release",
        "jane",
        [
            "no:not-claimed",
            "open",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "release",
        "bob",
        [
            "no:not-claimed",
            "no:held",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "assign-bob",
        "jane",
        [
            "claimed:bob",
            "claimed:bob",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "assign-bob",
        "bob",
        [
            "claimed:bob",
            "claimed:bob",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "assign-jane",
        "bob",
        [
            "claimed:jane",
            "no:already-held",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "answer",
        "jane",
        [
            "answering:jane",
            "answering:jane",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "answer",
        "bob",
        [
            "answering:bob",
            "no:held",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "delivered",
        "earshot",
        [
            "no:system",
            "no:system",
            "answered",
            "no:system",
            "no:system",
            "no:system",
        ],
    ),
    (
        "failed",
        "earshot",
        [
            "no:system",
            "no:system",
            "claimed:jane",
            "no:system",
            "no:system",
            "no:system",
        ],
    ),
    (
        "done",
        "jane",
        [
            "done",
            "done",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "done",
        "bob",
        [
            "done",
            "done",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "ignore",
        "bob",
        [
            "ignored",
            "ignored",
            "no:in-flight",
            "no:closed",
            "no:closed",
            "no:closed",
        ],
    ),
    (
        "reopen",
        "bob",
        ["no:open", "no:open", "no:in-flight", "open", "open", "open"],
    ),
];

#[test]
fn every_action_from_every_state() {
    let members = [
        ("jane", jane()),
        ("bob", bob()),
        ("earshot", Member::new("earshot", "earshot")),
    ];
    let now = t0() + Duration::minutes(12);
    let mut checked = 0;
    for (action_name, actor_name, expected) in TABLE {
        let action = actions()
            .into_iter()
            .find(|(name, _)| name == action_name)
            .map(|(_, action)| action)
            .expect("action in table");
        let actor = &members
            .iter()
            .find(|(name, _)| name == actor_name)
            .expect("actor")
            .1;
        for ((state_name, state), want) in states().iter().zip(expected) {
            let subject = Subject {
                number: 12,
                network: NAMING,
                link: None,
                state,
            };
            let got = outcome(apply(subject, actor, &action, now));
            assert_eq!(
                &got, want,
                "{action_name} by {actor_name} from {state_name}"
            );
            checked += 1;
        }
    }
    // Every action appears in the table.
    for (name, _) in actions() {
        assert!(TABLE.iter().any(|(a, ..)| *a == name), "{name} missing");
    }
    assert_eq!(checked, TABLE.len() * 6);
}

#[test]
fn history_records_who_from_to_and_note() {
    let now = t0();
    let open = State::Open;
    let subject = Subject {
        number: 3,
        network: SHORT,
        link: None,
        state: &open,
    };
    let t = apply(subject, &bob(), &Action::Assign { to: jane() }, now).expect("allowed");
    assert_eq!(t.entry.by, bob());
    assert_eq!(
        (t.entry.from.as_str(), t.entry.to.as_str()),
        ("open", "assigned")
    );
    assert_eq!(t.entry.note.as_deref(), Some("to @jane"));
    assert_eq!(t.entry.summary(), "assigned by @bob: to @jane");

    let answering = State::Claimed {
        by: jane(),
        at: now,
        answering: true,
    };
    let subject = Subject {
        state: &answering,
        ..subject
    };
    let system = Member::new("earshot", "earshot");
    let link = Some("https://bsky.app/x".to_string());
    let t = apply(
        subject,
        &system,
        &Action::AnswerDelivered { link: link.clone() },
        now,
    )
    .expect("settles");
    // The answer is credited to the person who wrote it, not to the outbox.
    assert_eq!(t.entry.by, jane());
    assert_eq!(
        t.state,
        State::Answered {
            by: jane(),
            at: now,
            link
        }
    );
}

#[test]
fn refusals_explain_themselves() {
    let now = t0() + Duration::minutes(12);
    let claimed = State::Claimed {
        by: jane(),
        at: t0(),
        answering: false,
    };
    let subject = |state| Subject {
        number: 12,
        network: NAMING,
        link: None,
        state,
    };
    let message = |subject, actor: &Member, action: Action| {
        apply(subject, actor, &action, now)
            .map(|_| String::new())
            .unwrap_or_else(|refusal| refusal.to_string())
    };
    assert_eq!(
        message(subject(&claimed), &bob(), Action::Claim),
        "#12 is claimed by @jane (since 2026-11-22 10:00 UTC, 12 min ago). Ask them, or `assign 12 @you` if they agree."
    );
    let feed = Subject {
        network: READ_ONLY,
        link: Some("https://news.example/acme"),
        ..subject(&State::Open)
    };
    assert_eq!(
        message(feed, &bob(), Action::Answer { text: "hi".into() }),
        "earshot cannot post on the forum for you: it has no reply API. Answer on the site (https://news.example/acme), then run `done 12 <link to your answer>`."
    );
    let long = "x".repeat(301);
    let bluesky = Subject {
        network: SHORT,
        ..subject(&State::Open)
    };
    assert_eq!(
        message(bluesky, &bob(), Action::Answer { text: long }),
        "Your answer is 301 characters; Short takes at most 300. Shorten it by 1."
    );
    assert_eq!(
        message(bluesky, &bob(), Action::Answer { text: "  ".into() }),
        "An answer needs text: `answer 12 <your reply>`."
    );
    let few = Subject {
        network: FEW_MENTIONS,
        ..subject(&State::Open)
    };
    assert_eq!(
        message(
            few,
            &bob(),
            Action::Answer {
                text: "@a @b @c thanks".into()
            }
        ),
        "Your answer names 3 accounts; Few Mentions takes at most 2 @-mentions in a comment."
    );
    let reviews = Subject {
        network: REVIEWS,
        ..subject(&State::Open)
    };
    assert_eq!(
        message(
            reviews,
            &bob(),
            Action::Answer {
                text: "é".repeat(176)
            }
        ),
        "Your answer is 352 bytes; Reviews takes at most 350. Shorten it by 2."
    );
    let done = State::Done {
        by: jane(),
        at: t0(),
        note: Some("replied by mail".into()),
    };
    assert_eq!(
        message(subject(&done), &bob(), Action::Claim),
        "#12 is done by @jane: replied by mail. Use `reopen 12` first if it needs another look."
    );
}

#[test]
fn ages_read_naturally() {
    let now = t0();
    assert_eq!(ago(now, now), "just now");
    assert_eq!(ago(now - Duration::seconds(59), now), "just now");
    assert_eq!(ago(now - Duration::minutes(5), now), "5 min ago");
    assert_eq!(ago(now - Duration::hours(3), now), "3 h ago");
    assert_eq!(ago(now - Duration::hours(25), now), "1 day ago");
    assert_eq!(ago(now - Duration::days(2), now), "2 days ago");
    assert_eq!(ago(now + Duration::minutes(5), now), "just now");
}
