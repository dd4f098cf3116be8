//! How long an answer is: the ways networks count an answer's length before they refuse it
//! (each network's folder names its own in its `NetworkTraits`), and @-mentions.

use unicode_segmentation::UnicodeSegmentation;

/// Unicode scalar values: what most networks call characters.
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Grapheme clusters: a flag or a family emoji is one, however many chars.
pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

/// Bytes of UTF-8.
pub fn bytes(text: &str) -> usize {
    text.len()
}

/// How many `@account` mentions `text` holds: an `@` starting a word, followed by a letter,
/// digit, `_` or `.` (Instagram's username characters).
pub fn at_mentions(text: &str) -> usize {
    text.split_whitespace()
        .filter(|word| {
            word.strip_prefix('@')
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::{at_mentions, bytes, chars, graphemes};

    #[test]
    fn at_mentions_count_words_that_name_an_account() {
        assert_eq!(at_mentions("@jane thanks, and @bob_1 too"), 2);
        assert_eq!(at_mentions("mail me at me@acme.com or say @ hi"), 0);
        assert_eq!(at_mentions(""), 0);
    }

    #[test]
    fn the_counts_differ_where_unicode_does() {
        let family = "👨\u{200D}👩\u{200D}👧 e\u{301}";
        assert_eq!(graphemes(family), 3);
        assert_eq!(chars(family), 8);
        assert_eq!(bytes(family), 22);
        let accents = "é".repeat(2_049);
        assert_eq!((chars(&accents), bytes(&accents)), (2_049, 4_098));
    }
}
