//! The steps a mention's history records.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a history entry did. Stored as its label (the text records always held), so the
/// records of every schema version read alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Step {
    /// The mention arrived (derived from the mention, never stored).
    #[serde(rename = "open")]
    Found,
    #[serde(rename = "claimed")]
    Claimed,
    #[serde(rename = "assigned")]
    Assigned,
    #[serde(rename = "answer queued")]
    AnswerQueued,
    #[serde(rename = "answer failed")]
    AnswerFailed,
    #[serde(rename = "answered")]
    Answered,
    #[serde(rename = "done")]
    Done,
    #[serde(rename = "ignored")]
    Ignored,
    /// A claim handed back, by its holder or, held too long, by earshot.
    #[serde(rename = "released")]
    Released,
    #[serde(rename = "reopened")]
    Reopened,
    #[serde(rename = "snoozed")]
    Snoozed,
    /// The reviewer changed an owed review (a closed one is reopened instead).
    #[serde(rename = "edited")]
    Edited,
    #[serde(rename = "text read again")]
    TextReadAgain,
    #[serde(rename = "text dropped")]
    TextDropped,
}

impl Step {
    pub const ALL: [Step; 14] = [
        Step::Found,
        Step::Claimed,
        Step::Assigned,
        Step::AnswerQueued,
        Step::AnswerFailed,
        Step::Answered,
        Step::Done,
        Step::Ignored,
        Step::Released,
        Step::Reopened,
        Step::Snoozed,
        Step::Edited,
        Step::TextReadAgain,
        Step::TextDropped,
    ];

    /// How a thread or the terminal says it: "claimed", "answer queued".
    pub fn label(self) -> &'static str {
        match self {
            Step::Found => "open",
            Step::Claimed => "claimed",
            Step::Assigned => "assigned",
            Step::AnswerQueued => "answer queued",
            Step::AnswerFailed => "answer failed",
            Step::Answered => "answered",
            Step::Done => "done",
            Step::Ignored => "ignored",
            Step::Released => "released",
            Step::Reopened => "reopened",
            Step::Snoozed => "snoozed",
            Step::Edited => "edited",
            Step::TextReadAgain => "text read again",
            Step::TextDropped => "text dropped",
        }
    }

    /// Whether it closed the mention as handled: answered, through earshot or not, or done.
    pub fn settles(self) -> bool {
        matches!(self, Step::Answered | Step::Done)
    }

    /// Whether someone took the mention on with it: claimed, assigned, or answered at once.
    pub fn takes_on(self) -> bool {
        matches!(self, Step::Claimed | Step::Assigned | Step::AnswerQueued)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_is_stored_as_its_label_and_reads_back() {
        for step in Step::ALL {
            let stored = serde_json::to_string(&step).unwrap();
            assert_eq!(stored, format!("\"{}\"", step.label()));
            assert_eq!(serde_json::from_str::<Step>(&stored).unwrap(), step);
        }
        assert!(serde_json::from_str::<Step>("\"teleported\"").is_err());
    }
}
