//! Patterns a team can read and write: words in order, with a few wildcards.
//!
//! - `word` matches that word (folded: case and accents do not matter);
//! - `word*` matches any word that starts with it (`answer*`: answers, answered);
//! - `{class}` matches any word of a class the lexicon lists (`{time}`: minutes, weeks...);
//!   `{num}` also matches any number written in digits;
//! - `...` skips up to three words (`nobody ... answers`: "nobody at the shop answers").
//!
//! A lexicon's patterns are compiled once, at load, into one table: a step names a word by its
//! id in the vocabulary, and the patterns are grouped by how they start, so each word of a post
//! is tried only against the patterns that can start there, and a match compares numbers.
//! Scoring runs on every mention at ingest, while the store's writes crowd the CPU caches: one
//! table of small steps stays in a few cache lines, where a string per word of each pattern cost
//! a cache miss per word tried.

use rustc_hash::FxHashMap;

use super::tokens::{folded_words, Word};
use super::vocabulary::{Vocabulary, WordId};

/// How many words `...` may skip.
const GAP: usize = 3;

/// The classes a lexicon defines, by name; a class is a bit in [`WordClasses`].
pub type ClassNames = [String];

/// The bit set of classes one word belongs to.
pub type WordClasses = u64;

/// One step of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Word(WordId),
    /// A prefix, by its index in [`Patterns::prefixes`].
    Prefix(u32),
    Class(u8),
    Gap,
}

/// How a pattern starts: the key of its group in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum First {
    Word(WordId),
    Class(u8),
    /// A prefix, by its first character.
    Prefix(char),
}

#[derive(Debug, Clone)]
struct Pattern {
    first: First,
    /// Its range in [`Patterns::steps`].
    steps: (u32, u32),
    signal: usize,
}

/// A sentence as patterns read it: its words, and for each its id in the lexicon's vocabulary
/// and its classes.
pub struct Sentence<'s, 't> {
    pub words: &'s [Word<'t>],
    pub ids: &'s [WordId],
    pub classes: &'s [WordClasses],
}

/// Every pattern of a lexicon, compiled; [`Patterns::finish`] groups them once all are added.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    steps: Vec<Step>,
    prefixes: Vec<String>,
    /// Grouped by how they start; within a group, in the order the files list them (the
    /// order hits are found in, which decides the order of the reasons on a card).
    patterns: Vec<Pattern>,
    /// The group of each word id, of each class bit, and of each prefix's first character.
    by_word: Vec<(u32, u32)>,
    by_class: Vec<(u32, u32)>,
    by_prefix: FxHashMap<char, (u32, u32)>,
    /// The ASCII first characters of `by_prefix`, as bits: most words start with a letter no
    /// prefix starts with, and are answered without a lookup.
    prefix_ascii: u128,
}

impl Patterns {
    /// Parses and adds one pattern of `signal`; its words join `vocabulary`.
    pub fn add(
        &mut self,
        text: &str,
        classes: &ClassNames,
        vocabulary: &mut Vocabulary,
        signal: usize,
    ) -> Result<(), String> {
        let written = parse(text, classes)?;
        let start = self.steps.len() as u32;
        for step in written {
            self.steps.push(match step {
                Written::Word(word) => Step::Word(vocabulary.intern(&word)),
                Written::Prefix(prefix) => {
                    self.prefixes.push(prefix);
                    Step::Prefix(self.prefixes.len() as u32 - 1)
                }
                Written::Class(bit) => Step::Class(bit),
                Written::Gap => Step::Gap,
            });
        }
        let first = match self.steps[start as usize] {
            Step::Word(id) => First::Word(id),
            Step::Class(bit) => First::Class(bit),
            Step::Prefix(index) => {
                First::Prefix(self.prefixes[index as usize].chars().next().unwrap_or(' '))
            }
            // Parsing refuses a leading gap.
            Step::Gap => First::Prefix(' '),
        };
        self.patterns.push(Pattern {
            first,
            steps: (start, self.steps.len() as u32),
            signal,
        });
        Ok(())
    }

    /// Groups the patterns by how they start; `words` is the vocabulary's final size.
    pub fn finish(&mut self, words: usize) {
        // Stable: within a group, patterns keep the order they were written in.
        self.patterns.sort_by_key(|pattern| pattern.first);
        self.by_word = vec![(0, 0); words];
        self.by_class = vec![(0, 0); WordClasses::BITS as usize];
        let mut start = 0;
        while start < self.patterns.len() {
            let first = self.patterns[start].first;
            let end = start
                + self.patterns[start..]
                    .iter()
                    .take_while(|pattern| pattern.first == first)
                    .count();
            let group = (start as u32, end as u32);
            match first {
                First::Word(id) => self.by_word[id as usize] = group,
                First::Class(bit) => self.by_class[usize::from(bit)] = group,
                First::Prefix(initial) => {
                    if initial.is_ascii() {
                        self.prefix_ascii |= 1 << (initial as u32);
                    }
                    self.by_prefix.insert(initial, group);
                }
            }
            start = end;
        }
    }

    /// The patterns that may start at word `at` of `sentence`, by index: those that start
    /// with its word, then with each of its classes (lowest bit first), then with a prefix of
    /// its first character.
    pub fn candidates(&self, sentence: &Sentence, at: usize) -> impl Iterator<Item = usize> + '_ {
        let group = |range: Option<&(u32, u32)>| {
            range.map_or(0..0, |&(start, end)| start as usize..end as usize)
        };
        let by_word = group(self.by_word.get(sentence.ids[at] as usize));
        let by_class =
            ClassBits(sentence.classes[at]).flat_map(move |bit| group(self.by_class.get(bit)));
        let text = &sentence.words[at].text;
        let by_prefix = match text.as_bytes().first() {
            Some(&byte) if byte.is_ascii() && self.prefix_ascii & (1 << byte) == 0 => 0..0,
            _ => text
                .chars()
                .next()
                .map_or(0..0, |initial| group(self.by_prefix.get(&initial))),
        };
        by_word.chain(by_class).chain(by_prefix)
    }

    /// The signal pattern `index` belongs to.
    pub fn signal(&self, index: usize) -> usize {
        self.patterns[index].signal
    }

    /// A single word (or prefix): a negator just before it turns it around ("not bad").
    pub fn is_single_word(&self, index: usize) -> bool {
        matches!(self.steps(index), [Step::Word(_)] | [Step::Prefix(_)])
    }

    /// Where pattern `index` matches, starting at word `at`, ends (exclusive), if it does.
    pub fn match_at(&self, index: usize, sentence: &Sentence, at: usize) -> Option<usize> {
        self.matches(self.steps(index), sentence, at)
    }

    fn steps(&self, index: usize) -> &[Step] {
        let (start, end) = self.patterns[index].steps;
        &self.steps[start as usize..end as usize]
    }

    fn matches(&self, steps: &[Step], sentence: &Sentence, at: usize) -> Option<usize> {
        let Some((step, rest)) = steps.split_first() else {
            return Some(at);
        };
        let words = sentence.words.len();
        if let Step::Gap = step {
            return (0..=GAP)
                .filter(|skip| at + skip < words)
                .find_map(|skip| self.matches(rest, sentence, at + skip));
        }
        if at >= words {
            return None;
        }
        let fits = match *step {
            Step::Word(id) => sentence.ids[at] == id,
            Step::Prefix(index) => sentence.words[at]
                .text
                .starts_with(self.prefixes[index as usize].as_str()),
            Step::Class(bit) => sentence.classes[at] & (1 << bit) != 0,
            Step::Gap => false,
        };
        if fits {
            self.matches(rest, sentence, at + 1)
        } else {
            None
        }
    }
}

/// A step as written, before its words are interned.
enum Written {
    Word(String),
    Prefix(String),
    Class(u8),
    Gap,
}

fn parse(text: &str, classes: &ClassNames) -> Result<Vec<Written>, String> {
    let mut steps = Vec::new();
    for token in text.split_whitespace() {
        if token == "..." {
            steps.push(Written::Gap);
        } else if let Some(name) = token.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            let index = classes.iter().position(|c| c == name).ok_or_else(|| {
                format!(
                    "the pattern `{text}` names the class {{{name}}}, but the lexicon's classes are: {}",
                    classes.join(", ")
                )
            })?;
            steps.push(Written::Class(index as u8));
        } else {
            let prefix = token.ends_with('*');
            let mut words = folded_words(token.trim_end_matches('*'));
            let Some(last) = words.pop() else {
                return Err(format!(
                    "the pattern `{text}` holds `{token}`, which has no letters or digits"
                ));
            };
            steps.extend(words.into_iter().map(Written::Word));
            steps.push(if prefix {
                Written::Prefix(last)
            } else {
                Written::Word(last)
            });
        }
    }
    match (steps.first(), steps.last()) {
        (None, _) => Err("a pattern is empty".to_string()),
        (Some(Written::Gap), _) | (_, Some(Written::Gap)) => Err(format!(
            "the pattern `{text}` starts or ends with `...`; it may only stand between words"
        )),
        _ => Ok(steps),
    }
}

/// The set bits of a word's classes, lowest first.
struct ClassBits(WordClasses);

impl Iterator for ClassBits {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::complaint::tokens::sentences;

    /// Whether `pattern` matches anywhere in `text`, where "weeks" is the only word of the
    /// class `time`.
    fn found(pattern: &str, text: &str) -> bool {
        let classes = vec!["time".to_string()];
        let mut vocabulary = Vocabulary::default();
        let mut patterns = Patterns::default();
        patterns.add(pattern, &classes, &mut vocabulary, 0).unwrap();
        patterns.finish(vocabulary.word_count());
        let words = &sentences(text)[0].words;
        let ids: Vec<WordId> = words.iter().map(|w| vocabulary.id(&w.text)).collect();
        let word_classes: Vec<u64> = words.iter().map(|w| u64::from(w.text == "weeks")).collect();
        let sentence = Sentence {
            words,
            ids: &ids,
            classes: &word_classes,
        };
        (0..words.len()).any(|at| {
            patterns
                .candidates(&sentence, at)
                .any(|index| patterns.match_at(index, &sentence, at).is_some())
        })
    }

    #[test]
    fn patterns_match_words_prefixes_classes_and_gaps() {
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
            assert_eq!(found(pattern, text), expected, "{pattern:?} on {text:?}");
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
            let error = Patterns::default()
                .add(pattern, &classes, &mut Vocabulary::default(), 0)
                .err()
                .unwrap_or_default();
            assert!(error.contains(says), "{pattern}: {error}");
        }
    }
}
