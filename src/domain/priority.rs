//! How likely a mention is a complaint that should be answered first: a transparent score from a
//! lexicon a team can read and extend (`bot-config/priority-lexicon.toml`). Every point of the
//! score names the word that earned it, so a flag on a card can always be explained.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::domain::text::words;

/// The lexicon earshot ships with, used when the config names none.
pub const DEFAULT_LEXICON: &str = include_str!("../../bot-config/priority-lexicon.toml");

/// A mention's score, computed once when it is found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    pub score: u32,
    /// Whether the score reached the lexicon's threshold: the card flags it, lists put it first.
    pub complaint: bool,
    /// The terms that scored, as written in the lexicon ("refund", "question").
    pub reasons: Vec<String>,
}

impl Priority {
    /// "likely complaint: refund, broken", or nothing for an ordinary mention.
    pub fn flag(&self) -> Option<String> {
        self.complaint
            .then(|| format!("likely complaint: {}", self.reasons.join(", ")))
    }
}

#[derive(Debug, Clone)]
pub struct Lexicon {
    complaint_at: u32,
    question: u32,
    /// (term as written, its folded words, weight)
    terms: Vec<(String, Vec<String>, u32)>,
    /// First folded word -> the terms that start with it, so scoring is one pass over the text.
    by_first_word: HashMap<String, Vec<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLexicon {
    complaint_at: u32,
    #[serde(default)]
    question: u32,
    #[serde(default)]
    terms: BTreeMap<String, u32>,
}

impl Lexicon {
    /// Reads a lexicon file's text; the error says what is wrong in it.
    pub fn parse(text: &str) -> Result<Lexicon, String> {
        let raw: RawLexicon = toml::from_str(text).map_err(|error| error.to_string())?;
        if raw.complaint_at == 0 {
            return Err("complaint_at must be at least 1, or every mention is a complaint".into());
        }
        let mut terms = Vec::new();
        for (term, weight) in raw.terms {
            let folded = words(&term);
            if folded.is_empty() {
                return Err(format!("the term `{term}` holds no letters or digits"));
            }
            terms.push((term, folded, weight));
        }
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, (_, folded, _)) in terms.iter().enumerate() {
            by_first_word
                .entry(folded[0].clone())
                .or_default()
                .push(index);
        }
        Ok(Lexicon {
            complaint_at: raw.complaint_at,
            question: raw.question,
            terms,
            by_first_word,
        })
    }

    pub fn score(&self, text: &str) -> Priority {
        let text_words = words(text);
        let mut found = vec![false; self.terms.len()];
        for (at, word) in text_words.iter().enumerate() {
            for &index in self.by_first_word.get(word).into_iter().flatten() {
                found[index] |= text_words[at..].starts_with(&self.terms[index].1);
            }
        }
        let mut score = 0;
        let mut reasons = Vec::new();
        for ((term, _, weight), _) in self.terms.iter().zip(&found).filter(|(_, found)| **found) {
            score += weight;
            reasons.push(term.clone());
        }
        if self.question > 0 && text.contains('?') {
            score += self.question;
            reasons.push("question".to_string());
        }
        Priority {
            score,
            complaint: score >= self.complaint_at,
            reasons,
        }
    }
}

impl Default for Lexicon {
    fn default() -> Lexicon {
        // The shipped file is checked by a test; an empty lexicon is the safe fallback.
        Lexicon::parse(DEFAULT_LEXICON).unwrap_or(Lexicon {
            complaint_at: u32::MAX,
            question: 0,
            terms: Vec::new(),
            by_first_word: HashMap::new(),
        })
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
    fn the_shipped_lexicon_parses_and_flags_english_and_dutch_complaints() {
        let lexicon = Lexicon::parse(DEFAULT_LEXICON).unwrap();
        let cases = [
            (
                "I want a REFUND, the lid is broken",
                true,
                vec!["broken", "refund"],
            ),
            (
                "Wat een waardeloze service... nee: waardeloos!",
                true,
                vec!["waardeloos"],
            ),
            (
                "Ik wil mijn abonnement opzeggen, waar kan dat?",
                true,
                vec!["opzeggen", "question"],
            ),
            ("Love the new Acme coffee", false, vec![]),
            ("Is Acme open on Sunday?", false, vec!["question"]),
            ("Ik wil mijn geld terug", true, vec!["geld terug"]),
            ("geld, en terug", false, vec![]),
        ];
        for (text, complaint, reasons) in cases {
            let priority = lexicon.score(text);
            assert_eq!(priority.complaint, complaint, "{text}: {priority:?}");
            assert_eq!(priority.reasons, reasons, "{text}");
        }
        assert_eq!(lexicon.score("refund? scam").score, 3 + 3 + 1);
    }

    #[test]
    fn a_team_lexicon_replaces_the_default_and_bad_ones_are_refused() {
        let lexicon = Lexicon::parse("complaint_at = 2\n[terms]\n\"cold coffee\" = 2\n").unwrap();
        assert!(lexicon.score("Cold  coffee again").complaint);
        assert!(!lexicon.score("refund please?").complaint);
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
