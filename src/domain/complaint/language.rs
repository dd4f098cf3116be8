//! Which lexicon reads a post: the network's own language tag when it gives one (the author
//! chose it), else the language `whatlang` finds in the text.

use isolang::Language;

/// Text past this many bytes adds nothing to the guess, only cost.
const DETECT_BYTES: usize = 400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A language with its own lexicon (ISO 639-1).
    Language(String),
    /// A language without one: shared signals and the fallback languages.
    Fallback,
    /// Unclear (too short, mixed): every lexicon.
    Mixed,
}

pub fn choose(text: &str, tag: Option<&str>, known: impl Fn(&str) -> bool) -> Choice {
    if let Some(tag) = tag {
        // BCP 47: the primary subtag is the language ("nl-BE" -> "nl").
        let primary = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let code = match primary.len() {
            2 => Some(primary),
            3 => Language::from_639_3(&primary)
                .and_then(|language| language.to_639_1())
                .map(str::to_string),
            _ => None,
        };
        match code {
            Some(code) if known(&code) => return Choice::Language(code),
            Some(_) => return Choice::Fallback,
            // "und", "mul", or nothing usable: look at the text.
            None => {}
        }
    }
    detect(text, known)
}

fn detect(text: &str, known: impl Fn(&str) -> bool) -> Choice {
    let mut cut = text.len().min(DETECT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let Some(info) = whatlang::detect(&text[..cut]) else {
        return Choice::Mixed;
    };
    let code = Language::from_639_3(info.lang().code()).and_then(|language| language.to_639_1());
    match code {
        Some(code) if known(code) && info.confidence() >= 0.5 => Choice::Language(code.to_string()),
        Some(_) if info.is_reliable() => Choice::Fallback,
        _ => Choice::Mixed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(code: &str) -> bool {
        matches!(code, "en" | "nl")
    }

    #[test]
    fn the_network_tag_comes_first() {
        let cases = [
            (
                Some("nl"),
                "This reads as English but the author tagged it Dutch",
                Choice::Language("nl".into()),
            ),
            (Some("nl-BE"), "x", Choice::Language("nl".into())),
            (Some("EN_us"), "x", Choice::Language("en".into())),
            (Some("nld"), "x", Choice::Language("nl".into())),
            (Some("de"), "x", Choice::Fallback),
        ];
        for (tag, text, expected) in cases {
            assert_eq!(choose(text, tag, known), expected, "{tag:?}");
        }
    }

    #[test]
    fn without_a_tag_the_text_decides() {
        let cases = [
            (None, "My order still has not arrived after two weeks and nobody answers my emails", Choice::Language("en".into())),
            (Some("und"), "Mijn bestelling is na twee weken nog steeds niet binnen en niemand reageert op mijn mail", Choice::Language("nl".into())),
            (None, "Meine Bestellung ist nach zwei Wochen immer noch nicht angekommen und niemand antwortet", Choice::Fallback),
            (None, "😡😡", Choice::Mixed),
            (None, "", Choice::Mixed),
        ];
        for (tag, text, expected) in cases {
            assert_eq!(choose(text, tag, known), expected, "{text:?}");
        }
    }
}
