//! Every action from every state, by the holder, another answerer, a teammate who may not
//! answer, and earshot itself: one table; and what each state offers on a card.

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
                by: jane().into(),
                at,
                link: Some("https://m.example/1".into()),
            },
        ),
        (
            "done",
            State::Done {
                by: jane().into(),
                at,
                note: None,
            },
        ),
        (
            "ignored",
            State::Ignored {
                by: jane().into(),
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
        (
            "snooze",
            Action::Snooze {
                until: t0() + Duration::hours(2),
            },
        ),
        (
            "elsewhere",
            Action::AnsweredElsewhere {
                how: "replied on the site".into(),
            },
        ),
        ("stale", Action::ReleaseStale),
    ]
}

/// What people do; the others are the outbox's and the follow-up's (actor `earshot`).
const PEOPLE_DO: [&str; 9] = [
    "claim",
    "release",
    "assign-bob",
    "assign-jane",
    "answer",
    "done",
    "ignore",
    "reopen",
    "snooze",
];

/// The actors, with their role in the chat: jane holds the claimed states, bob is another
/// answerer, eve is on the team but not among the `answerers`.
fn actors() -> Vec<(&'static str, Actor, Role)> {
    vec![
        ("jane", jane().into(), Role::Answerer),
        ("bob", bob().into(), Role::Answerer),
        ("eve", Member::new("U3", "eve").into(), Role::Member),
        ("earshot", Actor::System, Role::Answerer),
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
                Refusal::PeopleOnly { .. } => "people",
                Refusal::NotAnAnswerer { .. } => "answerers",
                Refusal::SnoozeTooLong => "too-far",
                Refusal::SnoozePassed => "passed",
            }
        ),
    }
}

/// Every action by every actor (so every role) from every state, as the desk decides it:
/// `permit` for the role, then `apply` for the state. Claimed and answering are jane's.
const TABLE: &str = "
action      actor   open         claimed      answering       answered      done          ignored
claim       jane    claimed:jane no:yours     no:in-flight    no:closed     no:closed     no:closed
claim       bob     claimed:bob  no:held      no:in-flight    no:closed     no:closed     no:closed
claim       eve     claimed:eve  no:held      no:in-flight    no:closed     no:closed     no:closed
release     jane    no:not-claimed open       no:in-flight    no:closed     no:closed     no:closed
release     bob     no:not-claimed no:held    no:in-flight    no:closed     no:closed     no:closed
release     eve     no:not-claimed no:held    no:in-flight    no:closed     no:closed     no:closed
assign-bob  jane    claimed:bob  claimed:bob  no:in-flight    no:closed     no:closed     no:closed
assign-bob  bob     claimed:bob  claimed:bob  no:in-flight    no:closed     no:closed     no:closed
assign-bob  eve     claimed:bob  claimed:bob  no:in-flight    no:closed     no:closed     no:closed
assign-jane jane    claimed:jane no:already-held no:in-flight no:closed     no:closed     no:closed
assign-jane bob     claimed:jane no:already-held no:in-flight no:closed     no:closed     no:closed
assign-jane eve     claimed:jane no:already-held no:in-flight no:closed     no:closed     no:closed
answer      jane    answering:jane answering:jane no:in-flight no:closed    no:closed     no:closed
answer      bob     answering:bob no:held     no:in-flight    no:closed     no:closed     no:closed
answer      eve     no:answerers no:answerers no:answerers    no:answerers  no:answerers  no:answerers
done        jane    done         done         no:in-flight    no:closed     no:closed     no:closed
done        bob     done         done         no:in-flight    no:closed     no:closed     no:closed
done        eve     done         done         no:in-flight    no:closed     no:closed     no:closed
ignore      jane    ignored      ignored      no:in-flight    no:closed     no:closed     no:closed
ignore      bob     ignored      ignored      no:in-flight    no:closed     no:closed     no:closed
ignore      eve     ignored      ignored      no:in-flight    no:closed     no:closed     no:closed
reopen      jane    no:open      no:open      no:in-flight    open          open          open
reopen      bob     no:open      no:open      no:in-flight    open          open          open
reopen      eve     no:open      no:open      no:in-flight    open          open          open
snooze      jane    open         claimed:jane answering:jane  no:closed     no:closed     no:closed
snooze      bob     open         claimed:jane answering:jane  no:closed     no:closed     no:closed
snooze      eve     open         claimed:jane answering:jane  no:closed     no:closed     no:closed
delivered   earshot no:system    no:system    answered        no:system     no:system     no:system
failed      earshot no:system    no:system    claimed:jane    no:system     no:system     no:system
elsewhere   earshot answered     answered     no:in-flight    no:closed     no:closed     no:closed
stale       earshot no:not-claimed open       no:in-flight    no:closed     no:closed     no:closed
claim       earshot no:people    no:held      no:in-flight    no:closed     no:closed     no:closed
answer      earshot no:people    no:held      no:in-flight    no:closed     no:closed     no:closed
";

#[test]
fn every_action_by_every_role_from_every_state() {
    let now = t0() + Duration::minutes(12);
    let states = states();
    let mut rows = TABLE.lines().filter(|line| !line.trim().is_empty());
    let header: Vec<&str> = rows.next().expect("header").split_whitespace().collect();
    let names: Vec<&str> = states.iter().map(|(name, _)| *name).collect();
    assert_eq!(header[2..], names[..], "the columns are the states");
    let mut seen = Vec::new();
    for row in rows {
        let cells: Vec<&str> = row.split_whitespace().collect();
        let [action_name, actor_name, expected @ ..] = cells.as_slice() else {
            panic!("short row: {row}");
        };
        assert_eq!(expected.len(), states.len(), "{row}");
        let (_, action) = actions()
            .into_iter()
            .find(|(name, _)| name == action_name)
            .unwrap_or_else(|| panic!("no action {action_name}"));
        let (_, actor, role) = actors()
            .into_iter()
            .find(|(name, ..)| name == actor_name)
            .unwrap_or_else(|| panic!("no actor {actor_name}"));
        for ((state_name, state), want) in states.iter().zip(expected) {
            let subject = Subject {
                number: 12,
                network: NAMING,
                link: None,
                state,
            };
            let got = outcome(
                permit(role, &action, 12, "slack")
                    .and_then(|()| apply(subject, &actor, &action, now)),
            );
            assert_eq!(
                &got, want,
                "{action_name} by {actor_name} from {state_name}"
            );
        }
        seen.push((*action_name, *actor_name));
    }
    // Complete: every person's action by every person, every other action by earshot.
    for (action, _) in actions() {
        let by: &[&str] = if PEOPLE_DO.contains(&action) {
            &["jane", "bob", "eve"]
        } else {
            &["earshot"]
        };
        for actor in by {
            assert!(
                seen.contains(&(action, actor)),
                "{action} by {actor} missing"
            );
        }
    }
}

/// The card's controls, per state and per kind of network: `site` is a link button.
#[test]
fn every_state_offers_what_the_lifecycle_allows() {
    let words = |offered: Vec<Offer>| {
        offered
            .iter()
            .map(|offer| match offer {
                Offer::AnswerOnSite(_) => "site",
                offer => offer.word(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let link = Some("https://news.example/1");
    let table: [(&str, [&str; 3]); 6] = [
        // state: (Mastodon, a feed with a link, a feed without)
        (
            "open",
            [
                "claim answer done ignore",
                "claim site done ignore",
                "claim done ignore",
            ],
        ),
        (
            "claimed",
            [
                "release answer done ignore",
                "release site done ignore",
                "release done ignore",
            ],
        ),
        ("answering", ["", "", ""]),
        ("answered", ["reopen", "reopen", "reopen"]),
        ("done", ["reopen", "reopen", "reopen"]),
        ("ignored", ["reopen", "reopen", "reopen"]),
    ];
    for ((name, state), (row, want)) in states().iter().zip(table) {
        assert_eq!(*name, row);
        let got = [
            words(offers(state, SHORT, link)),
            words(offers(state, READ_ONLY, link)),
            words(offers(state, READ_ONLY, None)),
        ];
        assert_eq!(got, want.map(String::from), "{name}");

        // Each control is something the lifecycle lets its holder or a teammate do.
        for offer in offers(state, SHORT, link) {
            let action = match offer {
                Offer::Claim => Action::Claim,
                Offer::Release => Action::Release,
                Offer::Answer => Action::Answer { text: "hi".into() },
                Offer::AnswerOnSite(_) => continue,
                Offer::Done => Action::Done { note: None },
                Offer::Ignore => Action::Ignore { reason: None },
                Offer::Reopen => Action::Reopen,
            };
            let subject = Subject {
                number: 1,
                network: SHORT,
                link,
                state,
            };
            let allowed = [jane(), bob()]
                .iter()
                .any(|actor| apply(subject, actor, &action, t0()).is_ok());
            assert!(allowed, "{name} offers {offer:?}, which nobody may do");
        }
    }
}

#[test]
fn snoozes_end_at_a_later_moment_within_reason() {
    use crate::domain::business_hours::BusinessHours;
    use crate::domain::command::SnoozeUntil;
    let zone = chrono_tz::Europe::Amsterdam;
    let office = BusinessHours::parse("mon-fri 09:00-17:00", zone).expect("hours");
    // Sunday 2026-11-22 11:00 in Amsterdam.
    let now = t0();
    let until =
        |typed: SnoozeUntil| snooze_until(&typed, &zone, &office, now).map(|at| at.to_rfc3339());
    let hours = |h: u64| SnoozeUntil::For(std::time::Duration::from_secs(h * 3600));
    let date = |d: &str| SnoozeUntil::Date(d.parse().expect("date"));
    assert_eq!(until(hours(2)), Ok("2026-11-22T12:00:00+00:00".into()));
    assert_eq!(
        until(SnoozeUntil::Tomorrow),
        Ok("2026-11-23T08:00:00+00:00".into())
    );
    assert_eq!(
        until(date("2026-12-01")),
        Ok("2026-11-30T23:00:00+00:00".into())
    );
    assert_eq!(until(date("2026-11-22")), Err(Refusal::SnoozePassed));
    assert_eq!(until(hours(0)), Err(Refusal::SnoozePassed));
    assert_eq!(until(hours(24 * 3660)), Err(Refusal::SnoozeTooLong));
    assert_eq!(
        until(SnoozeUntil::For(std::time::Duration::MAX)),
        Err(Refusal::SnoozeTooLong)
    );

    // The step is in the history, and the state stays as it was.
    let open = State::Open;
    let subject = Subject {
        number: 4,
        network: SHORT,
        link: None,
        state: &open,
    };
    let snooze = Action::Snooze {
        until: now + Duration::hours(2),
    };
    let t = apply(subject, bob(), &snooze, now).expect("allowed");
    assert_eq!(t.state, State::Open);
    assert_eq!(
        t.entry.summary(),
        "snoozed by @bob: until 2026-11-22 12:00 UTC"
    );
    assert!(!t.entry.settles());
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
    let t = apply(subject, bob(), &Action::Assign { to: jane() }, now).expect("allowed");
    assert_eq!(t.entry.by, Actor::from(bob()));
    assert_eq!(
        (t.entry.from, t.entry.to),
        (Some(Status::Open), Step::Assigned)
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
    let link = Some("https://bsky.app/x".to_string());
    let t = apply(
        subject,
        Actor::System,
        &Action::AnswerDelivered { link: link.clone() },
        now,
    )
    .expect("settles");
    // The answer is credited to the person who wrote it, not to the outbox.
    assert_eq!(t.entry.by, Actor::from(jane()));
    assert_eq!(
        t.state,
        State::Answered {
            by: jane().into(),
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
        by: jane().into(),
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
