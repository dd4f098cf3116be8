//! Feeds as they are served: in UTF-16 or UTF-32 (with or without a byte-order mark), or in a
//! legacy encoding their XML declaration names. The parser reads UTF-8, so every document is
//! decoded first (encoding_rs; UTF-32, which encoding_rs leaves out as no web page uses it, by
//! hand), and its declaration is made to say UTF-8. An `<rss>` root without a `version` is
//! RSS 2.0 to every reader but the parser, which refuses it; it is told so.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// The document as UTF-8, ready for the parser. `charset` is the one the server named in its
/// `Content-Type`, used when the document itself says nothing.
pub(super) fn to_utf8<'a>(body: &'a [u8], charset: Option<&str>) -> Cow<'a, [u8]> {
    let text = match unicode_form(body) {
        Some(Unicode::Utf32 { big_endian, bom }) => Cow::Owned(utf32(&body[bom..], big_endian)),
        Some(Unicode::Utf16(encoding, bom)) => encoding.decode_without_bom_handling(&body[bom..]).0,
        Some(Unicode::Utf8Bom) => String::from_utf8_lossy(&body[3..]),
        None => {
            let named = declared(body)
                .or(charset)
                .and_then(|label| Encoding::for_label(label.trim().as_bytes()));
            match named {
                // A UTF-16 label on a document laid out as ASCII is wrong; the bytes win.
                Some(encoding) if ![UTF_8, UTF_16LE, UTF_16BE].contains(&encoding) => {
                    encoding.decode_without_bom_handling(body).0
                }
                // Undeclared and not UTF-8: guessed from the bytes, as a browser does.
                _ => match std::str::from_utf8(body) {
                    Ok(text) => Cow::Borrowed(text),
                    Err(_) if named.is_none() => guess(body).decode_without_bom_handling(body).0,
                    Err(_) => String::from_utf8_lossy(body),
                },
            }
        }
    };
    let text = declare_utf8(text);
    let text = rss_version(text);
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
        Cow::Owned(text) => Cow::Owned(text.into_bytes()),
    }
}

enum Unicode {
    Utf8Bom,
    /// The encoding, and the length of its byte-order mark (0 when there is none).
    Utf16(&'static Encoding, usize),
    Utf32 {
        big_endian: bool,
        bom: usize,
    },
}

/// The Unicode form a document is in, from its byte-order mark or, without one, from how its
/// first character (`<`, or `{` for JSON) is laid out (XML 1.0, appendix F).
fn unicode_form(body: &[u8]) -> Option<Unicode> {
    let starts = |prefix: &[u8]| body.starts_with(prefix);
    let first = |c: u8| [b'<', b'{'].contains(&c);
    Some(match body {
        _ if starts(&[0x00, 0x00, 0xFE, 0xFF]) => Unicode::Utf32 {
            big_endian: true,
            bom: 4,
        },
        _ if starts(&[0xFF, 0xFE, 0x00, 0x00]) => Unicode::Utf32 {
            big_endian: false,
            bom: 4,
        },
        _ if starts(&[0xEF, 0xBB, 0xBF]) => Unicode::Utf8Bom,
        _ if starts(&[0xFE, 0xFF]) => Unicode::Utf16(UTF_16BE, 2),
        _ if starts(&[0xFF, 0xFE]) => Unicode::Utf16(UTF_16LE, 2),
        [0, 0, 0, c, ..] if first(*c) => Unicode::Utf32 {
            big_endian: true,
            bom: 0,
        },
        [c, 0, 0, 0, ..] if first(*c) => Unicode::Utf32 {
            big_endian: false,
            bom: 0,
        },
        [0, c, ..] if first(*c) => Unicode::Utf16(UTF_16BE, 0),
        [c, 0, ..] if first(*c) => Unicode::Utf16(UTF_16LE, 0),
        _ => return None,
    })
}

/// The likeliest encoding of bytes that name none (Firefox's detector; Windows-1252 when in doubt).
fn guess(body: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(body, true);
    detector.guess(None, chardetng::Utf8Detection::Deny)
}

/// UTF-32 by hand; a unit that is no character becomes U+FFFD, a trailing partial unit is dropped.
fn utf32(body: &[u8], big_endian: bool) -> String {
    body.chunks_exact(4)
        .map(|unit| {
            let unit = [unit[0], unit[1], unit[2], unit[3]];
            let value = if big_endian {
                u32::from_be_bytes(unit)
            } else {
                u32::from_le_bytes(unit)
            };
            char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect()
}

/// The `encoding` an ASCII-compatible document's XML declaration names.
fn declared(body: &[u8]) -> Option<&str> {
    let head = &body[..body.len().min(1024)];
    let head = match std::str::from_utf8(head) {
        Ok(head) => head,
        // A cut through a multi-byte character at the end of the window.
        Err(error) => std::str::from_utf8(&head[..error.valid_up_to()]).ok()?,
    };
    let declaration = head.trim_start().strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    attribute(declaration, "encoding").map(|(_, value)| value)
}

/// A pseudo-attribute's byte range (of its value) and value in an XML declaration or tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<(std::ops::Range<usize>, &'a str)> {
    let mut from = 0;
    while let Some(at) = tag[from..].find(name) {
        let start = from + at;
        from = start + name.len();
        let before_ok = tag[..start]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        let rest = tag[from..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start();
        let Some(quote) = rest.chars().next().filter(|q| *q == '"' || *q == '\'') else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value_len = tag[value_start..].find(quote)?;
        let range = value_start..value_start + value_len;
        return Some((range.clone(), &tag[range]));
    }
    None
}

/// The document is UTF-8 now: its declaration must not send the parser back to the old encoding.
fn declare_utf8(text: Cow<'_, str>) -> Cow<'_, str> {
    let lead = text.len() - text.trim_start().len();
    let Some(end) = text[lead..]
        .strip_prefix("<?xml")
        .and_then(|_| text[lead..].find("?>"))
    else {
        return text;
    };
    let declaration = &text[lead..lead + end];
    match attribute(declaration, "encoding") {
        Some((range, value)) if !value.eq_ignore_ascii_case("utf-8") => {
            let mut fixed = text.to_string();
            fixed.replace_range(lead + range.start..lead + range.end, "utf-8");
            Cow::Owned(fixed)
        }
        _ => text,
    }
}

/// `<rss>` without a version (or with one the parser does not know) is read as RSS 2.0, as
/// feedparser and every feed reader do.
fn rss_version(text: Cow<'_, str>) -> Cow<'_, str> {
    let Some((start, end)) = root_tag(&text) else {
        return text;
    };
    let tag = &text[start..end];
    let Some(after) = tag.strip_prefix("<rss") else {
        return text;
    };
    if !(after.is_empty() || after.starts_with(|c: char| c.is_whitespace() || c == '/')) {
        return text;
    }
    let mut fixed = text.to_string();
    match attribute(tag, "version") {
        Some((_, "2.0" | "0.91" | "0.92")) => return text,
        Some((range, _)) => fixed.replace_range(start + range.start..start + range.end, "2.0"),
        None => fixed.insert_str(start + "<rss".len(), " version=\"2.0\""),
    }
    Cow::Owned(fixed)
}

/// The byte range of the root element's start tag: the first `<` that opens an element, past
/// the declaration, comments, processing instructions and the doctype.
fn root_tag(text: &str) -> Option<(usize, usize)> {
    let mut at = 0;
    loop {
        let open = at + text[at..].find('<')?;
        let rest = &text[open..];
        let skip = if rest.starts_with("<!--") {
            rest.find("-->").map(|end| end + 3)
        } else if rest.starts_with("<?") {
            rest.find("?>").map(|end| end + 2)
        } else if rest.starts_with("<!") {
            rest.find('>').map(|end| end + 1)
        } else {
            return Some((open, open + rest.find('>')?));
        };
        at = open + skip?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n<rss version=\"2.0\"><channel><item><title>caf\u{e9} \u{2019}</title></item></channel></rss>";

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
        for unit in units {
            let pair = if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            };
            bytes.extend(pair);
        }
        bytes
    }

    fn utf32_bytes(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let chars = bom.then_some('\u{FEFF}').into_iter().chain(text.chars());
        chars
            .flat_map(|c| {
                if big_endian {
                    (c as u32).to_be_bytes()
                } else {
                    (c as u32).to_le_bytes()
                }
            })
            .collect()
    }

    fn decoded(body: &[u8]) -> String {
        String::from_utf8(to_utf8(body, None).into_owned()).unwrap()
    }

    #[test]
    fn unicode_forms_with_and_without_a_mark_become_utf8() {
        let expected = RSS.replace("utf-16", "utf-8");
        for big_endian in [true, false] {
            for bom in [true, false] {
                assert_eq!(decoded(&utf16(RSS, big_endian, bom)), expected);
                let rss32 = RSS.replace("utf-16", "utf-32");
                assert_eq!(decoded(&utf32_bytes(&rss32, big_endian, bom)), expected);
            }
        }
        let mut with_bom = vec![0xEF, 0xBB, 0xBF];
        with_bom.extend(RSS.replace("utf-16", "utf-8").bytes());
        assert_eq!(decoded(&with_bom), expected);
    }

    #[test]
    fn declared_legacy_encodings_are_decoded() {
        let latin = b"<?xml version='1.0' encoding='ISO-8859-1'?><rss version=\"2.0\"><t>caf\xe9 \x92</t></rss>";
        assert_eq!(
            decoded(latin),
            "<?xml version='1.0' encoding='utf-8'?><rss version=\"2.0\"><t>caf\u{e9} \u{2019}</t></rss>"
        );
        // Big5 for 中文.
        let big5 = b"<?xml version=\"1.0\" encoding=\"big5\"?><rss version=\"2.0\"><t>\xa4\xa4\xa4\xe5</t></rss>";
        assert!(decoded(big5).contains("<t>\u{4e2d}\u{6587}</t>"));
        // The server's charset counts when the document names none.
        let koi8 = b"<rss version=\"2.0\"><t>\xd0\xd2\xc9\xd7\xc5\xd4</t></rss>";
        let text = String::from_utf8(to_utf8(koi8, Some("koi8-r")).into_owned()).unwrap();
        assert!(
            text.contains("\u{43f}\u{440}\u{438}\u{432}\u{435}\u{442}"),
            "{text}"
        );
        // Undeclared bytes that are not UTF-8 are read as Windows-1252.
        assert!(decoded(b"<rss version=\"2.0\"><t>don\x92t</t></rss>").contains("don\u{2019}t"));
        // UTF-8 passes through untouched.
        let plain = "<rss version=\"2.0\"><t>caf\u{e9}</t></rss>";
        assert!(matches!(to_utf8(plain.as_bytes(), None), Cow::Borrowed(_)));
    }

    #[test]
    fn an_rss_root_without_a_version_is_rss_2() {
        let cases = [
            ("<rss><channel/></rss>", "<rss version=\"2.0\"><channel/></rss>"),
            (
                "<?xml version=\"1.0\"?>\n<!-- <rss> in a comment -->\n<rss xmlns:dc=\"x\">",
                "<?xml version=\"1.0\"?>\n<!-- <rss> in a comment -->\n<rss version=\"2.0\" xmlns:dc=\"x\">",
            ),
            ("<rss version=\"2.0.1\">", "<rss version=\"2.0\">"),
            ("<rss version=\"0.91\">", "<rss version=\"0.91\">"),
            ("<rssfeed>", "<rssfeed>"),
            ("<feed xmlns=\"http://www.w3.org/2005/Atom\">", "<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
        ];
        for (input, expected) in cases {
            assert_eq!(decoded(input.as_bytes()), expected, "{input}");
        }
    }

    #[test]
    fn odd_bytes_never_panic() {
        for body in [
            &b""[..],
            b"\x00",
            b"\xff\xfe\x00",
            b"\x00\x00\x00",
            b"<?xml encoding=",
            b"<?xml version='1.0' encoding='nonsense'?><rss>",
            b"<",
            b"<!--",
            b"\xfe\xff\xd8\x00",
        ] {
            let _ = to_utf8(body, None);
        }
    }
}
