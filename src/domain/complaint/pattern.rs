//! Patterns a team can read and write: words in order, with a few wildcards.
//!
//! - `word` matches that word (folded: case and accents do not matter);
//! - `word*` matches any word that starts with it (`answer*`: answers, answered);
//! - `{class}` matches any word of a class the lexicon lists (`{time}`: minutes, weeks...);
//!   `{num}` also matches any number written in digits;
//! - `...` skips up to three words (`nobody ... answers`: "nobody at the shop answers").

use super::tokens::{folded_words, Word};

/// How many words `...` may skip.
const GAP: usize = 3;

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Word(String),
    Prefix(String),
    Class(u8),
    Gap,
}

#[derive(Debug, Clone)]
pub struct Pattern {
    steps: Vec<Step>,
}

/// The classes a lexicon defines, by name; a class is a bit in [`WordClasses`].
pub type ClassNames = [String];

/// The bit set of classes one word belongs to.
pub type WordClasses = u64;

/// The first step of a pattern, to index patterns by the word they start with.
pub enum First<'a> {
    Word(&'a str),
    Class(u8),
    /// A prefix, by its first character.
    Prefix(char),
}

impl Pattern {
    pub fn parse(text: &str, classes: &ClassNames) -> Result<Pattern, String> {
        let mut steps = Vec::new();
        for token in text.split_whitespace() {
            if token == "..." {
                steps.push(Step::Gap);
            } else if let Some(name) = token.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                let index = classes.iter().position(|c| c == name).ok_or_else(|| {
                    format!(
                        "the pattern `{text}` names the class {{{name}}}, but the lexicon's classes are: {}",
                        classes.join(", ")
                    )
                })?;
                steps.push(Step::Class(index as u8));
            } else {
                let prefix = token.ends_with('*');
                let mut words = folded_words(token.trim_end_matches('*'));
                let Some(last) = words.pop() else {
                    return Err(format!(
                        "the pattern `{text}` holds `{token}`, which has no letters or digits"
                    ));
                };
                steps.extend(words.into_iter().map(Step::Word));
                steps.push(if prefix {
                    Step::Prefix(last)
                } else {
                    Step::Word(last)
                });
            }
        }
        match (steps.first(), steps.last()) {
            (None, _) => Err("a pattern is empty".to_string()),
            (Some(Step::Gap), _) | (_, Some(Step::Gap)) => Err(format!(
                "the pattern `{text}` starts or ends with `...`; it may only stand between words"
            )),
            _ => Ok(Pattern { steps }),
        }
    }

    pub fn first(&self) -> First<'_> {
        match self.steps.first() {
            Some(Step::Word(word)) => First::Word(word),
            Some(Step::Class(index)) => First::Class(*index),
            Some(Step::Prefix(start)) => First::Prefix(start.chars().next().unwrap_or(' ')),
            // Parsing refuses a leading gap and an empty pattern.
            _ => First::Prefix(' '),
        }
    }

    /// A single word (or prefix): a negator just before it turns it around ("not bad").
    pub fn is_single_word(&self) -> bool {
        matches!(self.steps.as_slice(), [Step::Word(_)] | [Step::Prefix(_)])
    }

    /// Where a match starting at `at` ends (exclusive), if there is one.
    pub fn match_at(&self, words: &[Word], classes: &[WordClasses], at: usize) -> Option<usize> {
        matches(&self.steps, words, classes, at)
    }
}

fn matches(steps: &[Step], words: &[Word], classes: &[WordClasses], at: usize) -> Option<usize> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(at);
    };
    if let Step::Gap = step {
        return (0..=GAP)
            .filter(|skip| at + skip < words.len())
            .find_map(|skip| matches(rest, words, classes, at + skip));
    }
    let word = words.get(at)?;
    let fits = match step {
        Step::Word(expected) => word.text == *expected,
        Step::Prefix(start) => word.text.starts_with(start.as_str()),
        Step::Class(index) => classes.get(at).is_some_and(|set| set & (1 << index) != 0),
        Step::Gap => false,
    };
    if fits {
        matches(rest, words, classes, at + 1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::complaint::tokens::sentences;

    #[test]
    fn patterns_match_words_prefixes_classes_and_gaps() {
        let classes = vec!["time".to_string()];
        let cases = [
            ("still no package", "Still NO package!", true),
            ("still no package", "still no", false),
            ("answer*", "nobody answered", true),
            ("nobody ... answer*", "nobody at the company answers", true),
            (
                "nobody ... answer*",
                "nobody at the big coffee company answers",
                false,
            ),
            ("{time} later", "two weeks later", true),
            ("{time} later", "two days later", false),
            ("hasn't replied", "hasnt replied", true),
        ];
        for (pattern, text, expected) in cases {
            let pattern = Pattern::parse(pattern, &classes).unwrap();
            let words = &sentences(text)[0].words;
            let word_classes: Vec<u64> =
                words.iter().map(|w| u64::from(w.text == "weeks")).collect();
            let found =
                (0..words.len()).any(|at| pattern.match_at(words, &word_classes, at).is_some());
            assert_eq!(found, expected, "{pattern:?} on {text:?}");
        }
    }

    #[test]
    fn bad_patterns_are_refused_with_what_is_wrong() {
        let classes = vec!["time".to_string()];
        for (pattern, says) in [
            ("", "empty"),
            ("... late", "starts or ends"),
            ("{money} back", "{money}"),
            ("!! wow", "no letters"),
        ] {
            let error = Pattern::parse(pattern, &classes).unwrap_err();
            assert!(error.contains(says), "{pattern}: {error}");
        }
    }
}
