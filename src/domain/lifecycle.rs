//! The life of a mention: open -> claimed -> answered, or done / ignored, and back.
//!
//! Every rule about who may do what lives here as a pure function of the current state, so the
//! store can apply it inside one transaction and every chat gets the same answers.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::network::{Network, ReplyPath};

mod access;
mod actor;
mod offers;
mod snooze;
mod step;

pub use access::{permit, Answerers, Role};
pub use actor::Actor;
pub use offers::{offers, Offer};
pub use snooze::snooze_until;
pub use step::Step;

/// A person on the team, as a chat adapter identifies them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    /// Stable id, namespaced by the chat ("U024BE7LH" on Slack, the name in the terminal).
    pub id: String,
    /// What to call them in messages, captured when they acted.
    pub name: String,
}

impl Member {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Member {
            id: id.into(),
            name: name.into(),
        }
    }
}

impl PartialEq for Member {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Member {}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum State {
    Open,
    Claimed {
        by: Member,
        at: DateTime<Utc>,
        /// An answer by `by` is queued for the network; it settles as answered or comes back.
        #[serde(default)]
        answering: bool,
    },
    Answered {
        by: Actor,
        at: DateTime<Utc>,
        link: Option<String>,
    },
    Done {
        by: Actor,
        at: DateTime<Utc>,
        note: Option<String>,
    },
    Ignored {
        by: Actor,
        at: DateTime<Utc>,
        reason: Option<String>,
    },
}

/// The coarse state, for indexes and filters; stored as its label in history entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Claimed,
    Answered,
    Done,
    Ignored,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Open,
        Status::Claimed,
        Status::Answered,
        Status::Done,
        Status::Ignored,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Claimed => "claimed",
            Status::Answered => "answered",
            Status::Done => "done",
            Status::Ignored => "ignored",
        }
    }

    /// Whether the team still owes this mention an answer.
    pub fn is_owed(self) -> bool {
        matches!(self, Status::Open | Status::Claimed)
    }
}

impl State {
    pub fn status(&self) -> Status {
        match self {
            State::Open => Status::Open,
            State::Claimed { .. } => Status::Claimed,
            State::Answered { .. } => Status::Answered,
            State::Done { .. } => Status::Done,
            State::Ignored { .. } => Status::Ignored,
        }
    }

    /// Who holds the mention now, if anyone.
    pub fn holder(&self) -> Option<&Member> {
        match self {
            State::Claimed { by, .. } => Some(by),
            _ => None,
        }
    }

    /// One line for cards and update notices: "claimed by @jane", "answered by @jane: <link>".
    pub fn describe(&self) -> String {
        match self {
            State::Open => "open".to_string(),
            State::Claimed {
                by,
                answering: true,
                ..
            } => format!("claimed by {by}, answer on its way"),
            State::Claimed { by, .. } => format!("claimed by {by}"),
            State::Answered { by, link, .. } => with_detail(format!("answered by {by}"), link),
            State::Done { by, note, .. } => with_detail(format!("done by {by}"), note),
            State::Ignored { by, reason, .. } => with_detail(format!("ignored by {by}"), reason),
        }
    }
}

fn with_detail(head: String, detail: &Option<String>) -> String {
    match detail {
        Some(detail) => format!("{head}: {detail}"),
        None => head,
    }
}

/// Something a person (or the outbox, for `AnswerDelivered` and `AnswerFailed`) does to a mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Claim,
    Release,
    Assign {
        to: Member,
    },
    /// Queue an answer for the network. The text is checked here; delivery happens in the outbox.
    Answer {
        text: String,
    },
    AnswerDelivered {
        link: Option<String>,
    },
    AnswerFailed {
        reason: String,
    },
    Done {
        note: Option<String>,
    },
    Ignore {
        reason: Option<String>,
    },
    Reopen,
    /// earshot found the brand's own reply on the network; `how` says where and by whom.
    AnsweredElsewhere {
        how: String,
    },
    /// earshot hands back a claim held past `release_claims_after` without an answer.
    ReleaseStale,
    /// No reminders until `until`; the state stays as it is.
    Snooze {
        until: DateTime<Utc>,
    },
}

impl Action {
    fn verb(&self) -> &'static str {
        match self {
            Action::Claim => "claim",
            Action::Release => "release",
            Action::Assign { .. } => "assign",
            Action::Answer { .. } => "answer",
            Action::AnswerDelivered { .. } => "deliver the answer to",
            Action::AnswerFailed { .. } => "report a failed answer on",
            Action::Done { .. } => "mark done",
            Action::Ignore { .. } => "ignore",
            Action::Reopen => "reopen",
            Action::AnsweredElsewhere { .. } => "mark answered elsewhere",
            Action::ReleaseStale => "release a stale claim on",
            Action::Snooze { .. } => "snooze",
        }
    }

    /// Whether it posts in public under the brand's name, which only answerers may do.
    pub fn publishes(&self) -> bool {
        matches!(self, Action::Answer { .. })
    }
}

/// One line of a mention's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub by: Actor,
    /// The status before the step; `None` for its arrival, which had none.
    pub from: Option<Status>,
    pub to: Step,
    pub note: Option<String>,
}

impl HistoryEntry {
    /// Whether this step closed the mention as handled: answered, through earshot or not, or
    /// done. The first such step is when stats and the digest count it answered.
    pub fn settles(&self) -> bool {
        self.to.settles()
    }

    /// The line shown in a thread or the terminal: "claimed by @jane".
    pub fn summary(&self) -> String {
        match &self.note {
            Some(note) => format!("{} by {}: {note}", self.to, self.by),
            None => format!("{} by {}", self.to, self.by),
        }
    }
}

/// The outcome of an allowed action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub state: State,
    pub entry: HistoryEntry,
}

/// Why an action was refused, written for the person who tried it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("#{number} is claimed by {holder} (since {since}, {ago}). Ask them, or `assign {number} @you` if they agree.", since = .since.format("%Y-%m-%d %H:%M UTC"), ago = ago(*.since, *.now))]
    HeldByOther {
        number: u64,
        holder: Member,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("You already hold #{number}.")]
    AlreadyYours { number: u64 },
    #[error("#{number} is already claimed by {holder}.")]
    AlreadyHeld { number: u64, holder: Member },
    #[error("#{number} is not claimed by anyone.")]
    NotClaimed { number: u64 },
    #[error("#{number} is {state}. Use `reopen {number}` first if it needs another look.")]
    Closed { number: u64, state: String },
    #[error("#{number} is already open.")]
    AlreadyOpen { number: u64 },
    #[error("An answer to #{number} by {by} is on its way to the network; wait for it to land.")]
    AnswerInFlight { number: u64, by: Member },
    #[error("earshot cannot post on {network} for you: it has no reply API. Answer on the site{link}, then run `done {number} <link to your answer>`.", link = link_hint(.link))]
    NoReplyApi {
        number: u64,
        network: Network,
        link: Option<String>,
    },
    #[error("An answer needs text: `answer {number} <your reply>`.")]
    EmptyAnswer { number: u64 },
    #[error("Your answer is {len} {unit}; {network} takes at most {max}. Shorten it by {over}.", over = .len - .max)]
    TooLong {
        network: Network,
        len: usize,
        max: usize,
        /// What `len` counts: "characters", or "bytes" where the network counts those.
        unit: &'static str,
    },
    #[error("Your answer names {count} accounts; {network} takes at most {max} @-mentions in a comment.")]
    TooManyMentions {
        network: Network,
        count: usize,
        max: usize,
    },
    #[error("Only the outbox can {verb} #{number}.")]
    SystemOnly { number: u64, verb: &'static str },
    #[error("Only a member of the team can {verb} #{number}.")]
    PeopleOnly { number: u64, verb: &'static str },
    #[error("Only the team's answerers may post answers on the networks; ask one of them to answer #{number} (the list is `answerers` under [chat.{chat}]). You can still claim it, or mark it done if it was answered elsewhere.")]
    NotAnAnswerer { number: u64, chat: String },
    #[error("That is too long to snooze; pick a date instead.")]
    SnoozeTooLong,
    #[error("That moment has passed; snooze until a later time.")]
    SnoozePassed,
}

fn link_hint(link: &Option<String>) -> String {
    match link {
        Some(link) => format!(" ({link})"),
        None => String::new(),
    }
}

/// "3 min ago", "2 h ago", "4 days ago": how long something has been so.
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds().max(0);
    match seconds {
        0..=59 => "just now".to_string(),
        60..=3_599 => format!("{} min ago", seconds / 60),
        3_600..=86_399 => format!("{} h ago", seconds / 3_600),
        86_400..=172_799 => "1 day ago".to_string(),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// Everything `apply` needs to know about a mention besides its state.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub number: u64,
    pub network: Network,
    pub link: Option<&'a str>,
    pub state: &'a State,
}

/// Decides whether `actor` may do `action` to the mention, and what follows if so.
pub fn apply(
    subject: Subject<'_>,
    actor: impl Into<Actor>,
    action: &Action,
    now: DateTime<Utc>,
) -> Result<Transition, Refusal> {
    let actor = &actor.into();
    let (next, note) = match action {
        Action::AnswerDelivered { link } => settle_answer(subject, Ok(link), now)?,
        Action::AnswerFailed { reason } => settle_answer(subject, Err(reason), now)?,
        _ => decide(subject, actor, action, now)?,
    };
    let state = subject.state;
    let to = match (&next, action) {
        (State::Claimed { .. }, Action::Assign { .. }) => Step::Assigned,
        (
            State::Claimed {
                answering: true, ..
            },
            _,
        ) => Step::AnswerQueued,
        (State::Claimed { .. }, Action::AnswerFailed { .. }) => Step::AnswerFailed,
        (_, Action::Snooze { .. }) => Step::Snoozed,
        (State::Open, Action::Reopen) => Step::Reopened,
        // Release and ReleaseStale are the only other ways back to open.
        (State::Open, _) => Step::Released,
        (State::Claimed { .. }, _) => Step::Claimed,
        (State::Answered { .. }, _) => Step::Answered,
        (State::Done { .. }, _) => Step::Done,
        (State::Ignored { .. }, _) => Step::Ignored,
    };
    let by = match action {
        // The outbox settles an answer on behalf of the person who wrote it.
        Action::AnswerDelivered { .. } | Action::AnswerFailed { .. } => state
            .holder()
            .cloned()
            .map_or_else(|| actor.clone(), Actor::Member),
        _ => actor.clone(),
    };
    Ok(Transition {
        entry: HistoryEntry {
            at: now,
            by,
            from: Some(state.status()),
            to,
            note,
        },
        state: next,
    })
}

/// The rules for what people do.
fn decide(
    subject: Subject<'_>,
    actor: &Actor,
    action: &Action,
    now: DateTime<Utc>,
) -> Result<(State, Option<String>), Refusal> {
    let number = subject.number;
    let state = subject.state;
    // Claims and answers are a person's: earshot holds nothing and writes no answers.
    let person = || {
        actor.member().ok_or(Refusal::PeopleOnly {
            number,
            verb: action.verb(),
        })
    };
    let held_by_other = |holder: &Member, since: &DateTime<Utc>| Refusal::HeldByOther {
        number,
        holder: holder.clone(),
        since: *since,
        now,
    };

    match (action, state) {
        // Reminders pause; whatever is under way (an answer on its way too) carries on.
        (Action::Snooze { until }, State::Open | State::Claimed { .. }) => Ok((
            state.clone(),
            Some(format!("until {}", until.format("%Y-%m-%d %H:%M UTC"))),
        )),
        (
            _,
            State::Claimed {
                by,
                answering: true,
                ..
            },
        ) => Err(Refusal::AnswerInFlight {
            number,
            by: by.clone(),
        }),

        (Action::Reopen, State::Answered { .. } | State::Done { .. } | State::Ignored { .. }) => {
            Ok((State::Open, None))
        }
        (Action::Reopen, State::Open | State::Claimed { .. }) => {
            Err(Refusal::AlreadyOpen { number })
        }
        (_, State::Answered { .. } | State::Done { .. } | State::Ignored { .. }) => {
            Err(Refusal::Closed {
                number,
                state: state.describe(),
            })
        }

        (Action::Claim, State::Open) => Ok((claimed(person()?, now, false), None)),
        (Action::Claim, State::Claimed { by, .. }) if actor.is(by) => {
            Err(Refusal::AlreadyYours { number })
        }
        (Action::Claim, State::Claimed { by, at, .. }) => Err(held_by_other(by, at)),

        (Action::Release, State::Open) => Err(Refusal::NotClaimed { number }),
        (Action::Release, State::Claimed { by, .. }) if actor.is(by) => Ok((State::Open, None)),
        (Action::Release, State::Claimed { by, at, .. }) => Err(held_by_other(by, at)),

        (Action::Assign { to }, State::Claimed { by, .. }) if by == to => {
            Err(Refusal::AlreadyHeld {
                number,
                holder: to.clone(),
            })
        }
        (Action::Assign { to }, _) => Ok((
            claimed(to, now, false),
            (!actor.is(to)).then(|| format!("to {to}")),
        )),

        (Action::Answer { .. }, State::Claimed { by, at, .. }) if !actor.is(by) => {
            Err(held_by_other(by, at))
        }
        (Action::Answer { text }, _) => {
            let author = person()?;
            check_answer(subject, text)?;
            Ok((claimed(author, now, true), None))
        }

        (Action::Done { note }, _) => Ok((
            State::Done {
                by: actor.clone(),
                at: now,
                note: note.clone(),
            },
            note.clone(),
        )),
        (Action::Ignore { reason }, _) => Ok((
            State::Ignored {
                by: actor.clone(),
                at: now,
                reason: reason.clone(),
            },
            reason.clone(),
        )),

        (Action::AnsweredElsewhere { how }, _) => Ok((
            State::Answered {
                by: state
                    .holder()
                    .cloned()
                    .map_or_else(|| actor.clone(), Actor::Member),
                at: now,
                link: None,
            },
            Some(how.clone()),
        )),
        (Action::ReleaseStale, State::Open) => Err(Refusal::NotClaimed { number }),
        (Action::ReleaseStale, State::Claimed { .. }) => Ok((
            State::Open,
            Some("held too long without an answer".to_string()),
        )),

        (Action::AnswerDelivered { .. } | Action::AnswerFailed { .. }, _) => {
            Err(Refusal::SystemOnly {
                number,
                verb: action.verb(),
            })
        }
    }
}

/// The outbox reports how the network took a queued answer.
fn settle_answer(
    subject: Subject<'_>,
    outcome: Result<&Option<String>, &String>,
    now: DateTime<Utc>,
) -> Result<(State, Option<String>), Refusal> {
    let State::Claimed {
        by,
        at,
        answering: true,
    } = subject.state
    else {
        return Err(Refusal::SystemOnly {
            number: subject.number,
            verb: "settle an answer on",
        });
    };
    Ok(match outcome {
        Ok(link) => (
            State::Answered {
                by: Actor::Member(by.clone()),
                at: now,
                link: link.clone(),
            },
            link.clone(),
        ),
        // The mention stays with its owner so they can fix the answer and try again.
        Err(reason) => (claimed(by, *at, false), Some(reason.clone())),
    })
}

fn claimed(by: &Member, at: DateTime<Utc>, answering: bool) -> State {
    State::Claimed {
        by: by.clone(),
        at,
        answering,
    }
}

/// An answer must have text, fit the network, and go to a network that takes replies.
fn check_answer(subject: Subject<'_>, text: &str) -> Result<(), Refusal> {
    let number = subject.number;
    match subject.network.reply_path() {
        ReplyPath::Manual => Err(Refusal::NoReplyApi {
            number,
            network: subject.network,
            link: subject.link.map(str::to_string),
        }),
        ReplyPath::Direct { max_chars } => {
            let len = subject.network.answer_length(text.trim());
            if len == 0 {
                return Err(Refusal::EmptyAnswer { number });
            }
            if len > max_chars {
                return Err(Refusal::TooLong {
                    network: subject.network,
                    len,
                    max: max_chars,
                    unit: subject.network.length_unit(),
                });
            }
            if let Some(max) = subject.network.max_mentions() {
                let count = super::length::at_mentions(text);
                if count > max {
                    return Err(Refusal::TooManyMentions {
                        network: subject.network,
                        count,
                        max,
                    });
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
