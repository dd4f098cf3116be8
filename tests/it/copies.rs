//! Copies that expire, in the store, on both backends: a LinkedIn mention is indexed at ingest
//! (others are not), a change to its text is one transaction (the record, a history entry by
//! earshot, an update per chat) and a dropped text leaves the index; a record written before
//! the rule reads as a fresh copy and is found by the one sweep.

use chrono::{DateTime, Duration, Utc};
use earshot::domain::retention::{Change, Why};
use earshot::domain::{Actor, Cursor, Step, TextCopy, Tracked};

use crate::backend::{sql_on, Backend};
use crate::store::{mention, updates};

fn chats() -> Vec<String> {
    vec!["shell".into(), "slack".into()]
}

fn found() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn linkedin(id: &str) -> earshot::domain::Mention {
    mention("linkedin", id, earshot::sources::linkedin::TRAITS.network())
}

on_both! {
#[test]
fn a_changed_copy_is_one_transaction_and_a_dropped_one_leaves_the_index(backend) {
    let place = backend.place();
    let store = place.open(chats());
    let batch = [
        linkedin("urn:li:comment:(urn:li:activity:1,11)"),
        mention("masto", "a", earshot::sources::mastodon::TRAITS.network()),
        linkedin("urn:li:comment:(urn:li:activity:1,12)"),
    ];
    assert_eq!(
        store.ingest("linkedin", &batch, &Cursor::default(), found()).unwrap(),
        vec![1, 2, 3]
    );
    assert_eq!(store.expiring_copies().unwrap(), vec![1, 3], "only LinkedIn's copies expire");

    let at = found() + Duration::hours(43);
    let refresh = Change::Refresh {
        text: "acme post, edited".into(),
    };
    assert!(store.change_copy(1, &refresh, at).unwrap());
    let one = store.mention(1).unwrap();
    assert_eq!(one.mention.text, "acme post, edited");
    assert_eq!(one.copy, TextCopy::ReadAgain { at });
    let history = store.history(1).unwrap();
    let last = history.last().unwrap();
    assert_eq!((&last.by, last.to), (&Actor::System, Step::TextReadAgain));
    let notes = updates(&store, 1);
    assert_eq!(
        notes.iter().map(|(chat, _)| chat.as_str()).collect::<Vec<_>>(),
        vec!["shell", "slack"],
        "every chat re-renders the card"
    );
    assert_eq!(store.expiring_copies().unwrap(), vec![1, 3], "a refreshed copy still expires");

    assert!(store.change_copy(3, &Change::Drop(Why::Closed), at).unwrap());
    let three = store.mention(3).unwrap();
    assert!(
        three.mention.text.contains("LinkedIn's API Data Storage Requirements")
            && three.mention.text.contains("https://learn.microsoft.com/en-us/linkedin/marketing/data-storage-requirements"),
        "{}",
        three.mention.text
    );
    assert_eq!(three.mention.link.as_deref(), Some("https://example.com/urn:li:comment:(urn:li:activity:1,12)"));
    assert_eq!(three.copy, TextCopy::Dropped { at });
    assert_eq!(updates(&store, 3).len(), 2);
    assert_eq!(store.expiring_copies().unwrap(), vec![1]);

    // Dropped once: a second drop (a tick that raced the first) writes nothing.
    let entries = store.history(3).unwrap().len();
    assert!(!store.change_copy(3, &Change::Drop(Why::Gone), at).unwrap());
    assert_eq!(store.history(3).unwrap().len(), entries);
    assert_eq!(updates(&store, 3).len(), 2);

    // What was written survives reopening.
    drop(store);
    let store = place.open(chats());
    assert_eq!(store.mention(3).unwrap().copy, TextCopy::Dropped { at });
    assert_eq!(store.expiring_copies().unwrap(), vec![1]);
}
}

#[test]
fn a_record_written_before_the_rule_reads_as_a_fresh_copy() {
    // A LinkedIn mention as earshot stored it before the rule: no `copy`.
    let old = r#"{"number":4,"mention":{"key":{"source":"linkedin","id":"urn:li:comment:(urn:li:activity:1,11)"},
        "network":"linkedin","author":{"handle":"urn:li:person:jane","name":null,"profile":null},
        "text":"Is this shipping?","link":"https://www.linkedin.com/feed/update/urn:li:share:1",
        "created_at":"2026-12-01T09:00:00Z","matched":[],"language":null,"in_reply_to":"urn:li:share:1",
        "direct":true},"state":{"state":"open"},"received_at":"2026-12-01T09:00:00Z"}"#;
    let tracked: Tracked = serde_json::from_str(old).unwrap();
    assert_eq!(tracked.copy, TextCopy::Fresh);
    assert_eq!(tracked.mention.text, "Is this shipping?");
}

/// A database written before the rule: its LinkedIn mention has no `copy` and no index key;
/// the first read of the index finds it, once. (PostgreSQL only: the test rewrites the rows.)
#[test]
fn mentions_stored_before_the_index_are_found_by_one_sweep() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let place = backend.place();
    let store = place.open(chats());
    let batch = [
        linkedin("urn:li:comment:(urn:li:activity:1,11)"),
        mention("masto", "a", earshot::sources::mastodon::TRAITS.network()),
    ];
    store
        .ingest("linkedin", &batch, &Cursor::default(), found())
        .unwrap();
    drop(store);
    sql_on(
        &place.url().unwrap(),
        "DELETE FROM earshot_meta WHERE substring(key from 1 for 5) = 'copy:'::bytea OR key = 'copies_indexed'::bytea;
         UPDATE earshot_mentions SET value = convert_to((convert_from(value, 'UTF8')::jsonb - 'copy')::text, 'UTF8');",
    );
    let store = place.open(chats());
    assert_eq!(store.mention(1).unwrap().copy, TextCopy::Fresh);
    assert_eq!(store.expiring_copies().unwrap(), vec![1]);
    assert!(store
        .change_copy(1, &Change::Drop(Why::Closed), found() + Duration::hours(43))
        .unwrap());
    assert_eq!(
        store.expiring_copies().unwrap(),
        Vec::<u64>::new(),
        "swept once, not again"
    );
}
