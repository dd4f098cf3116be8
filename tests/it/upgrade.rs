//! A store written by the earshot before `domain::Actor` (schema version 2, where earshot
//! acted as a member named "earshot") is brought forward to version 3 on both backends: at
//! open for a folder, by `earshot migrate` for a database, which refuses to open it before.
//!
//! The records below are what that earshot wrote, byte for byte: a feed's three mentions after
//! `claim 1`, `done 1 <link>`, `claim 2`, `assign 2 @bob` and `snooze 3 2h` in the terminal
//! (read back from its store with `earshot migrate --to` a database). Mention 3 was then
//! answered outside earshot, written as that version wrote it: the same history entry and
//! state shapes, by its member "earshot".

use chrono::{DateTime, Utc};
use earshot::domain::{Actor, ListFilter, Member, State, Status, Step};
use earshot::store::Store;

use crate::backend::{sql_on, Backend, Place};

enum Value {
    Json(&'static str),
    Bytes(&'static str),
}
use Value::{Bytes, Json};

/// `(tree, key in hex, value)`: every record of the version 2 store.
const VERSION_2: &[(&str, &str, Value)] = &[
    ("mentions", "0000000000000001", Json(r#"{"number":1,"mention":{"key":{"source":"google-alerts","id":"tag:google.com,2013:googlealerts/feed:12501224780620368192"},"network":"feed","author":{"handle":"","name":"news.example.com","profile":null},"text":"New Acme Coffee lids leak, customers say\nSeveral readers wrote in about the new takeaway cups from Acme: the lids leak & nobody at the company answers.","link":"https://news.example.com/2026/11/acme-coffee-lids","created_at":"2026-11-21T14:26:15Z","matched":["acme","\"acme coffee\""],"language":null,"in_reply_to":null,"direct":false},"state":{"state":"done","by":{"id":"jane","name":"jane"},"at":"2026-12-03T09:16:07.388714283Z","note":"https://example.com/reply"},"received_at":"2026-12-03T09:16:07.269455644Z","follow_up_of":null,"priority":{"score":7,"complaint":true,"reasons":["broken (\"leak\")","no reply (\"nobody at the company answers\")"]},"place":{},"copy":{"copy":"fresh"}}"#)),
    ("mentions", "0000000000000002", Json(r#"{"number":2,"mention":{"key":{"source":"google-alerts","id":"tag:google.com,2013:googlealerts/feed:12501224780620368193"},"network":"feed","author":{"handle":"","name":"blog.example.nl","profile":null},"text":"Waarom ik overstap naar Acme\nDe koffie van Acme is eerlijk geprijsd, maar hun klantenservice reageert nooit op Twitter.","link":"https://blog.example.nl/overstap-acme","created_at":"2026-11-21T11:02:00Z","matched":["acme"],"language":null,"in_reply_to":null,"direct":false},"state":{"state":"claimed","by":{"id":"bob","name":"bob"},"at":"2026-12-03T09:16:07.399088569Z","answering":false},"received_at":"2026-12-03T09:16:07.269455644Z","follow_up_of":null,"priority":{"score":3,"complaint":true,"reasons":["geen reactie (\"reageert nooit\")"]},"place":{},"copy":{"copy":"fresh"}}"#)),
    ("mentions", "0000000000000003", Json(r#"{"number":3,"mention":{"key":{"source":"google-alerts","id":"tag:google.com,2013:googlealerts/feed:12501224780620368196"},"network":"feed","author":{"handle":"","name":"Reviews Weekly","profile":null},"text":"Best coffee subscriptions of 2026: Acme makes the list\nOur reviewers tried twelve services. Acme's single-origin box came third; delivery was late twice.","link":"https://reviews.example.com/coffee-subscriptions-2026","created_at":"2026-11-20T19:30:00Z","matched":["acme"],"language":null,"in_reply_to":null,"direct":false},"state":{"state":"answered","by":{"id":"earshot","name":"earshot"},"at":"2026-12-03T09:30:00Z","link":null},"received_at":"2026-12-03T09:16:07.269455644Z","follow_up_of":null,"priority":{"score":0,"complaint":false,"reasons":[]},"place":{},"copy":{"copy":"fresh"}}"#)),
    ("history", "00000000000000010000000000000003", Json(r#"{"at":"2026-12-03T09:16:07.385892516Z","by":{"id":"jane","name":"jane"},"from":"open","to":"claimed","note":null}"#)),
    ("history", "00000000000000010000000000000005", Json(r#"{"at":"2026-12-03T09:16:07.388714283Z","by":{"id":"jane","name":"jane"},"from":"claimed","to":"done","note":"https://example.com/reply"}"#)),
    ("history", "00000000000000020000000000000007", Json(r#"{"at":"2026-12-03T09:16:07.395233936Z","by":{"id":"jane","name":"jane"},"from":"open","to":"claimed","note":null}"#)),
    ("history", "00000000000000020000000000000009", Json(r#"{"at":"2026-12-03T09:16:07.399088569Z","by":{"id":"jane","name":"jane"},"from":"claimed","to":"assigned","note":"to @bob"}"#)),
    ("history", "0000000000000003000000000000000b", Json(r#"{"at":"2026-12-03T09:16:07.402001815Z","by":{"id":"jane","name":"jane"},"from":"open","to":"snoozed","note":"until 2026-12-03 11:16 UTC"}"#)),
    ("history", "0000000000000003000000000000000c", Json(r#"{"at":"2026-12-03T09:30:00Z","by":{"id":"earshot","name":"earshot"},"from":"open","to":"answered","note":"answered outside earshot: a reply by the brand"}"#)),
    ("cursors", "676f6f676c652d616c65727473", Json(r#"{"position":null,"etag":null,"last_modified":null}"#)),
    ("health", "676f6f676c652d616c65727473", Json(r#"{"last_ok":"2026-12-03T09:16:07.366018282Z","last_failure":null,"last_error":null,"failures":0,"last_found":"2026-12-03T09:16:07.366018282Z","finds":1,"usual_gap_secs":0}"#)),
    ("by_status", "020000000000000003", Bytes("0000000000")),
    ("by_status", "010000000000000002", Bytes("0100000003")),
    ("by_status", "030000000000000001", Bytes("0100000007")),
    ("by_owner", "626f62000000000000000002", Bytes("")),
    ("keys", "676f6f676c652d616c65727473007461673a676f6f676c652e636f6d2c323031333a676f6f676c65616c657274732f666565643a3132353031323234373830363230333638313932", Bytes("0000000000000001")),
    ("keys", "676f6f676c652d616c65727473007461673a676f6f676c652e636f6d2c323031333a676f6f676c65616c657274732f666565643a3132353031323234373830363230333638313933", Bytes("0000000000000002")),
    ("keys", "676f6f676c652d616c65727473007461673a676f6f676c652e636f6d2c323031333a676f6f676c65616c657274732f666565643a3132353031323234373830363230333638313936", Bytes("0000000000000003")),
    ("meta", "636f706965735f696e6465786564", Bytes("01")),
    ("meta", "6e6578745f6e756d626572", Bytes("0000000000000004")),
    ("meta", "736368656d615f76657273696f6e", Bytes("0000000000000002")),
    ("meta", "73746f726d5f77656174686572", Json(r#"{"arrivals":[],"storm":null,"storms":0}"#)),
    ("settled", "000001a23b308d5c0000000000000001", Bytes("")),
    ("settled", "000001a23b3d41c00000000000000003", Bytes("")),
    ("messages", "7368656c6c000000000000000001", Bytes("7368656c6c2d31")),
    ("messages", "7368656c6c000000000000000002", Bytes("7368656c6c2d32")),
    ("messages", "7368656c6c000000000000000003", Bytes("7368656c6c2d33")),
];

impl Value {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Json(text) => text.as_bytes().to_vec(),
            Bytes(hex) => unhex(hex),
        }
    }
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Writes the version 2 records where `place` keeps its store, as that earshot left them.
fn write_version_2(place: &Place) {
    match place.url() {
        None => {
            let earshot::store::Location::Folder(path) = &place.location else {
                unreachable!("a place without a database is a folder");
            };
            let db = crate::common::raw_sled(path);
            for (tree, key, value) in VERSION_2 {
                db.open_tree(tree)
                    .unwrap()
                    .insert(unhex(key), value.bytes())
                    .unwrap();
            }
            db.flush().unwrap();
        }
        Some(url) => {
            // `backend.place()` made the tables (and wrote its own schema version): replaced.
            let sql: String = VERSION_2
                .iter()
                .map(|(tree, key, value)| {
                    format!(
                        "INSERT INTO earshot_{tree} (key, value) VALUES ('\\x{key}'::bytea, '\\x{}'::bytea) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;\n",
                        hex(&value.bytes())
                    )
                })
                .collect();
            sql_on(&url, &sql);
        }
    }
}

fn jane() -> Actor {
    Member::new("jane", "jane").into()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().into()
}

on_both! {
#[tokio::test]
async fn a_version_2_store_reads_on_with_earshot_as_the_system_actor(backend) {
    let place = backend.place();
    write_version_2(&place);
    if backend == Backend::Postgres {
        let refused = Store::open_at(&place.location, vec!["shell".into()])
            .err()
            .expect("a database is not changed at start");
        assert!(
            refused.to_string().contains("has schema version 2, older than this earshot's 3")
                && refused.to_string().contains("run `earshot migrate`"),
            "{refused}"
        );
        let said = Store::migrate(&place.location).unwrap();
        assert!(said.contains("from schema version 2 to 3"), "{said}");
    }
    let store = place.open(vec!["shell".into()]);

    // What earshot did itself is now the system's, in the state and in the history.
    let three = store.mention(3).unwrap();
    assert_eq!(
        three.state,
        State::Answered {
            by: Actor::System,
            at: at("2026-12-03T09:30:00Z"),
            link: None
        }
    );
    let history = store.history(3).unwrap();
    let steps: Vec<(Option<Status>, Step, &Actor)> = history
        .iter()
        .map(|entry| (entry.from, entry.to, &entry.by))
        .collect();
    assert_eq!(
        steps,
        [
            (None, Step::Found, &Actor::System),
            (Some(Status::Open), Step::Snoozed, &jane()),
            (Some(Status::Open), Step::Answered, &Actor::System),
        ]
    );
    assert_eq!(
        history[2].summary(),
        "answered by earshot: answered outside earshot: a reply by the brand"
    );

    // The people's records read as they were.
    assert_eq!(
        store.mention(1).unwrap().state,
        State::Done {
            by: jane(),
            at: at("2026-12-03T09:16:07.388714283Z"),
            note: Some("https://example.com/reply".into())
        }
    );
    let summaries: Vec<String> = store
        .history(2)
        .unwrap()
        .iter()
        .map(|entry| entry.summary())
        .collect();
    assert_eq!(
        summaries,
        [
            "open by earshot: found by google-alerts",
            "claimed by @jane",
            "assigned by @jane: to @bob"
        ]
    );
    let bob = Member::new("bob", "bob");
    let held: Vec<u64> = store
        .list(ListFilter::Mine, &bob)
        .unwrap()
        .iter()
        .map(|tracked| tracked.number)
        .collect();
    assert_eq!(held, [2]);
    let settled: Vec<u64> = store
        .settled_between(at("2026-12-03T00:00:00Z"), at("2026-12-04T00:00:00Z"))
        .unwrap()
        .iter()
        .map(|(tracked, _)| tracked.number)
        .collect();
    assert_eq!(settled, [1, 3]);
    assert_eq!(store.message_ref("shell", 3).unwrap().as_deref(), Some("shell-3"));
    drop(store);

    // Brought forward once: the store is at version 3 now.
    match place.url() {
        Some(_) => {
            let again = Store::migrate(&place.location).unwrap();
            assert!(again.contains("already at schema version 3"), "{again}");
        }
        None => {
            let earshot::store::Location::Folder(path) = &place.location else {
                unreachable!("a place without a database is a folder");
            };
            let db = crate::common::raw_sled(path);
            let version = db.open_tree("meta").unwrap().get("schema_version").unwrap();
            assert_eq!(version.as_deref(), Some(&3u64.to_be_bytes()[..]));
            let entry = db
                .open_tree("history")
                .unwrap()
                .get(unhex("0000000000000003000000000000000c"))
                .unwrap()
                .unwrap();
            let stored: serde_json::Value = serde_json::from_slice(&entry).unwrap();
            assert_eq!(stored["by"], serde_json::json!("earshot"));
        }
    }
}
}
