//! How long an answer is on X, which counts "weighted" characters (twitter-text,
//! configuration v3): most Latin, Greek, Cyrillic and common punctuation count 1, everything
//! else (CJK, most symbols) counts 2, every link counts 23 whatever its length (X shortens it
//! to t.co), and an emoji counts 2 however many code points it is built from (skin tones, ZWJ
//! families, flags, keycaps).

use unicode_normalization::UnicodeNormalization;

/// What a link counts on X, once shortened to t.co.
const X_LINK_WEIGHT: usize = 23;

/// The weighted length of `text` on X; X refuses more than 280.
pub fn x_weighted_length(text: &str) -> usize {
    // X counts the NFC form: a decomposed "é" is one character there, not two.
    let text: Vec<char> = text.nfc().collect();
    let mut length = 0;
    let mut at = 0;
    while at < text.len() {
        let starts_word = at == 0 || text[at - 1].is_whitespace();
        if starts_word {
            if let Some(end) = link_end(&text, at) {
                length += X_LINK_WEIGHT;
                at = end;
                continue;
            }
        }
        if let Some(end) = emoji_end(&text, at) {
            length += 2;
            at = end;
            continue;
        }
        length += x_char_weight(text[at]);
        at += 1;
    }
    length
}

/// twitter-text's v3 ranges that count 1; the rest counts 2.
fn x_char_weight(c: char) -> usize {
    match u32::from(c) {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

/// Top-level domains X turns into links even without `http://`; the common ones, so that
/// "acme.com" in an answer is counted as the link X makes of it.
const BARE_LINK_TLDS: &[&str] = &[
    "com", "org", "net", "io", "co", "dev", "app", "ai", "me", "info", "biz", "eu", "uk", "de",
    "nl", "fr", "be", "es", "it", "us", "ca", "au", "ly", "gl", "tv", "shop", "store", "blog",
];

/// Where a link starting at `start` ends (exclusive), if one starts there. Trailing
/// punctuation is left out, as X leaves it out of the link.
fn link_end(text: &[char], start: usize) -> Option<usize> {
    let mut end = start;
    while end < text.len() && !text[end].is_whitespace() {
        end += 1;
    }
    while end > start
        && matches!(
            text[end - 1],
            '.' | ',' | '!' | '?' | ';' | ':' | ')' | '"' | '\''
        )
    {
        end -= 1;
    }
    let word: String = text[start..end].iter().collect::<String>().to_lowercase();
    let rest = word
        .strip_prefix("https://")
        .or_else(|| word.strip_prefix("http://"));
    let is_link = match rest {
        Some(rest) => rest.contains(|c: char| c.is_alphanumeric()),
        None => {
            let host = word.split(['/', '?', '#']).next().unwrap_or_default();
            let labels: Vec<&str> = host.split('.').collect();
            labels.len() >= 2
                && labels.iter().all(|label| {
                    !label.is_empty()
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                && labels
                    .last()
                    .is_some_and(|tld| BARE_LINK_TLDS.contains(tld))
        }
    };
    is_link.then_some(end)
}

/// Where an emoji sequence starting at `start` ends (exclusive), if one starts there.
fn emoji_end(text: &[char], start: usize) -> Option<usize> {
    let first = text[start];
    let next = |at: usize| text.get(at).copied();
    // A flag is two regional indicators.
    if is_regional_indicator(first) {
        return Some(if next(start + 1).is_some_and(is_regional_indicator) {
            start + 2
        } else {
            start + 1
        });
    }
    // A keycap: a digit, `#` or `*`, an optional VS16, and U+20E3.
    if first.is_ascii_digit() || first == '#' || first == '*' {
        let mut at = start + 1;
        if next(at) == Some('\u{FE0F}') {
            at += 1;
        }
        return (next(at) == Some('\u{20E3}')).then_some(at + 1);
    }
    let pictographic = is_pictographic(first);
    // A text symbol (©, ™, ↔) is an emoji only when VS16 asks for the emoji form.
    let text_symbol = !pictographic
        && matches!(
            u32::from(first),
            0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x21AA
        )
        && next(start + 1) == Some('\u{FE0F}');
    if !pictographic && !text_symbol {
        return None;
    }
    let mut at = start + 1;
    loop {
        match next(at) {
            // Variation selectors, skin tones, tag sequences (subdivision flags), keycap mark.
            Some(c) if matches!(u32::from(c), 0xFE0E | 0xFE0F | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F | 0x20E3) => {
                at += 1
            }
            // A zero-width joiner glues the next emoji into this one (families, professions).
            Some('\u{200D}') if next(at + 1).is_some_and(is_pictographic) => at += 2,
            _ => return Some(at),
        }
    }
}

fn is_regional_indicator(c: char) -> bool {
    matches!(u32::from(c), 0x1F1E6..=0x1F1FF)
}

/// The blocks emoji are drawn from (a close approximation of Extended_Pictographic).
fn is_pictographic(c: char) -> bool {
    matches!(
        u32::from(c),
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF | 0x3030 | 0x303D | 0x3297 | 0x3299
    )
}

#[cfg(test)]
mod tests {
    use super::x_weighted_length;

    #[test]
    fn x_weighs_text_links_cjk_and_emoji() {
        let cases: &[(&str, usize)] = &[
            ("", 0),
            ("hello", 5),
            ("Ünïcödé Ελληνικά кириллица", 26),
            ("e\u{0301}", 1),
            ("“quotes” — dash’s", 17),
            ("…", 2),
            ("日本語", 6),
            ("안녕", 4),
            ("😀", 2),
            ("👍🏽", 2),
            ("👨\u{200D}👩\u{200D}👧\u{200D}👦", 2),
            ("🇳🇱🇧🇪", 4),
            (
                "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}",
                2,
            ),
            ("❤\u{FE0F}", 2),
            ("1\u{FE0F}\u{20E3}", 2),
            ("©", 1),
            ("©\u{FE0F}", 2),
            (
                "see https://example.com/a/very/long/path?with=query&and=more now",
                31,
            ),
            ("(see https://a.example/x).", 5 + 23 + 2),
            ("visit acme.com, today", 6 + 23 + 7),
            ("e.g. and so on", 14),
            ("http:// alone", 13),
            ("1 2 3", 5),
        ];
        for (text, expected) in cases {
            assert_eq!(x_weighted_length(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn x_limit_edges() {
        assert_eq!(x_weighted_length(&"a".repeat(280)), 280);
        assert_eq!(x_weighted_length(&"語".repeat(140)), 280);
        assert_eq!(x_weighted_length(&format!("{}😀", "a".repeat(278))), 280);
        assert_eq!(x_weighted_length(&format!("{}😀", "a".repeat(279))), 281);
    }
}
