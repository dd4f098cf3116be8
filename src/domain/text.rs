//! Post text as people read it: networks hand us HTML with entities; chats want plain text.

use html2text::render::TrivialDecorator;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Plain text from a fragment of HTML: tags dropped, entities decoded, paragraphs kept as lines.
/// Text without markup passes through with only its whitespace tidied.
pub fn plain_text(html: &str) -> String {
    let rendered = if html.contains(['<', '&']) {
        html2text::config::with_decorator(TrivialDecorator::new())
            .allow_width_overflow()
            .string_from_read(html.as_bytes(), 100_000)
            .unwrap_or_else(|_| html.to_string())
    } else {
        html.to_string()
    };
    tidy(&rendered)
}

/// Collapses runs of spaces inside lines and drops blank lines at the ends and in between pairs.
fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(|last| last.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|last| last.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// Lower-cased words with accents and invisible characters removed.
pub fn words(text: &str) -> Vec<String> {
    if text.is_ascii() {
        // Plain ASCII has nothing to fold but case; skipping the Unicode decomposition makes
        // the common post several times cheaper to match.
        return text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
    }
    unicode_words(text)
}

/// The general case: decompose, drop combining marks and invisible characters, lower-case.
fn unicode_words(text: &str) -> Vec<String> {
    let folded: String = text
        .nfkd()
        .filter(|c| !is_combining_mark(*c) && !is_invisible(*c))
        .flat_map(char::to_lowercase)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Format characters that render as nothing and are used to split a word without it showing.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::{plain_text, unicode_words, words};

    #[test]
    fn the_ascii_fast_path_folds_like_the_general_one() {
        for text in [
            "Acme's NEW lids leak!!",
            "@acme #AcmeCoffee http://x.example/a?b=c",
            "tabs\tand\nlines, 42 numbers_under-scores",
            "",
            "   ",
        ] {
            assert_eq!(words(text), unicode_words(text), "{text:?}");
        }
        assert_eq!(words("Ácmé ac\u{200B}me"), vec!["acme", "acme"]);
    }

    #[test]
    fn strips_tags_and_decodes_entities() {
        let cases = [
            ("plain words", "plain words"),
            ("<p>Hello <b>Acme</b> &amp; friends</p>", "Hello Acme & friends"),
            ("Fish &amp; chips &lt;3 &#233;&eacute;", "Fish & chips <3 éé"),
            (
                "<p><span class=\"h-card\"><a href=\"https://x/@acme\">@<span>acme</span></a></span> sup!</p>",
                "@acme sup!",
            ),
            ("<p>one</p><p>two</p>", "one\n\ntwo"),
            ("line<br>break", "line\nbreak"),
            ("  lots   of\tspace  ", "lots of space"),
            ("<script>alert(1)</script>safe", "safe"),
            ("", ""),
        ];
        for (html, text) in cases {
            assert_eq!(plain_text(html), text, "input: {html:?}");
        }
    }
}
