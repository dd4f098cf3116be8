//! The positions of a source with several watches (Reddit's listings, X's timelines, Mastodon's
//! streams), kept as one JSON object in the source's stored cursor, keyed by watch.
//!
//! One failure policy for every network:
//! - a watch that fails keeps its position and does not hold back the others: their finds and
//!   positions count, and the failure is reported with the poll;
//! - only when every watch failed does the poll fail, with the cursor where it was;
//! - a position that cannot be read is reported, never silently dropped: that watch starts
//!   again from the network's newest page (as a new watch does), and the poll says so.
//!
//! Keys that start with `@` are not watches: they hold a source's own bookkeeping that must
//! survive a restart and move with the cursor (YouTube's quota spent today), see
//! [`CursorSet::note`].

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::domain::Cursor;

pub struct CursorSet<P, E> {
    /// Names the network and the source in what is logged and reported.
    network: String,
    source: String,
    marks: BTreeMap<String, P>,
    /// Entries of other watches (no longer configured, or unreadable), kept as they were.
    others: BTreeMap<String, Value>,
    /// The `@` entries.
    notes: BTreeMap<String, Value>,
    problems: Vec<String>,
    /// Some watch was read to its end, or moved before it failed.
    progress: bool,
    failed: usize,
    /// What the poll fails with when no watch got anywhere.
    first_error: Option<E>,
}

impl<P: Serialize + DeserializeOwned + Clone, E: std::fmt::Display> CursorSet<P, E> {
    /// The positions stored in `cursor` for the source `source` of `network`.
    pub fn read(cursor: &Cursor, network: &str, source: &str) -> CursorSet<P, E> {
        let mut set = CursorSet {
            network: network.to_string(),
            source: source.to_string(),
            marks: BTreeMap::new(),
            others: BTreeMap::new(),
            notes: BTreeMap::new(),
            problems: Vec::new(),
            progress: false,
            failed: 0,
            first_error: None,
        };
        let Some(position) = cursor.position.as_deref() else {
            return set;
        };
        match serde_json::from_str::<BTreeMap<String, Value>>(position) {
            Ok(entries) => {
                for (key, value) in entries {
                    if key.starts_with('@') {
                        set.notes.insert(key, value);
                        continue;
                    }
                    match serde_json::from_value::<P>(value.clone()) {
                        Ok(mark) => {
                            set.marks.insert(key, mark);
                        }
                        Err(error) => {
                            set.problems.push(format!(
                                "the stored {network} position of `{key}` is unreadable ({error}); it starts again from the newest posts"
                            ));
                            set.others.insert(key, value);
                        }
                    }
                }
            }
            Err(error) => set.problems.push(format!(
                "the stored {network} cursor is unreadable ({error}); every watch starts again from the newest posts"
            )),
        }
        set
    }

    /// The bookkeeping stored under `key` (which starts with `@`).
    pub fn note(&self, key: &str) -> Option<&Value> {
        self.notes.get(key)
    }

    /// Keeps `value` under `key` (which starts with `@`) with the cursor stored by this poll.
    pub fn set_note(&mut self, key: &str, value: Value) {
        debug_assert!(key.starts_with('@'), "a note's key starts with @");
        self.notes.insert(key.to_string(), value);
    }

    /// Where `watch` left off; `None` for a new watch (or one whose position was unreadable).
    pub fn get(&self, watch: &str) -> Option<&P> {
        self.marks.get(watch)
    }

    /// One watch's outcome, the way every source treats it: its finds join `found` and it
    /// moves to its mark (`None`: nothing newer than where it was), or it keeps its position
    /// and its error is logged and reported with the poll.
    pub fn record<T>(
        &mut self,
        watch: &str,
        outcome: Result<(Vec<T>, Option<P>), E>,
        found: &mut Vec<T>,
    ) {
        match outcome {
            Ok((items, mark)) => {
                found.extend(items);
                if let Some(mark) = mark {
                    self.advance(watch, mark);
                }
                self.done();
            }
            Err(error) => {
                tracing::warn!(source = %self.source, network = %self.network, watch, %error, "a watch failed; the others are kept");
                self.failed(watch, &error);
                self.first_error.get_or_insert(error);
            }
        }
    }

    /// `watch` was read up to `mark` (all of it, or the pages before a failure).
    pub fn advance(&mut self, watch: &str, mark: P) {
        self.progress = true;
        self.others.remove(watch);
        self.marks.insert(watch.to_string(), mark);
    }

    /// `watch` was read to its end (whether or not it moved).
    pub fn done(&mut self) {
        self.progress = true;
    }

    /// `watch` failed: it keeps its position, and the poll reports why.
    pub fn failed(&mut self, watch: &str, error: impl std::fmt::Display) {
        self.failed += 1;
        self.problems.push(format!("{watch}: {error}"));
    }

    /// The cursor to store, and the problems to report; `Err(first)` when every watch failed
    /// before it moved (the stored cursor stays as it was).
    pub fn finish(self, cursor: &Cursor) -> Result<(Cursor, Vec<String>), E> {
        if !self.progress && self.failed > 0 {
            if let Some(error) = self.first_error {
                return Err(error);
            }
        }
        let mut entries: BTreeMap<String, Value> = self.others;
        entries.extend(self.notes);
        for (key, mark) in self.marks {
            if let Ok(value) = serde_json::to_value(mark) {
                entries.insert(key, value);
            }
        }
        let position = serde_json::to_string(&entries).unwrap_or_default();
        Ok((
            Cursor {
                position: Some(position),
                ..cursor.clone()
            },
            self.problems,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(position: &str) -> Cursor {
        Cursor {
            position: Some(position.into()),
            ..Cursor::default()
        }
    }

    #[test]
    fn a_failing_watch_keeps_its_place_and_holds_back_nothing() {
        let stored = cursor(r#"{"a":"1","b":"2"}"#);
        let mut found = Vec::new();
        let mut set = CursorSet::<String, &str>::read(&stored, "Test", "test");
        set.record("a", Ok((vec![7], Some("5".into()))), &mut found);
        set.record("b", Err("503"), &mut found);
        let (next, problems) = set.finish(&stored).unwrap();
        assert_eq!(found, vec![7]);
        assert_eq!(next.position.as_deref(), Some(r#"{"a":"5","b":"2"}"#));
        assert_eq!(problems, vec!["b: 503".to_string()]);

        let mut set = CursorSet::<String, &str>::read(&stored, "Test", "test");
        set.record("a", Ok((vec![8], None)), &mut found);
        set.record("b", Err("503"), &mut found);
        let (next, _) = set.finish(&stored).unwrap();
        assert_eq!(
            next.position, stored.position,
            "a read to its end without moving"
        );

        let mut set = CursorSet::<String, &str>::read(&stored, "Test", "test");
        set.record::<u8>("a", Err("down"), &mut Vec::new());
        set.record::<u8>("b", Err("gone"), &mut Vec::new());
        assert_eq!(set.finish(&stored), Err("down"), "nothing moved");
    }

    #[test]
    fn an_unreadable_position_is_reported_never_silently_reset() {
        let stored = cursor(r#"{"a":{"wrong":"shape"},"b":"2"}"#);
        let mut set = CursorSet::<String, String>::read(&stored, "Test", "test");
        assert_eq!(set.get("a"), None);
        assert_eq!(set.get("b").map(String::as_str), Some("2"));
        set.done();
        let (next, problems) = set.finish(&stored).unwrap();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("position of `a` is unreadable"),
            "{problems:?}"
        );
        assert_eq!(next.position, stored.position, "kept until the watch moves");

        let with_note = cursor(r#"{"@quota":{"spent":3},"a":"1"}"#);
        let mut set = CursorSet::<String, String>::read(&with_note, "Test", "test");
        assert_eq!(set.note("@quota"), Some(&serde_json::json!({"spent": 3})));
        set.set_note("@quota", serde_json::json!({"spent": 4}));
        set.done();
        let (next, problems) = set.finish(&with_note).unwrap();
        assert!(
            problems.is_empty(),
            "a note is not an unreadable position: {problems:?}"
        );
        assert_eq!(
            next.position.as_deref(),
            Some(r#"{"@quota":{"spent":4},"a":"1"}"#)
        );

        let garbage = cursor("not json");
        let set = CursorSet::<String, String>::read(&garbage, "Test", "test");
        let (_, problems) = set.finish(&garbage).unwrap();
        assert!(problems[0].contains("cursor is unreadable"), "{problems:?}");
    }
}
