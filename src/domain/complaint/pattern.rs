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
use super::vocabulary::{Entry, Vocabulary, WordId};

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

/// A word of a post as the patterns read it: its id in the vocabulary, its classes, what else
/// the lexicon says of it, and the list of the patterns that may start at it.
#[derive(Debug, Clone, Copy)]
pub struct Known<'t> {
    /// The word, folded.
    pub text: &'t str,
    pub id: WordId,
    pub classes: WordClasses,
    pub negator: bool,
    pub contrast: bool,
    pub conditional: bool,
    /// A range of [`Patterns::starts`].
    starts: (u32, u32),
}

/// A pattern that may start at a word, with its second step: most candidates fail there, and
/// it is checked before the pattern's steps are read.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    pattern: u32,
    /// None for a single word, or a gap.
    second: Option<Step>,
}

/// A sentence as patterns read it: its words, and what the lexicon knows of each.
pub struct Sentence<'s, 't> {
    pub words: &'s [Word],
    pub known: &'s [Known<'t>],
}

/// Every pattern of a lexicon, compiled; [`Patterns::finish`] groups them once all are added.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    steps: Vec<Step>,
    prefixes: Vec<String>,
    /// Grouped by how they start; within a group, in the order the files list them (the
    /// order hits are found in, which decides the order of the reasons on a card).
    patterns: Vec<Pattern>,
    /// Lists of patterns, by index, each the patterns that may start at one kind of word, in
    /// the order they are tried: those that start with the word, then with each of its classes
    /// (lowest bit first), then with a prefix. A word of the vocabulary has its own list,
    /// worked out at load (its prefixes are only those it starts with); a word the lexicon
    /// does not name shares the list of its first character (and of `num`, for digits).
    starts: Vec<Candidate>,
    /// The list of each word id.
    by_word: Vec<(u32, u32)>,
    /// The lists of unknown words, by their first character: ASCII, then the rest.
    unknown_ascii: Vec<(u32, u32)>,
    unknown_other: FxHashMap<char, (u32, u32)>,
    /// The lists of unknown words of digits only, by their first digit.
    unknown_digits: Vec<(u32, u32)>,
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

    /// Works out, once all patterns are added, which patterns may start at each word;
    /// `vocabulary` is final, `num` the class digits belong to.
    pub fn finish(&mut self, vocabulary: &Vocabulary, num: Option<u8>) {
        let Groups {
            by_word,
            by_class,
            by_prefix,
        } = self.group();
        let prefix_group = |initial: Option<char>| {
            initial
                .and_then(|initial| by_prefix.get(&initial).copied())
                .unwrap_or((0, 0))
        };
        let mut lists: FxHashMap<Vec<u32>, (u32, u32)> = FxHashMap::default();
        let mut list = |list: Vec<u32>, starts: &mut Vec<u32>| {
            *lists.entry(list).or_insert_with_key(|list| {
                let at = starts.len() as u32;
                starts.extend(list);
                (at, starts.len() as u32)
            })
        };
        let mut starts = Vec::new();
        self.by_word = vec![(0, 0); vocabulary.word_count()];
        for (word, id) in vocabulary.words() {
            let entry = vocabulary.entry(id).cloned().unwrap_or_default();
            let (from, to) = by_word.get(&id).copied().unwrap_or((0, 0));
            let mut patterns: Vec<u32> = (from as u32..to as u32).collect();
            for bit in ClassBits(entry.classes) {
                let (from, to) = by_class[bit];
                patterns.extend(from as u32..to as u32);
            }
            let (from, to) = prefix_group(word.chars().next());
            patterns.extend((from..to).filter_map(|index| {
                let fits = match self.steps(index).first() {
                    Some(Step::Prefix(prefix)) => {
                        word.starts_with(self.prefixes[*prefix as usize].as_str())
                    }
                    _ => false,
                };
                fits.then_some(index as u32)
            }));
            self.by_word[id as usize] = list(patterns, &mut starts);
        }
        let range = |(from, to): (usize, usize)| (from as u32..to as u32).collect::<Vec<u32>>();
        self.unknown_ascii = (0..128u8)
            .map(|byte| list(range(prefix_group(Some(char::from(byte)))), &mut starts))
            .collect();
        self.unknown_other = by_prefix
            .iter()
            .filter(|(initial, _)| !initial.is_ascii())
            .map(|(initial, group)| (*initial, list(range(*group), &mut starts)))
            .collect();
        self.unknown_digits = ('0'..='9')
            .map(|digit| {
                let mut patterns =
                    num.map_or_else(Vec::new, |bit| range(by_class[usize::from(bit)]));
                patterns.extend(range(prefix_group(Some(digit))));
                list(patterns, &mut starts)
            })
            .collect();
        self.starts = starts
            .into_iter()
            .map(|pattern| Candidate {
                pattern,
                second: self
                    .steps(pattern as usize)
                    .get(1)
                    .copied()
                    .filter(|step| *step != Step::Gap),
            })
            .collect();
    }

    /// Sorts the patterns by how they start and says where each group is.
    fn group(&mut self) -> Groups {
        // Stable: within a group, patterns keep the order they were written in.
        self.patterns.sort_by_key(|pattern| pattern.first);
        let mut groups = Groups {
            by_word: FxHashMap::default(),
            by_class: vec![(0, 0); WordClasses::BITS as usize],
            by_prefix: FxHashMap::default(),
        };
        let mut start = 0;
        while start < self.patterns.len() {
            let first = self.patterns[start].first;
            let end = start
                + self.patterns[start..]
                    .iter()
                    .take_while(|pattern| pattern.first == first)
                    .count();
            match first {
                First::Word(id) => _ = groups.by_word.insert(id, (start, end)),
                First::Class(bit) => groups.by_class[usize::from(bit)] = (start, end),
                First::Prefix(initial) => _ = groups.by_prefix.insert(initial, (start, end)),
            }
            start = end;
        }
        groups
    }

    /// How the patterns read the folded word `text`, of id `id` (and `entry`) in the
    /// vocabulary, or unknown to it; `num` is the class of digits.
    pub fn know<'t>(
        &self,
        text: &'t str,
        id: WordId,
        entry: Option<&Entry>,
        num: Option<u8>,
    ) -> Known<'t> {
        if let (Some(entry), Some(&starts)) = (entry, self.by_word.get(id as usize)) {
            return Known {
                text,
                id,
                classes: entry.classes,
                negator: entry.negator,
                contrast: entry.contrast,
                conditional: entry.conditional,
                starts,
            };
        }
        let first = text.as_bytes().first().copied().unwrap_or(0);
        let digits = num.filter(|_| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()));
        let starts = match digits {
            Some(_) => self.unknown_digits.get(usize::from(first - b'0')),
            None if first.is_ascii() => self.unknown_ascii.get(usize::from(first)),
            None => text.chars().next().and_then(|c| self.unknown_other.get(&c)),
        };
        Known {
            text,
            id,
            classes: digits.map_or(0, |bit| 1 << bit),
            negator: false,
            contrast: false,
            conditional: false,
            starts: starts.copied().unwrap_or((0, 0)),
        }
    }

    /// The patterns that may start at `word`, in the order they are tried.
    pub fn candidates(&self, word: &Known) -> &[Candidate] {
        &self.starts[word.starts.0 as usize..word.starts.1 as usize]
    }

    /// Where `candidate`, starting at word `at`, ends (exclusive), if it matches; and which
    /// pattern it is.
    #[inline]
    pub fn match_candidate(
        &self,
        candidate: &Candidate,
        sentence: &Sentence,
        at: usize,
    ) -> Option<(usize, usize)> {
        if let Some(second) = candidate.second {
            if !self.fits(second, sentence, at + 1) {
                return None;
            }
        }
        let index = candidate.pattern as usize;
        self.matches(self.steps(index), sentence, at)
            .map(|end| (index, end))
    }

    /// The signal pattern `index` belongs to.
    pub fn signal(&self, index: usize) -> usize {
        self.patterns[index].signal
    }

    /// A single word (or prefix): a negator just before it turns it around ("not bad").
    pub fn is_single_word(&self, index: usize) -> bool {
        matches!(self.steps(index), [Step::Word(_)] | [Step::Prefix(_)])
    }

    fn steps(&self, index: usize) -> &[Step] {
        let (start, end) = self.patterns[index].steps;
        &self.steps[start as usize..end as usize]
    }

    fn matches(&self, steps: &[Step], sentence: &Sentence, mut at: usize) -> Option<usize> {
        for (index, step) in steps.iter().enumerate() {
            if let Step::Gap = step {
                let rest = &steps[index + 1..];
                return (0..=GAP)
                    .filter(|skip| at + skip < sentence.words.len())
                    .find_map(|skip| self.matches(rest, sentence, at + skip));
            }
            if !self.fits(*step, sentence, at) {
                return None;
            }
            at += 1;
        }
        Some(at)
    }

    /// Whether word `at` of `sentence` is what `step` (not a gap) asks for.
    #[inline]
    fn fits(&self, step: Step, sentence: &Sentence, at: usize) -> bool {
        let Some(word) = sentence.known.get(at) else {
            return false;
        };
        match step {
            Step::Word(id) => word.id == id,
            Step::Prefix(index) => word
                .text
                .starts_with(self.prefixes[index as usize].as_str()),
            Step::Class(bit) => word.classes & (1 << bit) != 0,
            Step::Gap => true,
        }
    }
}

/// Where the patterns that start alike are, once sorted: by their first word, class, or the
/// first character of their prefix.
struct Groups {
    by_word: FxHashMap<WordId, (usize, usize)>,
    by_class: Vec<(usize, usize)>,
    by_prefix: FxHashMap<char, (usize, usize)>,
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
    use crate::domain::complaint::tokens::{read, ByteSet};

    /// Whether `pattern` matches anywhere in `text`, where "weeks" is the only word of the
    /// class `time`.
    fn found(pattern: &str, text: &str) -> bool {
        let classes = vec!["time".to_string()];
        let mut vocabulary = Vocabulary::default();
        vocabulary.entry_mut("weeks").classes = 1;
        let mut patterns = Patterns::default();
        patterns.add(pattern, &classes, &mut vocabulary, 0).unwrap();
        patterns.finish(&vocabulary, None);
        let tokens = read(text, &ByteSet::default());
        let known: Vec<Known> = tokens
            .words
            .iter()
            .map(|word| {
                let text = tokens.folded(word);
                let id = vocabulary.id(text);
                patterns.know(text, id, vocabulary.entry(id), None)
            })
            .collect();
        let sentence = Sentence {
            words: &tokens.words,
            known: &known,
        };
        (0..known.len()).any(|at| {
            patterns
                .candidates(&known[at])
                .iter()
                .any(|candidate| patterns.match_candidate(candidate, &sentence, at).is_some())
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
