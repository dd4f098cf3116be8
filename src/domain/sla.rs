//! Chasing what is owed, the way an on-call pager chases an unacknowledged alert: a mention left
//! unclaimed past `claim_within` (business time) is nudged in its thread, again and again at a
//! growing interval, pinging more people from the second nudge on; a claimed mention left
//! unanswered past `answer_within` reminds its owner; a claim held too long can be released.
//! Pure: the scheduler asks [`next_step`] with the mention, what was done so far and `now`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::business_hours::BusinessHours;
use super::{Member, State, Tracked};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sla {
    pub claim_within: Duration,
    pub answer_within: Duration,
    pub hours: BusinessHours,
    /// Who is pinged from the second nudge on; empty means the whole channel.
    pub escalate_to: Vec<String>,
    /// Off when `None`: a claim is never taken away unless configured.
    pub release_claims_after: Option<Duration>,
}

/// What has been done to chase one mention so far (kept by the store).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chase {
    /// Nudges sent while it was unclaimed.
    pub nudges: u32,
    /// Reminders sent to the owner of the claim made at `claim_at`.
    pub owner_reminders: u32,
    pub claim_at: Option<DateTime<Utc>>,
    /// No reminders before this instant.
    pub snoozed_until: Option<DateTime<Utc>>,
}

/// The next thing to do about a mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Post in the mention's thread; `ping` are the people (or `@channel`) to alert.
    Nudge { round: u32, ping: Vec<String> },
    /// Remind the owner directly.
    RemindOwner { owner: Member, round: u32 },
    /// Hand a claim held too long back to the team.
    Release { owner: Member },
}

impl Step {
    /// The chase record once this step is done.
    pub fn record(&self, chase: &Chase, state: &State) -> Chase {
        let mut next = chase.clone();
        match self {
            Step::Nudge { .. } => next.nudges += 1,
            Step::RemindOwner { .. } => {
                let claim_at = claimed_at(state);
                if next.claim_at != claim_at {
                    next.owner_reminders = 0;
                    next.claim_at = claim_at;
                }
                next.owner_reminders += 1;
            }
            Step::Release { .. } => {
                next.owner_reminders = 0;
                next.claim_at = None;
            }
        }
        next
    }
}

/// Round `round` (0 first) is due once `within * (2^(round+1) - 1)` has passed: after 1, 3, 7,
/// 15... times the allowance, so a forgotten mention is chased ever less often but never dropped.
pub fn round_due(within: Duration, round: u32) -> Duration {
    let factor = (1i32 << (round + 1).min(20)) - 1;
    within * factor
}

/// What to do about `tracked` at `now`, given `chase`; `None` while nothing is due.
pub fn next_step(sla: &Sla, tracked: &Tracked, chase: &Chase, now: DateTime<Utc>) -> Option<Step> {
    if chase.snoozed_until.is_some_and(|until| now < until) {
        return None;
    }
    match &tracked.state {
        State::Open => {
            let waited = sla.hours.elapsed(tracked.received_at, now);
            (waited >= round_due(sla.claim_within, chase.nudges)).then(|| Step::Nudge {
                round: chase.nudges,
                ping: if chase.nudges == 0 {
                    Vec::new()
                } else if sla.escalate_to.is_empty() {
                    vec!["@channel".to_string()]
                } else {
                    sla.escalate_to.clone()
                },
            })
        }
        State::Claimed {
            by,
            at,
            answering: false,
        } => {
            let held = sla.hours.elapsed(*at, now);
            if sla.release_claims_after.is_some_and(|after| held >= after) {
                return Some(Step::Release { owner: by.clone() });
            }
            let round = if chase.claim_at == Some(*at) {
                chase.owner_reminders
            } else {
                0
            };
            (held >= round_due(sla.answer_within, round)).then(|| Step::RemindOwner {
                owner: by.clone(),
                round,
            })
        }
        _ => None,
    }
}

fn claimed_at(state: &State) -> Option<DateTime<Utc>> {
    match state {
        State::Claimed { at, .. } => Some(*at),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::examples::utc;
    use crate::domain::network::examples::LONG;
    use chrono_tz::Europe::Amsterdam;

    fn sla(release: Option<Duration>) -> Sla {
        Sla {
            claim_within: Duration::minutes(30),
            answer_within: Duration::hours(4),
            hours: BusinessHours::parse("mon-fri 09:00-17:00", Amsterdam).unwrap(),
            escalate_to: vec!["@oncall".into()],
            release_claims_after: release,
        }
    }

    fn tracked(received: &str, state: State) -> Tracked {
        let mut tracked = crate::domain::examples::tracked(LONG);
        tracked.number = 1;
        tracked.state = state;
        tracked.received_at = utc(received);
        tracked.mention.created_at = utc(received);
        tracked
    }

    /// Runs the chase minute by minute from `from` to `to`, returning when each step fired.
    fn chase_run(
        sla: &Sla,
        mention: &Tracked,
        chase: &mut Chase,
        from: &str,
        to: &str,
    ) -> Vec<(DateTime<Utc>, Step)> {
        let mut fired = Vec::new();
        let mut now = utc(from);
        while now <= utc(to) {
            if let Some(step) = next_step(sla, mention, chase, now) {
                *chase = step.record(chase, &mention.state);
                fired.push((now, step));
            }
            now += Duration::minutes(1);
        }
        fired
    }

    #[test]
    fn nudges_at_growing_business_intervals_and_escalate_from_the_second() {
        // Found Friday 2026-03-20 16:00 CET (15:00 UTC).
        let mention = tracked("2026-03-20T15:00:00Z", State::Open);
        let mut chase = Chase::default();
        let fired = chase_run(
            &sla(None),
            &mention,
            &mut chase,
            "2026-03-20T15:00:00Z",
            "2026-03-23T16:00:00Z",
        );
        let times: Vec<DateTime<Utc>> = fired.iter().map(|(at, _)| *at).collect();
        assert_eq!(
            times,
            vec![
                utc("2026-03-20T15:30:00Z"), // 30 business minutes: Friday 16:30
                utc("2026-03-23T08:30:00Z"), // 90: 60 on Friday, 30 on Monday -> 09:30 CET
                utc("2026-03-23T10:30:00Z"), // 210 -> Monday 11:30 CET
                utc("2026-03-23T14:30:00Z"), // 450 -> Monday 15:30 CET
            ]
        );
        assert_eq!(
            fired[0].1,
            Step::Nudge {
                round: 0,
                ping: vec![]
            }
        );
        assert_eq!(
            fired[1].1,
            Step::Nudge {
                round: 1,
                ping: vec!["@oncall".into()]
            }
        );
        assert_eq!(chase.nudges, 4);
    }

    #[test]
    fn claiming_stops_nudges_and_the_owner_is_reminded_instead() {
        let claim_at = utc("2026-03-23T08:00:00Z"); // Monday 09:00 CET
        let jane = Member::new("U1", "jane");
        let mention = tracked(
            "2026-03-20T15:00:00Z",
            State::Claimed {
                by: jane.clone(),
                at: claim_at,
                answering: false,
            },
        );
        let mut chase = Chase {
            nudges: 2,
            ..Chase::default()
        };
        let fired = chase_run(
            &sla(None),
            &mention,
            &mut chase,
            "2026-03-23T08:00:00Z",
            "2026-03-24T16:00:00Z",
        );
        assert_eq!(
            fired,
            vec![
                (
                    utc("2026-03-23T12:00:00Z"),
                    Step::RemindOwner {
                        owner: jane.clone(),
                        round: 0
                    }
                ),
                // 12 business hours: Monday 8 + Tuesday 4 -> Tuesday 13:00 CET.
                (
                    utc("2026-03-24T12:00:00Z"),
                    Step::RemindOwner {
                        owner: jane.clone(),
                        round: 1
                    }
                ),
            ]
        );
        // An answer on its way is not chased.
        let answering = tracked(
            "2026-03-20T15:00:00Z",
            State::Claimed {
                by: jane,
                at: claim_at,
                answering: true,
            },
        );
        assert_eq!(
            next_step(
                &sla(None),
                &answering,
                &Chase::default(),
                utc("2026-04-01T12:00:00Z")
            ),
            None
        );
    }

    #[test]
    fn snoozed_mentions_wait_and_stale_claims_are_released_only_when_configured() {
        let mention = tracked("2026-03-20T15:00:00Z", State::Open);
        let snoozed = Chase {
            snoozed_until: Some(utc("2026-03-24T08:00:00Z")),
            ..Chase::default()
        };
        assert_eq!(
            next_step(&sla(None), &mention, &snoozed, utc("2026-03-23T15:00:00Z")),
            None
        );
        assert!(next_step(&sla(None), &mention, &snoozed, utc("2026-03-24T08:00:00Z")).is_some());

        let jane = Member::new("U1", "jane");
        let held = tracked(
            "2026-03-20T15:00:00Z",
            State::Claimed {
                by: jane.clone(),
                at: utc("2026-03-23T08:00:00Z"),
                answering: false,
            },
        );
        let friday = utc("2026-03-27T12:00:00Z");
        assert!(matches!(
            next_step(&sla(None), &held, &Chase::default(), friday),
            Some(Step::RemindOwner { .. })
        ));
        assert_eq!(
            next_step(
                &sla(Some(Duration::hours(16))),
                &held,
                &Chase::default(),
                friday
            ),
            Some(Step::Release { owner: jane })
        );
    }
}
