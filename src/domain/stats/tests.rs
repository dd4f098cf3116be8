//! A hand-computed fixture: six mentions, their histories, and the figures worked out on paper.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::network::examples::{LONG, NAMING, READ_ONLY};
use crate::domain::{Actor, Author, Member, Mention, MentionKey, Network, State, Step};

fn base() -> DateTime<Utc> {
    // Monday 2026-03-23 09:00 in Amsterdam.
    DateTime::parse_from_rfc3339("2026-03-23T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

fn mention(
    number: u64,
    network: Network,
    received: DateTime<Utc>,
    steps: &[(i64, &str, Step)],
    state: State,
) -> (Tracked, Vec<HistoryEntry>) {
    let tracked = Tracked {
        number,
        mention: Mention {
            key: MentionKey::new("s", number.to_string()),
            network,
            author: Author::default(),
            text: "acme".into(),
            link: None,
            created_at: received,
            matched: vec![],
            language: None,
            in_reply_to: None,
            direct: false,
            review: None,
        },
        state,
        received_at: received,
        priority: Default::default(),
        place: Default::default(),
        copy: Default::default(),
        follow_up_of: None,
    };
    let mut history = vec![HistoryEntry {
        at: received,
        by: Actor::System,
        from: None,
        to: Step::Found,
        note: None,
    }];
    for (after, by, to) in steps {
        history.push(HistoryEntry {
            at: received + minutes(*after),
            by: Member::new(*by, *by).into(),
            from: None,
            to: *to,
            note: None,
        });
    }
    (tracked, history)
}

fn fixture() -> Vec<(Tracked, Vec<HistoryEntry>)> {
    let jane = Member::new("jane", "jane");
    let done = |at| State::Done {
        by: jane.clone().into(),
        at,
        note: None,
    };
    vec![
        mention(
            1,
            LONG,
            base(),
            &[
                (10, "jane", Step::Claimed),
                (35, "jane", Step::AnswerQueued),
                (40, "jane", Step::Answered),
            ],
            done(base()),
        ),
        mention(
            2,
            LONG,
            base() + minutes(60),
            &[(30, "bob", Step::Claimed), (120, "bob", Step::Done)],
            done(base()),
        ),
        mention(
            3,
            NAMING,
            base() + minutes(120),
            &[(5, "jane", Step::Assigned), (60, "bob", Step::Answered)],
            done(base()),
        ),
        mention(
            4,
            NAMING,
            base() + minutes(180),
            &[(1, "jane", Step::Ignored)],
            State::Ignored {
                by: jane.clone().into(),
                at: base(),
                reason: None,
            },
        ),
        mention(5, READ_ONLY, base() + minutes(240), &[], State::Open),
        mention(6, READ_ONLY, base() - Duration::days(1), &[], State::Open),
    ]
}

#[test]
fn figures_match_the_hand_computed_fixture() {
    let stats = compute(&fixture(), base(), base() + Duration::days(1));
    let all = &stats.all;
    assert_eq!((all.received, all.answered, all.ignored), (5, 3, 1));
    // 3 answered of the 4 that needed an answer.
    assert_eq!(all.answered_percent(), Some(75));
    // Claims after 10, 30, 5 minutes; answers after 40, 120, 60.
    assert_eq!(percentile(&all.to_claim, 50), Some(minutes(10)));
    assert_eq!(percentile(&all.to_claim, 90), Some(minutes(30)));
    assert_eq!(percentile(&all.to_answer, 50), Some(minutes(60)));
    assert_eq!(percentile(&all.to_answer, 90), Some(minutes(120)));

    let jane = &stats.members["jane"];
    assert_eq!(
        (jane.answered, percentile(&jane.to_answer, 50)),
        (1, Some(minutes(40)))
    );
    let bob = &stats.members["bob"];
    assert_eq!(
        (bob.answered, percentile(&bob.to_answer, 50)),
        (2, Some(minutes(60)))
    );
    assert_eq!(stats.members.len(), 2);

    let x = &stats.networks["Long"];
    assert_eq!(
        (x.received, x.answered, x.answered_percent()),
        (2, 2, Some(100))
    );
    let mastodon = &stats.networks["Naming"];
    assert_eq!(
        (
            mastodon.received,
            mastodon.answered,
            mastodon.answered_percent()
        ),
        (2, 1, Some(100))
    );
    let feed = &stats.networks["the forum"];
    assert_eq!(
        (feed.received, feed.answered, feed.answered_percent()),
        (1, 0, Some(0))
    );

    let text = stats.text("Last 7 days");
    assert!(text.contains("All: 5 received, 3 answered (75%), 1 ignored; time to claim median 10 min / p90 30 min; time to answer median 1 h / p90 2 h"), "{text}");
    assert!(text.contains("@bob: 2 answered, median 1 h"), "{text}");
}

#[test]
fn per_day_counts_by_local_date() {
    let days = per_day(
        &fixture(),
        chrono_tz::Europe::Amsterdam,
        "2026-03-23".parse().unwrap(),
        3,
    );
    let got: Vec<(String, usize, usize, Option<i64>)> = days
        .iter()
        .map(|d| (d.date.to_string(), d.received, d.answered, d.median_minutes))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-03-21".into(), 0, 0, None),
            ("2026-03-22".into(), 1, 0, None),
            ("2026-03-23".into(), 5, 3, Some(60)),
        ]
    );
}

#[test]
fn percentiles_and_durations_read_right() {
    let values: Vec<Duration> = [4, 1, 3, 2].map(minutes).to_vec();
    assert_eq!(percentile(&values, 50), Some(minutes(2)));
    assert_eq!(percentile(&values, 90), Some(minutes(4)));
    assert_eq!(percentile(&values, 0), Some(minutes(1)));
    assert_eq!(percentile(&[], 50), None);
    assert_eq!(human(minutes(45)), "45 min");
    assert_eq!(human(minutes(125)), "2 h 5 min");
    assert_eq!(human(minutes(60 * 24 * 3 + 60 * 4)), "3 days 4 h");
}
