//! Post text as people read it: networks hand us HTML with entities; chats want plain text.

use html2text::render::TrivialDecorator;

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

#[cfg(test)]
mod tests {
    use super::plain_text;

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
