//! A post cut into what the detector reads: folded words that remember where they stand in the
//! original text (so a reason can quote the writer), grouped in sentences and clauses (so
//! negation and contrast stay local), and the symbols (emoji, "!!!") found between them.

use std::borrow::Cow;

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

use crate::domain::text::is_invisible;

/// One word: folded as the rules fold it (case, accents, width, invisible characters), with its
/// byte range in the original text.
/// Most words of a post are already folded (lower-case ASCII): those borrow the post's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Word<'a> {
    pub text: Cow<'a, str>,
    pub start: usize,
    pub end: usize,
    /// Which clause of its sentence the word is in (commas, colons and dashes start a new one).
    pub clause: u16,
}

/// The words of one sentence, in order.
#[derive(Debug, Default)]
pub struct Sentence<'a> {
    pub words: Vec<Word<'a>>,
}

/// Sentences end at these; a clause ends at a sentence end or at one of `CLAUSE_ENDS`.
const SENTENCE_ENDS: &[char] = &['.', '!', '?', ';', '\n', '…', '。'];
const CLAUSE_ENDS: &[char] = &[',', ':', '(', ')', '"', '“', '”', '—', '–', '/'];

/// Posts longer than this are read up to here: a complaint says so early, and the cost per
/// mention stays bounded whatever a network sends.
pub const MAX_BYTES: usize = 4_000;

/// Apostrophes inside a word are dropped, so "doesn't", "doesn’t" and "doesnt" read alike, as
/// do "DM's" and "DMs".
fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`')
}

#[inline]
fn is_word_char(c: char) -> bool {
    // Most of a post is ASCII, where no character is a combining mark or invisible: spaces and
    // punctuation are answered here without the Unicode table lookups.
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    c.is_alphanumeric() || is_combining_mark(c) || is_invisible(c)
}

/// Folds one run of word characters.
fn fold(raw: &str) -> Cow<'_, str> {
    if raw.is_ascii() {
        if raw
            .bytes()
            .all(|b| !b.is_ascii_uppercase() && !is_apostrophe(char::from(b)))
        {
            return Cow::Borrowed(raw);
        }
        let mut folded = String::with_capacity(raw.len());
        folded.extend(
            raw.bytes()
                .filter(|b| !is_apostrophe(char::from(*b)))
                .map(|b| char::from(b.to_ascii_lowercase())),
        );
        return Cow::Owned(folded);
    }
    Cow::Owned(
        raw.nfkd()
            .filter(|c| !is_combining_mark(*c) && !is_invisible(*c) && !is_apostrophe(*c))
            .flat_map(char::to_lowercase)
            .filter(|c| c.is_alphanumeric())
            .collect(),
    )
}

/// Where reading `text` stops: [`MAX_BYTES`], on a character boundary.
pub fn read_up_to(text: &str) -> usize {
    let mut cut = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// The words of a post, all sentences in one list: one allocation for the words and one for
/// the sentences, however long the post (scoring runs on every mention at ingest).
#[derive(Debug, Default)]
pub struct Tokens<'a> {
    pub words: Vec<Word<'a>>,
    /// Each sentence as the range of its words in `words`; none is empty.
    pub sentences: Vec<std::ops::Range<usize>>,
}

/// The words and sentences of `text` (at most [`MAX_BYTES`] of it).
pub fn read(text: &str) -> Tokens<'_> {
    let text = &text[..read_up_to(text)];
    let bytes = text.as_bytes();
    // About one word per six bytes of prose: one allocation for most posts.
    let mut tokens = Tokens {
        words: Vec::with_capacity(text.len() / 6 + 1),
        sentences: Vec::new(),
    };
    let mut sentence_start = 0;
    let mut clause = 0u16;
    let mut at = 0;
    // Byte by byte where the text is ASCII (most of a post), a character at a time elsewhere.
    while at < bytes.len() {
        // Spaces, the most common byte between words, end nothing.
        if bytes[at] == b' ' {
            at += 1;
            continue;
        }
        let (c, width) = char_at(text, at);
        if is_word_char(c) {
            let end = word_end(text, at + width);
            let folded = fold(&text[at..end]);
            if !folded.is_empty() {
                tokens.words.push(Word {
                    text: folded,
                    start: at,
                    end,
                    clause,
                });
            }
            at = end;
            continue;
        }
        // "7.99" and "6,95" are one number, not two sentences or clauses.
        let digit_around = matches!(c, '.' | ',')
            && at > 0
            && bytes[at - 1].is_ascii_digit()
            && bytes.get(at + 1).is_some_and(u8::is_ascii_digit);
        if SENTENCE_ENDS.contains(&c) {
            if !(digit_around && c == '.') && tokens.words.len() > sentence_start {
                tokens.sentences.push(sentence_start..tokens.words.len());
                sentence_start = tokens.words.len();
                clause = 0;
            }
        } else if CLAUSE_ENDS.contains(&c) && !(digit_around && c == ',') {
            clause = clause.saturating_add(1);
        }
        at += width;
    }
    if tokens.words.len() > sentence_start {
        tokens.sentences.push(sentence_start..tokens.words.len());
    }
    tokens
}

/// The character at byte `at` (a character boundary) and its width in bytes.
fn char_at(text: &str, at: usize) -> (char, usize) {
    match text.as_bytes()[at] {
        byte if byte.is_ascii() => (char::from(byte), 1),
        // Not ASCII: decode it (`at` is a boundary, so there is a character).
        _ => text[at..]
            .chars()
            .next()
            .map_or((char::REPLACEMENT_CHARACTER, 1), |c| (c, c.len_utf8())),
    }
}

/// Where the word that goes on at byte `at` ends: past its word characters, and past an
/// apostrophe with a letter or digit after it ("doesn't").
fn word_end(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    while at < bytes.len() {
        if bytes[at].is_ascii_alphanumeric() {
            at += 1;
            continue;
        }
        let (c, width) = char_at(text, at);
        let joins = is_apostrophe(c)
            && text[at + width..]
                .chars()
                .next()
                .is_some_and(char::is_alphanumeric);
        if !(is_word_char(c) || joins) {
            break;
        }
        at += width;
    }
    at
}

/// The sentences of `text` (at most [`MAX_BYTES`] of it), each with its own words.
pub fn sentences(text: &str) -> Vec<Sentence<'_>> {
    let Tokens { words, sentences } = read(text);
    let mut words = words.into_iter();
    sentences
        .into_iter()
        .map(|range| Sentence {
            words: words.by_ref().take(range.len()).collect(),
        })
        .collect()
}

/// The folded words of a pattern or a list entry, read exactly as post text is.
pub fn folded_words(text: &str) -> Vec<String> {
    sentences(text)
        .into_iter()
        .flat_map(|sentence| {
            sentence
                .words
                .into_iter()
                .map(|word| word.text.into_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> Vec<Vec<(String, u16)>> {
        sentences(text)
            .into_iter()
            .map(|s| {
                s.words
                    .into_iter()
                    .map(|w| (w.text.into_owned(), w.clause))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn words_fold_and_keep_their_place() {
        let text = "Ácmé doesn’t answer, ＡＣＭＥ ac\u{200B}me!";
        let sentence = &sentences(text)[0];
        let folded: Vec<&str> = sentence.words.iter().map(|w| w.text.as_ref()).collect();
        assert_eq!(folded, ["acme", "doesnt", "answer", "acme", "acme"]);
        assert_eq!(
            &text[sentence.words[1].start..sentence.words[2].end],
            "doesn’t answer"
        );
    }

    #[test]
    fn sentences_and_clauses_split_on_punctuation_but_not_inside_numbers() {
        type Shape<'a> = Vec<Vec<(&'a str, u16)>>;
        let cases: &[(&str, Shape)] = &[
            (
                "Nice box, but broken. Again!",
                vec![
                    vec![("nice", 0), ("box", 0), ("but", 1), ("broken", 1)],
                    vec![("again", 0)],
                ],
            ),
            (
                "charged $7.99 and €6,95",
                vec![vec![
                    ("charged", 0),
                    ("7", 0),
                    ("99", 0),
                    ("and", 0),
                    ("6", 0),
                    ("95", 0),
                ]],
            ),
            ("...", vec![]),
            ("", vec![]),
            ("it's DM's", vec![vec![("its", 0), ("dms", 0)]]),
        ];
        for (text, expected) in cases {
            let expected: Vec<Vec<(String, u16)>> = expected
                .iter()
                .map(|s| s.iter().map(|(w, c)| (w.to_string(), *c)).collect())
                .collect();
            assert_eq!(shape(text), expected, "{text:?}");
        }
    }

    #[test]
    fn very_long_posts_are_read_up_to_the_limit_on_a_char_boundary() {
        let text = "é".repeat(MAX_BYTES);
        let words: usize = sentences(&text).iter().map(|s| s.words.len()).sum();
        assert_eq!(words, 1);
        assert!(sentences(&text)[0].words[0].end <= MAX_BYTES);
    }
}
