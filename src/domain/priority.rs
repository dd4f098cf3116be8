//! How likely a mention is a complaint that should be answered first. The detector
//! (`domain::complaint`) reads lexicons a team can read and extend (`bot-config/priority-*.toml`);
//! every point of the score names the phrase that earned it, so a flag on a card can always be
//! explained.

use serde::{Deserialize, Serialize};

pub use crate::domain::complaint::Lexicon;

/// The lexicon earshot ships with, used when the config names none: the main file and the
/// language files it names, by name.
pub const DEFAULT_LEXICON: &str = include_str!("../../bot-config/priority-lexicon.toml");
pub const DEFAULT_LANGUAGE_FILES: &[(&str, &str)] = &[
    (
        "priority-en.toml",
        include_str!("../../bot-config/priority-en.toml"),
    ),
    (
        "priority-nl.toml",
        include_str!("../../bot-config/priority-nl.toml"),
    ),
];

/// A mention's score, computed once when it is found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    pub score: u32,
    /// Whether the score reached the lexicon's threshold: the card flags it, lists put it first.
    pub complaint: bool,
    /// What fired, each with the writer's own words: `no reply ("nobody answers")`.
    pub reasons: Vec<String>,
}

impl Priority {
    /// "likely complaint: no reply ("nobody answers")", or nothing for an ordinary mention.
    pub fn flag(&self) -> Option<String> {
        self.complaint
            .then(|| format!("likely complaint: {}", self.reasons.join(", ")))
    }
}

impl Lexicon {
    /// The shipped lexicon, as embedded in the binary.
    pub fn shipped() -> Result<Lexicon, String> {
        Lexicon::load(DEFAULT_LEXICON, |name| {
            DEFAULT_LANGUAGE_FILES
                .iter()
                .find(|(file, _)| *file == name)
                .map(|(_, text)| text.to_string())
                .ok_or_else(|| format!("{name} is not one of the shipped lexicon files"))
        })
    }
}

impl Default for Lexicon {
    fn default() -> Lexicon {
        // The shipped files are checked by a test; a lexicon that flags nothing is the safe
        // fallback.
        Lexicon::shipped().unwrap_or_else(|_| Lexicon::flags_nothing())
    }
}

/// Complaints first (the highest score first), then everything else in the order given.
pub fn complaints_first<T>(items: &mut [T], priority: impl Fn(&T) -> &Priority) {
    items.sort_by_key(|item| {
        let priority = priority(item);
        (
            !priority.complaint,
            std::cmp::Reverse(priority.complaint.then_some(priority.score)),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lexicon_loads_and_flags_with_reasons() {
        let lexicon = Lexicon::shipped().unwrap();
        let priority = lexicon.score("I want my money back, the lid is broken", Some("en"));
        assert!(priority.complaint, "{priority:?}");
        assert!(priority.flag().unwrap().starts_with("likely complaint: "));
        assert!(
            !lexicon
                .score("Love the new Acme coffee", Some("en"))
                .complaint
        );
    }

    #[test]
    fn a_team_lexicon_in_the_old_form_still_works_and_bad_ones_are_refused() {
        let lexicon = Lexicon::parse("complaint_at = 2\n[terms]\n\"cold coffee\" = 2\n").unwrap();
        let priority = lexicon.score("Cold  coffee again", None);
        assert!(priority.complaint);
        assert_eq!(
            priority.reasons,
            vec!["cold coffee (\"Cold  coffee\")".replace("  ", " ")]
        );
        assert!(!lexicon.score("refund please?", None).complaint);
        assert!(Lexicon::parse("complaint_at = 0").is_err());
        assert!(Lexicon::parse("complaint_at = 2\n[terms]\n\"!!\" = 1").is_err());
        assert!(Lexicon::parse("complaint = 2").is_err());
    }

    #[test]
    fn complaints_sort_first_by_score_and_the_rest_keep_their_order() {
        let p = |score: u32, complaint: bool| Priority {
            score,
            complaint,
            reasons: vec![],
        };
        let mut items = vec![
            (1, p(0, false)),
            (2, p(3, true)),
            (3, p(1, false)),
            (4, p(5, true)),
        ];
        complaints_first(&mut items, |(_, priority)| priority);
        let order: Vec<u32> = items.iter().map(|(n, _)| *n).collect();
        assert_eq!(order, vec![4, 2, 1, 3]);
    }
}
