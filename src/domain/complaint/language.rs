//! Which lexicon reads a post: the network's own language tag when it gives one (the author
//! chose it), else the language `whatlang` finds in the text.

use isolang::Language;

/// Text past this many bytes adds nothing to the guess, only cost.
const DETECT_BYTES: usize = 400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A language with its own lexicon: its place among the lexicon's languages.
    Language(usize),
    /// A language without one: shared signals and the fallback languages.
    Fallback,
    /// Unclear (too short, mixed): every lexicon.
    Mixed,
}

/// `known` gives the place of an ISO 639-1 code among the lexicon's languages, if it has one.
pub fn choose(text: &str, tag: Option<&str>, known: impl Fn(&str) -> Option<usize>) -> Choice {
    if let Some(tag) = tag {
        // BCP 47: the primary subtag is the language ("nl-BE" -> "nl").
        let primary = tag.split(['-', '_']).next().unwrap_or("").trim();
        // Lower-cased on the stack: this runs for every mention at ingest.
        let mut lower = [0u8; 3];
        let code = match primary.len() {
            length @ (2 | 3) => {
                for (to, from) in lower.iter_mut().zip(primary.bytes()) {
                    *to = from.to_ascii_lowercase();
                }
                match std::str::from_utf8(&lower[..length]) {
                    Ok(code) if length == 2 => Some(code),
                    Ok(code) => Language::from_639_3(code).and_then(|language| language.to_639_1()),
                    Err(_) => None,
                }
            }
            _ => None,
        };
        match code.map(&known) {
            Some(Some(index)) => return Choice::Language(index),
            Some(None) => return Choice::Fallback,
            // "und", "mul", or nothing usable: look at the text.
            None => {}
        }
    }
    detect(text, known)
}

fn detect(text: &str, known: impl Fn(&str) -> Option<usize>) -> Choice {
    let mut cut = text.len().min(DETECT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let Some(info) = whatlang::detect(&text[..cut]) else {
        return Choice::Mixed;
    };
    let code = Language::from_639_3(info.lang().code()).and_then(|language| language.to_639_1());
    match code.map(|code| (code, known(code))) {
        Some((_, Some(index))) if info.confidence() >= 0.5 => Choice::Language(index),
        Some(_) if info.is_reliable() => Choice::Fallback,
        _ => Choice::Mixed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(code: &str) -> Option<usize> {
        ["en", "nl"].iter().position(|known| *known == code)
    }

    #[test]
    fn the_network_tag_comes_first() {
        let cases = [
            (
                Some("nl"),
                "This reads as English but the author tagged it Dutch",
                Choice::Language(1),
            ),
            (Some("nl-BE"), "x", Choice::Language(1)),
            (Some("EN_us"), "x", Choice::Language(0)),
            (Some("nld"), "x", Choice::Language(1)),
            (Some("de"), "x", Choice::Fallback),
        ];
        for (tag, text, expected) in cases {
            assert_eq!(choose(text, tag, known), expected, "{tag:?}");
        }
    }

    #[test]
    fn without_a_tag_the_text_decides() {
        let cases = [
            (None, "My order still has not arrived after two weeks and nobody answers my emails", Choice::Language(0)),
            (Some("und"), "Mijn bestelling is na twee weken nog steeds niet binnen en niemand reageert op mijn mail", Choice::Language(1)),
            (None, "Meine Bestellung ist nach zwei Wochen immer noch nicht angekommen und niemand antwortet", Choice::Fallback),
            (None, "😡😡", Choice::Mixed),
            (None, "", Choice::Mixed),
        ];
        for (tag, text, expected) in cases {
            assert_eq!(choose(text, tag, known), expected, "{text:?}");
        }
    }
}
