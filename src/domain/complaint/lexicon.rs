//! One lexicon file as a team writes it, and the compiled form the detector reads.
//!
//! A file holds any of: `negators`, `contrasts` and `conditionals` (words), `[classes]` (named word lists for
//! patterns), `[[complaint]]`, `[[praise]]` and `[[resolved]]` signals (a reason, a weight,
//! patterns and symbols), and `[terms]` (a word or phrase = its weight; the term is its own reason). The main
//! file adds the threshold and names the language files.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::pattern::{Known, Patterns};
use super::tokens::{folded_words, is_word_char, ByteSet};
use super::vocabulary::Vocabulary;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    // Only in the main file.
    pub complaint_at: Option<f32>,
    pub question: Option<f32>,
    pub negation_window: Option<usize>,
    pub languages: Option<BTreeMap<String, String>>,
    pub fallback: Option<Vec<String>>,
    // In any file.
    #[serde(default)]
    pub negators: Vec<String>,
    #[serde(default)]
    pub contrasts: Vec<String>,
    /// Words that open a hypothetical clause ("if your lid leaks, …"): what that clause says
    /// counts half.
    #[serde(default)]
    pub conditionals: Vec<String>,
    #[serde(default)]
    pub classes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub complaint: Vec<RawSignal>,
    #[serde(default)]
    pub praise: Vec<RawSignal>,
    /// Praise that a problem was put right: it stands even beside that problem.
    #[serde(default)]
    pub resolved: Vec<RawSignal>,
    #[serde(default)]
    pub terms: BTreeMap<String, f32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSignal {
    /// What the card says when this fires ("no reply"); praise needs none.
    #[serde(default)]
    pub reason: Option<String>,
    pub weight: f32,
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Matched anywhere in the raw text: emoji, "!!!".
    #[serde(default)]
    pub symbols: Vec<String>,
}

impl RawFile {
    pub fn parse(text: &str) -> Result<RawFile, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    /// Where a language file holds a key only the main file may hold.
    pub fn main_only_key(&self) -> Option<&'static str> {
        [
            ("complaint_at", self.complaint_at.is_some()),
            ("question", self.question.is_some()),
            ("negation_window", self.negation_window.is_some()),
            ("languages", self.languages.is_some()),
            ("fallback", self.fallback.is_some()),
        ]
        .into_iter()
        .find_map(|(key, set)| set.then_some(key))
    }
}

/// A signal: what fired, and how much it says about a complaint (negative for praise).
#[derive(Debug, Clone)]
pub struct Signal {
    pub reason: String,
    pub weight: f32,
    /// Not read as sarcasm beside a complaint ("had an issue, they fixed it").
    pub stands: bool,
}

/// Several files merged and compiled for one language (the shared file plus the language's).
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    pub signals: Vec<Signal>,
    /// Every pattern of every signal, each naming its signal by index in `signals`.
    pub patterns: Patterns,
    /// Every word the files name, with its classes and whether it negates or contrasts.
    pub vocabulary: Vocabulary,
    /// (symbol, its signal)
    pub symbols: Vec<(String, usize)>,
    /// The first bytes of the symbols (UTF-8): the tokenizer notes where a character between
    /// words starts with one, and symbols are only looked for there. A first byte is never a
    /// continuation byte, so a match is always on a character boundary.
    pub symbol_starts: ByteSet,
    /// The `num` class's bit: digits belong to it without being listed.
    pub num_class: Option<u8>,
}

impl Compiled {
    /// Compiles `files` (named, for error messages) into one lexicon.
    pub fn build(files: &[(&str, &RawFile)]) -> Result<Compiled, String> {
        let mut class_names: Vec<String> = Vec::new();
        let mut class_words: Vec<Vec<String>> = Vec::new();
        for (_, file) in files {
            for (name, words) in &file.classes {
                let index = match class_names.iter().position(|n| n == name) {
                    Some(index) => index,
                    None => {
                        class_names.push(name.clone());
                        class_words.push(Vec::new());
                        class_names.len() - 1
                    }
                };
                class_words[index].extend(words.iter().cloned());
            }
        }
        if class_names.len() > 64 {
            return Err(format!(
                "{} classes are defined; at most 64 are supported",
                class_names.len()
            ));
        }
        let mut compiled = Compiled::default();
        for (index, words) in class_words.iter().enumerate() {
            for word in words {
                let folded = single_word(word).ok_or_else(|| {
                    format!(
                        "the class `{}` lists `{word}`: a class holds single words",
                        class_names[index]
                    )
                })?;
                compiled.vocabulary.entry_mut(&folded).classes |= 1 << index;
            }
        }
        compiled.num_class = class_names
            .iter()
            .position(|n| n == "num")
            .map(|index| index as u8);
        for (name, file) in files {
            let context = |error: String| format!("{name}: {error}");
            for (list, name) in [
                (&file.negators, "negators"),
                (&file.contrasts, "contrasts"),
                (&file.conditionals, "conditionals"),
            ] {
                for word in list {
                    let folded = single_word(word).ok_or_else(|| {
                        context(format!("`{word}` in {name} is not a single word"))
                    })?;
                    let entry = compiled.vocabulary.entry_mut(&folded);
                    match name {
                        "negators" => entry.negator = true,
                        "contrasts" => entry.contrast = true,
                        _ => entry.conditional = true,
                    }
                }
            }
            for (signals, sign, stands) in [
                (&file.complaint, 1.0, false),
                (&file.praise, -1.0, false),
                (&file.resolved, -1.0, true),
            ] {
                for raw in signals {
                    if !(raw.weight.is_finite() && raw.weight > 0.0) {
                        return Err(context(format!(
                            "a weight must be a number above 0 (praise counts against a complaint by itself), not {}",
                            raw.weight
                        )));
                    }
                    if raw.patterns.is_empty() && raw.symbols.is_empty() {
                        return Err(context(format!(
                            "the signal `{}` has no patterns and no symbols",
                            raw.reason.as_deref().unwrap_or("(praise)")
                        )));
                    }
                    let reason = match (&raw.reason, sign > 0.0) {
                        (Some(reason), _) if !reason.trim().is_empty() => reason.clone(),
                        (_, false) => "praise".to_string(),
                        (_, true) => {
                            return Err(context(format!(
                                "a complaint signal needs a `reason` (what the card says); the one with `{}` has none",
                                raw.patterns.first().or(raw.symbols.first()).map_or("", String::as_str)
                            )))
                        }
                    };
                    compiled
                        .add(
                            Signal {
                                reason,
                                weight: sign * raw.weight,
                                stands,
                            },
                            &raw.patterns,
                            &raw.symbols,
                            &class_names,
                        )
                        .map_err(context)?;
                }
            }
            for (term, weight) in &file.terms {
                if !weight.is_finite() {
                    return Err(context(format!("the term `{term}` has no usable weight")));
                }
                compiled
                    .add(
                        Signal {
                            reason: term.clone(),
                            weight: *weight,
                            stands: false,
                        },
                        std::slice::from_ref(term),
                        &[],
                        &class_names,
                    )
                    .map_err(context)?;
            }
        }
        if let Some(bit) = compiled.num_class {
            let digits: Vec<String> = compiled
                .vocabulary
                .words()
                .filter(|(word, _)| word.bytes().all(|b| b.is_ascii_digit()))
                .map(|(word, _)| word.to_string())
                .collect();
            for word in digits {
                compiled.vocabulary.entry_mut(&word).classes |= 1 << bit;
            }
        }
        compiled
            .patterns
            .finish(&compiled.vocabulary, compiled.num_class);
        Ok(compiled)
    }

    fn add(
        &mut self,
        signal: Signal,
        patterns: &[String],
        symbols: &[String],
        class_names: &[String],
    ) -> Result<(), String> {
        let index = self.signals.len();
        self.signals.push(signal);
        for text in patterns {
            self.patterns
                .add(text, class_names, &mut self.vocabulary, index)?;
        }
        for symbol in symbols {
            let Some(first) = symbol.chars().next().filter(|c| !c.is_whitespace()) else {
                return Err(format!(
                    "the symbol `{symbol}` is empty or starts with a space; a symbol is what stands between words, such as \"!!!\" or an emoji"
                ));
            };
            if is_word_char(first) {
                return Err(format!(
                    "the symbol `{symbol}` starts with a letter or digit; symbols are looked for between words, so write it as a pattern"
                ));
            }
            self.symbols.push((symbol.clone(), index));
            self.symbol_starts.insert(symbol.as_bytes()[0]);
        }
        Ok(())
    }

    /// What the lexicon knows of a folded word of a post.
    pub fn know<'t>(&self, word: &'t str) -> Known<'t> {
        let id = self.vocabulary.id(word);
        self.patterns
            .know(word, id, self.vocabulary.entry(id), self.num_class)
    }
}

fn single_word(text: &str) -> Option<String> {
    let mut words = folded_words(text);
    (words.len() == 1).then(|| words.remove(0))
}
