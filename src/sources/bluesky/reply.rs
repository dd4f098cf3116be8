//! The reply record: text with a mention facet for the author, root and parent references, and
//! a record key derived from the answer's idempotency key, so that a retried answer lands on
//! the same record (and is found there) instead of posting twice.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use unicode_segmentation::UnicodeSegmentation;

use super::records::StrongRef;

/// The lexicon's limits on `app.bsky.feed.post#text`.
pub const MAX_GRAPHEMES: usize = 300;
pub const MAX_BYTES: usize = 3000;

/// "@handle text", with the facet that makes "@handle" a mention of `did`.
pub fn reply_record(
    handle: &str,
    did: &str,
    text: &str,
    root: &StrongRef,
    parent: &StrongRef,
    created_at: DateTime<Utc>,
    language: Option<&str>,
) -> Result<Value, String> {
    let mention = format!("@{handle}");
    let text = text.trim();
    let full = if handle.is_empty() {
        text.to_string()
    } else {
        format!("{mention} {text}")
    };
    let graphemes = full.graphemes(true).count();
    if graphemes > MAX_GRAPHEMES || full.len() > MAX_BYTES {
        return Err(format!(
            "the answer is {graphemes} characters with the @-mention of the author; Bluesky allows {MAX_GRAPHEMES}"
        ));
    }
    let mut record = json!({
        "$type": "app.bsky.feed.post",
        "text": full,
        "createdAt": created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "reply": { "root": root, "parent": parent },
    });
    if !handle.is_empty() {
        // Facet offsets count UTF-8 bytes, not characters.
        record["facets"] = json!([{
            "index": { "byteStart": 0, "byteEnd": mention.len() },
            "features": [{ "$type": "app.bsky.richtext.facet#mention", "did": did }],
        }]);
    }
    if let Some(language) = language {
        record["langs"] = json!([language]);
    }
    Ok(record)
}

/// A record key in TID form (13 base32-sortable characters: 53 bits of microseconds and 10
/// bits of clock id) that depends only on `idempotency_key` and the replied-to post's time.
/// Every retry of one answer gets the same key; two answers to one post get different ones.
pub fn record_key(idempotency_key: &str, post_time: DateTime<Utc>) -> String {
    let hash = fnv1a(idempotency_key.as_bytes());
    // Whole milliseconds of the post, plus a hashed microsecond part: a plausible, stable time.
    let millis = post_time.timestamp_millis().max(0) as u64;
    let micros = (millis * 1000 + hash % 1000) & ((1 << 53) - 1);
    let clock_id = (hash >> 20) & 0x3ff;
    let tid = (micros << 10) | clock_id;
    const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
    (0..13)
        .rev()
        .map(|i| ALPHABET[((tid >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// FNV-1a: small, and stable across Rust versions and platforms (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn strong(n: u8) -> StrongRef {
        StrongRef {
            uri: format!("at://did:plc:x/app.bsky.feed.post/{n}"),
            cid: format!("bafy{n}"),
        }
    }

    #[test]
    fn record_keys_are_stable_tids() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let key = record_key("earshot-0000000000000007", at);
        assert_eq!(
            key,
            record_key("earshot-0000000000000007", at),
            "same on every retry"
        );
        assert_ne!(key, record_key("earshot-0000000000000008", at));
        assert_eq!(key.len(), 13);
        assert!(
            key.starts_with(|c: char| "234567abcdefghij".contains(c)),
            "{key}"
        );
        assert!(key
            .chars()
            .all(|c| "234567abcdefghijklmnopqrstuvwxyz".contains(c)));
        // Sortable like any TID: a later post gives a later key.
        let later = record_key("earshot-0000000000000007", at + chrono::Duration::days(1));
        assert!(later > key);
    }

    #[test]
    fn the_reply_mentions_the_author_with_a_byte_facet() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 1, 0, 0).unwrap();
        let record = reply_record(
            "zoë.example",
            "did:plc:zoe",
            "Thanks!",
            &strong(1),
            &strong(2),
            at,
            Some("en"),
        )
        .unwrap();
        assert_eq!(
            record,
            json!({
                "$type": "app.bsky.feed.post",
                "text": "@zoë.example Thanks!",
                "createdAt": "2026-11-22T01:00:00.000Z",
                "langs": ["en"],
                "reply": {"root": strong(1), "parent": strong(2)},
                "facets": [{"index": {"byteStart": 0, "byteEnd": 13},
                            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:zoe"}]}],
            })
        );
    }

    #[test]
    fn the_limit_counts_graphemes_with_the_mention() {
        let at = Utc::now();
        let fits = "👍🏽".repeat(300 - "@jo ".len());
        assert!(reply_record("jo", "did:plc:jo", &fits, &strong(1), &strong(1), at, None).is_ok());
        let error = reply_record(
            "jo",
            "did:plc:jo",
            &format!("{fits}!"),
            &strong(1),
            &strong(1),
            at,
            None,
        )
        .unwrap_err();
        assert!(error.contains("301 characters"), "{error}");
    }
}
