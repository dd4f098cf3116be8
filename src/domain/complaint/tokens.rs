//! A post cut into what the detector reads: folded words that remember where they stand in the
//! original text (so a reason can quote the writer), grouped in sentences and clauses (so
//! negation and contrast stay local), and the symbols (emoji, "!!!") found between them.

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

use crate::domain::text::is_invisible;

/// One word of a post: its byte range in the original text (so a reason can quote the
/// writer) and its clause; its folded form (case, accents, width, invisible characters folded as
/// the rules fold them) is [`Tokens::folded`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    /// Which clause of its sentence the word is in (commas, colons and dashes start a new one).
    pub clause: u16,
    /// Written as a name is: a capital, then at least one small letter ("Broken", not "BROKEN"
    /// or "I"). A run of these inside a sentence is a title ("No Reply", "Broken Social Scene").
    pub title: bool,
    /// Where the folded form is in [`Tokens::folds`], when it is not the text itself: most
    /// words of a post are already folded (lower-case ASCII) and are read where they stand.
    fold: Option<(u32, u32)>,
}

/// A word with its folded form, for code that reads a few words (lexicon files, tests).
#[derive(Debug, Clone, PartialEq)]
pub struct FoldedWord {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub clause: u16,
    pub title: bool,
}

/// The words of one sentence, in order.
#[derive(Debug, Default)]
pub struct Sentence {
    pub words: Vec<FoldedWord>,
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
pub(super) fn is_word_char(c: char) -> bool {
    // Most of a post is ASCII, where no character is a combining mark or invisible: spaces and
    // punctuation are answered here without the Unicode table lookups.
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    c.is_alphanumeric() || is_combining_mark(c) || is_invisible(c)
}

/// Folds one run of word characters onto the end of `folds`, if folding changes it; says
/// whether it did.
fn fold(raw: &str, folds: &mut String) -> bool {
    if raw.is_ascii() {
        if raw
            .bytes()
            .all(|b| !b.is_ascii_uppercase() && !is_apostrophe(char::from(b)))
        {
            return false;
        }
        folds.extend(
            raw.bytes()
                .filter(|b| !is_apostrophe(char::from(*b)))
                .map(|b| char::from(b.to_ascii_lowercase())),
        );
        return true;
    }
    folds.extend(
        raw.nfkd()
            .filter(|c| !is_combining_mark(*c) && !is_invisible(*c) && !is_apostrophe(*c))
            .flat_map(char::to_lowercase)
            .filter(|c| c.is_alphanumeric()),
    );
    true
}

/// Where reading `text` stops: [`MAX_BYTES`], on a character boundary.
pub fn read_up_to(text: &str) -> usize {
    let mut cut = text.len().min(MAX_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// The words of a post, all sentences in one list: an allocation for the words, one for the
/// sentences and one for the words that folding changed, however long the post (scoring runs
/// on every mention at ingest).
#[derive(Debug, Default)]
pub struct Tokens<'a> {
    text: &'a str,
    /// The folded forms of the words whose folded form is not their text, one after another.
    folds: String,
    pub words: Vec<Word>,
    /// How many of `words` are [`Word::title`]: a post in Title Case throughout has no titles.
    pub titles: usize,
    /// Each sentence as the range of its words in `words`; none is empty.
    pub sentences: Vec<std::ops::Range<usize>>,
    /// Where a character between words starts with a byte of the set [`read`] was given.
    pub marks: Vec<usize>,
}

/// A set of bytes: the first bytes (UTF-8) of the symbols a lexicon looks for.
#[derive(Debug, Clone, Default)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    pub fn insert(&mut self, byte: u8) {
        self.0[usize::from(byte >> 6)] |= 1 << (byte & 63);
    }

    pub fn contains(&self, byte: u8) -> bool {
        self.0[usize::from(byte >> 6)] & (1 << (byte & 63)) != 0
    }
}

/// The words and sentences of `text` (at most [`MAX_BYTES`] of it), and where a character
/// between words starts with one of `marks`: symbols ("!!!", emoji) are only looked for
/// there, not at every byte of the post.
pub fn read<'a>(text: &'a str, marks: &ByteSet) -> Tokens<'a> {
    let text = &text[..read_up_to(text)];
    let bytes = text.as_bytes();
    // About one word per six bytes of prose: one allocation for most posts.
    let mut tokens = Tokens {
        text,
        folds: String::new(),
        words: Vec::with_capacity(text.len() / 6 + 1),
        titles: 0,
        // A sentence of about 80 bytes, a mark every 100.
        sentences: Vec::with_capacity(text.len() / 80 + 1),
        marks: Vec::new(),
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
        // Handles, links and paths name things, they say nothing: "@glitch" is a project,
        // "/r/x/comments/…_problem_…" a link, and neither is a complaint.
        if let Some(end) = not_prose(text, at, c) {
            at = end;
            continue;
        }
        if is_word_char(c) {
            let (end, plain) = if c.is_ascii() {
                ascii_word_end(text, at)
            } else {
                (word_end(text, at + width), false)
            };
            let from = tokens.folds.len();
            if from == 0 && !plain {
                // Once for the post: every word after this one fits.
                tokens.folds.reserve(text.len() - at);
            }
            let fold = (!plain && fold(&text[at..end], &mut tokens.folds))
                .then_some((from, tokens.folds.len()));
            // Folding may leave nothing ("\u{200B}" alone): not a word.
            if fold.is_none_or(|(from, to)| to > from) {
                // Folded words that are all small letters were never written as a name.
                let title = !plain && is_title(&text[at..end]);
                tokens.titles += usize::from(title);
                tokens.words.push(Word {
                    start: at,
                    end,
                    clause,
                    title,
                    fold: fold.map(|(from, to)| (from as u32, to as u32)),
                });
            }
            at = end;
            continue;
        }
        if marks.contains(bytes[at]) {
            tokens.marks.push(at);
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

impl<'a> Tokens<'a> {
    /// The folded form of `word`, one of [`Tokens::words`].
    pub fn folded(&self, word: &Word) -> &str {
        match word.fold {
            Some((from, to)) => &self.folds[from as usize..to as usize],
            None => &self.text[word.start..word.end],
        }
    }
}

/// Where a handle ("@acme", "@ann@mastodon.social"), a link ("https://…", "www.…") or a path
/// ("/r/coffee/…") that starts at byte `at` ends, if one does.
fn not_prose(text: &str, at: usize, c: char) -> Option<usize> {
    let bytes = text.as_bytes();
    let before = at.checked_sub(1).map(|b| bytes[b]);
    let handle = before == Some(b'@') && is_word_char(c);
    let link = matches!(c, 'h' | 'H' | 'w' | 'W') && {
        let head = &bytes[at..bytes.len().min(at + 8)];
        let lower = |prefix: &[u8]| {
            head.len() >= prefix.len() && head[..prefix.len()].eq_ignore_ascii_case(prefix)
        };
        lower(b"https://") || lower(b"http://") || lower(b"www.")
    };
    let path = c == '/'
        && before.is_none_or(|b| b.is_ascii_whitespace() || b == b'(')
        && bytes.get(at + 1).is_some_and(u8::is_ascii_alphanumeric);
    if !(handle || link || path) {
        return None;
    }
    // A link or a path runs to the next space; a handle over its name's characters, dots and
    // at-signs included ("@ann@mastodon.social", "@british_airways").
    let mut end = at;
    while end < bytes.len() {
        let (c, width) = char_at(text, end);
        let goes_on = if handle {
            is_word_char(c)
                || c == '_'
                || (matches!(c, '.' | '@' | '-')
                    && text[end + width..].chars().next().is_some_and(is_word_char))
        } else {
            !c.is_whitespace()
        };
        if !goes_on {
            break;
        }
        end += width;
    }
    Some(end)
}

/// A capital, then at least one small letter.
fn is_title(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(char::is_uppercase) && chars.any(char::is_lowercase)
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

/// Where the word that starts with the ASCII letter or digit at byte `at` ends, and whether it
/// is already folded (lower-case ASCII letters and digits only): most words of a post, read a
/// byte at a time without decoding; anything else is left to [`word_end`] and [`fold`].
fn ascii_word_end(text: &str, at: usize) -> (usize, bool) {
    let bytes = text.as_bytes();
    let mut end = at;
    let mut plain = true;
    while let Some(&byte) = bytes.get(end) {
        if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
            end += 1;
        } else if byte.is_ascii_uppercase() {
            plain = false;
            end += 1;
        } else if byte.is_ascii() && !is_apostrophe(char::from(byte)) {
            break;
        } else {
            // An apostrophe, or a character beyond ASCII: the general rule from here.
            return (word_end(text, end), false);
        }
    }
    (end, plain)
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
pub fn sentences(text: &str) -> Vec<Sentence> {
    let tokens = read(text, &ByteSet::default());
    tokens
        .sentences
        .iter()
        .map(|range| Sentence {
            words: tokens.words[range.clone()]
                .iter()
                .map(|word| FoldedWord {
                    text: tokens.folded(word).to_string(),
                    start: word.start,
                    end: word.end,
                    clause: word.clause,
                    title: word.title,
                })
                .collect(),
        })
        .collect()
}

/// The folded words of a pattern or a list entry, read exactly as post text is.
pub fn folded_words(text: &str) -> Vec<String> {
    sentences(text)
        .into_iter()
        .flat_map(|sentence| sentence.words.into_iter().map(|word| word.text))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(text: &str) -> Vec<Vec<(String, u16)>> {
        sentences(text)
            .into_iter()
            .map(|s| s.words.into_iter().map(|w| (w.text, w.clause)).collect())
            .collect()
    }

    #[test]
    fn words_fold_and_keep_their_place() {
        let text = "Ácmé doesn’t answer, ＡＣＭＥ ac\u{200B}me!";
        let sentence = &sentences(text)[0];
        let folded: Vec<&str> = sentence.words.iter().map(|w| w.text.as_str()).collect();
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
