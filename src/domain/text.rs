//! Post text as people read it. Some fields are HTML (Mastodon's `content`, Hacker News
//! comments, feed content declared HTML): those go through [`plain_text`]. Others are already
//! plain text (Reddit with `raw_json=1`, Bluesky, titles, content warnings): those go through
//! [`as_written`], which keeps every character, so `Vec<String>` or `<module>` stay as typed and
//! a keyword inside angle brackets still matches. Either way entities are decoded exactly once
//! (by the HTML parser, or not at all), and line breaks are kept.

use html2text::render::TrivialDecorator;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Plain text from a fragment of HTML: tags dropped, entities decoded, paragraphs kept as lines.
/// Text without markup passes through with only its whitespace tidied.
pub fn plain_text(html: &str) -> String {
    // Mapped first: the renderer drops control characters.
    let html = windows_1252_controls(html);
    let html = html.as_ref();
    let rendered = if html.contains(['<', '&']) {
        html2text::config::with_decorator(TrivialDecorator::new())
            .allow_width_overflow()
            .string_from_read(html.as_bytes(), 100_000)
            .unwrap_or_else(|_| html.to_string())
    } else {
        html.to_string()
    };
    tidy(&rendered, true)
}

/// A plain-text field as its author wrote it: nothing is parsed or decoded, so angle brackets
/// and ampersands stay. Line endings become `\n`, trailing spaces and runs of blank lines go,
/// indentation stays (a Markdown code block keeps its shape).
pub fn as_written(text: &str) -> String {
    tidy(&windows_1252_controls(text), false)
}

/// X's post text: plain, except that X escapes `&`, `<` and `>` (and only those). Decoded in one
/// pass, so `&amp;lt;` is the `&lt;` its author typed.
pub fn unescape_x(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (decoded, len) = match () {
            _ if rest.starts_with("&amp;") => ('&', 5),
            _ if rest.starts_with("&lt;") => ('<', 4),
            _ if rest.starts_with("&gt;") => ('>', 4),
            _ => ('&', 1),
        };
        out.push(decoded);
        rest = &rest[len..];
    }
    out.push_str(rest);
    as_written(&out)
}

/// Characters U+0080 to U+009F are C1 controls nobody means: they come from text written in
/// Windows-1252 and decoded as Latin-1 (U+0092 is the right single quote that byte 0x92 was).
/// They are mapped to what Windows-1252 meant; the five bytes it leaves undefined are dropped.
fn windows_1252_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| ('\u{80}'..='\u{9F}').contains(&c)) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .filter_map(|c| match c {
            '\u{80}'..='\u{9F}' => {
                let byte = [c as u8];
                let (decoded, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
                decoded
                    .chars()
                    .next()
                    .filter(|d| !('\u{80}'..='\u{9F}').contains(d))
            }
            other => Some(other),
        })
        .collect::<String>()
        .into()
}

/// Trims the ends of lines, keeps at most one blank line between paragraphs and none at the
/// ends; `collapse` also folds runs of spaces inside lines (what an HTML renderer leaves).
fn tidy(text: &str, collapse: bool) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = if collapse {
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        } else {
            line.trim_end().to_string()
        };
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
    use super::{as_written, plain_text, unescape_x, unicode_words, words};

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

    #[test]
    fn plain_fields_keep_their_characters() {
        let cases = [
            (
                "<praw.Config object at 0x7f> and <module>",
                "<praw.Config object at 0x7f> and <module>",
            ),
            (
                "Vec<String> for /u/<USERNAME>",
                "Vec<String> for /u/<USERNAME>",
            ),
            ("Fish &amp; chips", "Fish &amp; chips"),
            (
                "first para\r\n\r\n\r\nsecond  para  \n    indented code",
                "first para\n\nsecond  para\n    indented code",
            ),
            ("\n\n  padded\n\n", "  padded"),
            (
                "don\u{92}t \u{93}quote\u{94} \u{80}5 \u{81}",
                "don\u{2019}t \u{201C}quote\u{201D} \u{20AC}5",
            ),
            ("", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(as_written(text), expected, "input: {text:?}");
        }
    }

    #[test]
    fn html_is_decoded_once_and_c1_characters_mapped() {
        assert_eq!(plain_text("&amp;lt;b&amp;gt;"), "&lt;b&gt;");
        assert_eq!(plain_text("<p>don\u{92}t</p>"), "don\u{2019}t");
        assert_eq!(plain_text("it&#146;s"), "it\u{2019}s");
    }

    #[test]
    fn x_text_unescapes_its_three_entities_once() {
        let cases = [
            ("Fish &amp; chips &lt;3", "Fish & chips <3"),
            (
                "&amp;lt;b&amp;gt; stays one level",
                "&lt;b&gt; stays one level",
            ),
            (
                "AT&T &quot;as typed&quot; & &",
                "AT&T &quot;as typed&quot; & &",
            ),
            ("line one\nline two", "line one\nline two"),
            ("&gt;&gt; quoted", ">> quoted"),
        ];
        for (text, expected) in cases {
            assert_eq!(unescape_x(text), expected, "input: {text:?}");
        }
    }
}
