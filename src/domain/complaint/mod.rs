//! Complaint detection a person can follow: patterns per language, read with negation
//! ("not bad"), contrast ("nice box, but it arrived broken") and sarcasm ("thanks for nothing",
//! praise beside a complaint), and a flag that quotes the phrases that fired.
//!
//! The lexicons are data (`bot-config/priority-*.toml`); this module only reads them. How a
//! post is scored, sentence by sentence:
//! 1. every pattern that matches is a hit: a complaint signal adds its weight, praise subtracts;
//! 2. a single word with a negator at most `negation_window` words before it, in the same
//!    clause, is turned around: a negated complaint word counts as mild praise ("not bad"),
//!    negated praise as a complaint ("not happy");
//! 3. before a contrast word ("but", "maar"), praise is conceded (0) and complaints count half:
//!    what follows the "but" is the point;
//! 4. praise in the same part of a sentence as a complaint is taken as sarcasm and ignored
//!    ("love paying for express and getting it a week later").
//!
//! The post is a likely complaint when the sum reaches `complaint_at`.

mod language;
pub mod lexicon;
mod pattern;
pub mod tokens;
mod vocabulary;

use std::collections::BTreeMap;

pub use language::Choice;
use lexicon::{Compiled, RawFile};
use pattern::{Known, Sentence};

use crate::domain::priority::Priority;

/// A quote on a card is cut here, so that a long match cannot crowd out the post.
const QUOTE_CHARS: usize = 40;

#[derive(Debug, Clone)]
pub struct Lexicon {
    complaint_at: f32,
    question: f32,
    negation_window: usize,
    /// (ISO 639-1 code, the shared signals plus that language's)
    languages: Vec<(String, Compiled)>,
    /// For a post in a language without a lexicon: the shared signals and the fallback
    /// languages' (English loan words travel).
    fallback: Compiled,
    /// For a post whose language is unclear (short, mixed): every lexicon at once.
    mixed: Compiled,
}

/// One hit in a sentence: a signal, where it matched, and what it counts for.
struct Hit {
    signal: usize,
    start: usize,
    end: usize,
    value: f32,
    /// Negated praise is a complaint under its own name ("not happy").
    negated: bool,
    before_contrast: bool,
}

impl Lexicon {
    /// Reads the main lexicon file; `read` fetches each language file it names, by name.
    pub fn load(
        main: &str,
        read: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Lexicon, String> {
        let shared = RawFile::parse(main)?;
        let complaint_at = shared.complaint_at.ok_or(
            "complaint_at is missing: the score at which a mention is flagged (3 in the shipped lexicon)",
        )?;
        if !(complaint_at.is_finite() && complaint_at > 0.0) {
            return Err(format!(
                "complaint_at must be above 0, or every mention is a complaint; it is {complaint_at}"
            ));
        }
        let mut files: BTreeMap<String, RawFile> = BTreeMap::new();
        for (code, name) in shared.languages.iter().flatten() {
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(format!(
                    "languages: `{code}` is not a two-letter ISO 639-1 code such as en or nl"
                ));
            }
            let text = read(name)?;
            let file = RawFile::parse(&text).map_err(|error| format!("{name}: {error}"))?;
            if let Some(key) = file.main_only_key() {
                return Err(format!(
                    "{name}: `{key}` belongs in the main lexicon, not in a language's file"
                ));
            }
            files.insert(code.clone(), file);
        }
        let fallback_codes = shared.fallback.clone().unwrap_or_default();
        for code in &fallback_codes {
            if !files.contains_key(code) {
                return Err(format!(
                    "fallback names `{code}`, which is not one of the languages ({})",
                    files.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        let build = |codes: &[&String]| {
            let mut chosen = vec![("the main lexicon", &shared)];
            chosen.extend(
                codes
                    .iter()
                    .filter_map(|code| files.get_key_value(*code))
                    .map(|(_, file)| ("a language file", file)),
            );
            Compiled::build(&chosen)
        };
        let mut languages = Vec::new();
        for code in files.keys() {
            let name = shared
                .languages
                .as_ref()
                .and_then(|names| names.get(code))
                .map_or(code.as_str(), String::as_str);
            let compiled =
                build(&[code]).map_err(|error| error.replace("a language file", name))?;
            languages.push((code.clone(), compiled));
        }
        let fallback = build(&fallback_codes.iter().collect::<Vec<_>>())?;
        let mixed = build(&files.keys().collect::<Vec<_>>())?;
        Ok(Lexicon {
            complaint_at,
            question: shared.question.unwrap_or(0.0),
            negation_window: shared.negation_window.unwrap_or(3),
            languages,
            fallback,
            mixed,
        })
    }

    /// A lexicon that never flags: what is left if the shipped one could not be read.
    pub fn flags_nothing() -> Lexicon {
        Lexicon {
            complaint_at: f32::INFINITY,
            question: 0.0,
            negation_window: 0,
            languages: Vec::new(),
            fallback: Compiled::default(),
            mixed: Compiled::default(),
        }
    }

    /// A self-contained lexicon: one file that names no language files.
    pub fn parse(text: &str) -> Result<Lexicon, String> {
        Lexicon::load(text, |name| {
            Err(format!("{name}: this lexicon cannot name other files"))
        })
    }

    /// Which lexicon a post is read with: the network's tag first, else the text's language.
    pub fn choose(&self, text: &str, tag: Option<&str>) -> Choice {
        language::choose(text, tag, |code| {
            self.languages.iter().position(|(known, _)| known == code)
        })
    }

    fn compiled(&self, choice: &Choice) -> &Compiled {
        match choice {
            Choice::Language(index) => self
                .languages
                .get(*index)
                .map_or(&self.mixed, |(_, compiled)| compiled),
            Choice::Fallback => &self.fallback,
            Choice::Mixed => &self.mixed,
        }
    }

    /// Scores a post; `tag` is the language the network gives it, if any ("en", "nl-BE").
    pub fn score(&self, text: &str, tag: Option<&str>) -> Priority {
        // Nothing can fire (the lexicon that flags nothing): not worth reading the post.
        if self.languages.is_empty() && self.fallback.signals.is_empty() && self.question <= 0.0 {
            return Priority::default();
        }
        let lexicon = self.compiled(&self.choose(text, tag));
        let mut total = 0.0f32;
        let mut reasons = Reasons::default();
        let tokens = tokens::read(text, &lexicon.symbol_starts);
        let words = &tokens.words;
        // One vocabulary lookup per word, for the whole post: from here on a word is its id.
        let known: Vec<Known> = words
            .iter()
            .map(|word| lexicon.know(tokens.folded(word)))
            .collect();
        // A sentence that opens with a contrast ("But the lids leak.") makes everything before
        // it the concession.
        let last_turn = tokens
            .sentences
            .iter()
            .rposition(|sentence| known[sentence.start].contrast);
        // Title Case throughout ("Still No Reply From Acme") is a style, not a run of titles.
        let titles = tokens.titles * 5 < words.len() * 3;
        let mut hits: Vec<Hit> = Vec::with_capacity(16);
        for (index, sentence) in tokens.sentences.iter().enumerate() {
            let first = hits.len();
            self.hits(
                lexicon,
                &Sentence {
                    words: &words[sentence.clone()],
                    known: &known[sentence.clone()],
                },
                titles,
                &mut hits,
            );
            for hit in &mut hits[first..] {
                if last_turn.is_some_and(|turn| index < turn) {
                    hit.value = if hit.value > 0.0 {
                        hit.value / 2.0
                    } else {
                        0.0
                    };
                }
                hit.start += sentence.start;
                hit.end += sentence.start;
            }
        }
        // Symbols (emoji, "!!!") are looked for where the tokenizer saw a character that may
        // start one; repeated, a symbol counts twice at most ("😡😡😡" is one angry person).
        // Most posts have none, and need no count.
        let mut seen = vec![
            0u8;
            if tokens.marks.is_empty() {
                0
            } else {
                lexicon.symbols.len()
            }
        ];
        // A symbol may start in what is read and end past it.
        let bytes = text.as_bytes();
        for &at in &tokens.marks {
            for (index, (symbol, _)) in lexicon.symbols.iter().enumerate() {
                if seen[index] < 2 && bytes[at..].starts_with(symbol.as_bytes()) {
                    seen[index] += 1;
                }
            }
        }
        // A light sign ("again", "lovely", "!!!") only tips a post that has a heavier one:
        // three of them are chatter ("Great, great news!!!"), not a complaint.
        let heavy = hits
            .iter()
            .any(|hit| hit.value > 0.0 && !self.tips(lexicon, hit.signal))
            || lexicon
                .symbols
                .iter()
                .zip(&seen)
                .any(|((_, signal), count)| *count > 0 && self.heavy(lexicon, *signal));
        let mut complained = false;
        for hit in &hits {
            if hit.value > 0.0 && !heavy && self.tips(lexicon, hit.signal) {
                continue;
            }
            total += hit.value;
            if hit.value > 0.0 {
                complained = true;
                let quote = quote(&text[words[hit.start].start..words[hit.end - 1].end]);
                reasons.note(&lexicon.signals[hit.signal].reason, hit.negated, quote);
            }
        }
        for ((symbol, index), count) in lexicon.symbols.iter().zip(seen) {
            if count == 0 || !heavy && self.tips(lexicon, *index) {
                continue;
            }
            let signal = &lexicon.signals[*index];
            // A friendly emoji does not soften a complaint ("still no package 🙏").
            if signal.weight < 0.0 && complained {
                continue;
            }
            total += signal.weight * f32::from(count);
            if signal.weight > 0.0 {
                reasons.note(&signal.reason, false, symbol.clone());
            }
        }
        if self.question > 0.0 && text.contains('?') {
            total += self.question;
            reasons.note("question", false, "?".to_string());
        }
        let complaint = total >= self.complaint_at;
        Priority {
            score: total.max(0.0).round() as u32,
            complaint,
            reasons: reasons.lines(),
        }
    }

    /// Adds the hits of one sentence to `hits`, its word indexes counted from the sentence's
    /// start; `titles`: whether a run of capitalised words is read as a title.
    fn hits(&self, lexicon: &Compiled, sentence: &Sentence, titles: bool, hits: &mut Vec<Hit>) {
        let first = hits.len();
        // The last contrast word splits the sentence: what follows it is the point.
        let contrast = sentence.known.iter().rposition(|word| word.contrast);
        let patterns = &lexicon.patterns;
        for (at, word) in sentence.known.iter().enumerate() {
            for candidate in patterns.candidates(word) {
                let Some((index, end)) = patterns.match_candidate(candidate, sentence, at) else {
                    continue;
                };
                let negated = patterns.is_single_word(index) && self.negated(sentence, at);
                let signal = patterns.signal(index);
                hits.push(Hit {
                    signal,
                    start: at,
                    end,
                    value: lexicon.signals[signal].weight,
                    negated,
                    before_contrast: contrast.is_some_and(|c| end <= c),
                });
            }
        }
        // A word inside a longer phrase that fired is part of that phrase ("great" in "great
        // job", "working" in "not working"). Kept in place, in order: phrases are never
        // dropped, so the swapped-out words do not change which phrases there are.
        let mut kept = first;
        // A title or a name says nothing about the writer ("No Reply" by The Beatles, "Broken
        // Social Scene", "Bad Bunny"): dropped too.
        for at in first..hits.len() {
            let hit = &hits[at];
            let inside = hit.end - hit.start == 1
                && hits[first..].iter().any(|phrase| {
                    phrase.end - phrase.start > 1
                        && phrase.start <= hit.start
                        && hit.end <= phrase.end
                });
            let name = titles && in_title(sentence, hit.start, hit.end);
            if !(inside || name) {
                hits.swap(kept, at);
                kept += 1;
            }
        }
        hits.truncate(kept);
        let words = sentence;
        let sentence = &mut hits[first..];
        for hit in sentence.iter_mut() {
            if hit.negated {
                hit.value = if hit.value > 0.0 { -1.0 } else { -hit.value };
            }
            // "If your machine makes a grinding noise, check the hopper": a tip, not a fault.
            if hypothetical(words, hit.start) {
                hit.value /= 2.0;
            }
            if hit.before_contrast {
                hit.value = if hit.value > 0.0 {
                    hit.value / 2.0
                } else {
                    0.0
                };
            }
        }
        // Praise beside a complaint, on the same side of a contrast, is sarcasm or a
        // pleasantry: the complaint stands. (Which sides of the contrast hold a complaint:
        // after it, before it.)
        let mut complaint_side = [false; 2];
        for hit in sentence
            .iter()
            .filter(|hit| hit.value > 0.0 && !self.tips(lexicon, hit.signal))
        {
            complaint_side[usize::from(hit.before_contrast)] = true;
        }
        for hit in sentence.iter_mut() {
            let stands = lexicon.signals[hit.signal].stands;
            if hit.value < 0.0 && !stands && complaint_side[usize::from(hit.before_contrast)] {
                hit.value = 0.0;
            }
        }
    }

    /// A complaint signal lighter than half the threshold (1, at the shipped 3): it only tips
    /// the balance.
    fn tips(&self, lexicon: &Compiled, signal: usize) -> bool {
        let weight = lexicon.signals[signal].weight;
        weight > 0.0 && weight < self.complaint_at / 2.0
    }

    /// A complaint signal that is more than a tip.
    fn heavy(&self, lexicon: &Compiled, signal: usize) -> bool {
        lexicon.signals[signal].weight >= self.complaint_at / 2.0
    }

    fn negated(&self, sentence: &Sentence, at: usize) -> bool {
        let clause = sentence.words[at].clause;
        let from = at.saturating_sub(self.negation_window);
        (from..at)
            .any(|before| sentence.words[before].clause == clause && sentence.known[before].negator)
    }
}

/// Whether words `start..end` of a sentence are all capitalised and stand in a title: a run
/// of two or more capitalised words in one clause, not at the sentence's start (where any
/// sentence has a capital) unless the run is three words or more.
fn in_title(sentence: &Sentence, start: usize, end: usize) -> bool {
    let words = sentence.words;
    if !words[start..end].iter().all(|word| word.title) {
        return false;
    }
    let clause = words[start].clause;
    let joins = |at: &usize| words[*at].title && words[*at].clause == clause;
    let from = (0..start).rev().take_while(joins).last().unwrap_or(start);
    let to = (end..words.len())
        .take_while(joins)
        .last()
        .map_or(end, |at| at + 1);
    let run = to - from;
    run >= 3 || (run == 2 && from > 0)
}

/// Whether the word at `at` is in a clause that opens with a conditional ("if", "unless"),
/// after it.
fn hypothetical(sentence: &Sentence, at: usize) -> bool {
    let clause = sentence.words[at].clause;
    let opens = (0..at)
        .rev()
        .take_while(|&before| sentence.words[before].clause == clause)
        .last();
    opens.is_some_and(|opens| sentence.known[opens].conditional)
}

/// What fired, in the order found, each with the writer's words it fired on, each quoted once.
#[derive(Default)]
struct Reasons<'l> {
    /// (reason, whether it is negated, quotes)
    found: Vec<(&'l str, bool, Vec<String>)>,
}

impl<'l> Reasons<'l> {
    fn note(&mut self, reason: &'l str, negated: bool, quote: String) {
        match self
            .found
            .iter_mut()
            .find(|(known, not, _)| *known == reason && *not == negated)
        {
            Some((_, _, quotes)) if !quotes.contains(&quote) => quotes.push(quote),
            Some(_) => {}
            None => self.found.push((reason, negated, vec![quote])),
        }
    }

    /// `no reply ("nobody answers", "no reply")`, a line a reason; negated praise is a
    /// complaint under its own name (`not happy ("not happy")`).
    fn lines(self) -> Vec<String> {
        self.found
            .into_iter()
            .map(|(reason, negated, quotes)| {
                let mut line = String::with_capacity(
                    reason.len() + 8 + quotes.iter().map(|q| q.len() + 4).sum::<usize>(),
                );
                if negated {
                    line.push_str("not ");
                }
                line.push_str(reason);
                line.push_str(" (");
                for (index, quote) in quotes.iter().enumerate() {
                    if index > 0 {
                        line.push_str(", ");
                    }
                    line.push('"');
                    line.push_str(quote);
                    line.push('"');
                }
                line.push(')');
                line
            })
            .collect()
    }
}

/// The words of `text` with single spaces between them, cut at [`QUOTE_CHARS`].
fn quote(text: &str) -> String {
    let mut flat = String::with_capacity(text.len().min(4 * QUOTE_CHARS + 4));
    let mut chars = 0;
    for word in text.split_whitespace() {
        if chars > 0 {
            flat.push(' ');
            chars += 1;
        }
        flat.push_str(word);
        chars += word.chars().count();
        if chars > QUOTE_CHARS {
            // Too long: what fits before an ellipsis in the last place.
            let cut = flat
                .char_indices()
                .nth(QUOTE_CHARS - 1)
                .map_or(flat.len(), |(at, _)| at);
            flat.truncate(cut);
            flat.truncate(flat.trim_end().len());
            flat.push('…');
            return flat;
        }
    }
    flat
}

#[cfg(test)]
mod tests;
