//! Meta's notification body: `{"object": "page" | "instagram", "entry": [{"id", "time",
//! "changes": [{"field", "value"}]}]}`, read into [`Push`]es addressed by [`Hook`]. Instagram
//! Login apps may put `field` and `value` on the entry itself; both forms are read. Entries
//! of other kinds (Messenger's `messaging`) carry no changes and give nothing.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::sources::{Hook, Push};

/// The objects earshot has sources for; others (`user`, `permissions`, `whatsapp_business_account`)
/// are acknowledged and ignored.
const OBJECTS: [&str; 2] = ["page", "instagram"];

#[derive(Debug, Deserialize)]
struct Envelope {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    /// The Page's or the account's id; Meta writes it as a string, older payloads as a number.
    id: Value,
    time: Option<i64>,
    #[serde(default)]
    changes: Vec<Change>,
    field: Option<String>,
    value: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    value: Value,
}

/// What a body holds: the pushes earshot reads, and the object it named when it ignored them.
#[derive(Debug)]
pub enum Notice {
    Pushes(Vec<(Hook, Push)>),
    Ignored(String),
}

/// The pushes in `body`, or a short reason it is not a notification Meta sends.
pub fn read(body: &[u8]) -> Result<Notice, String> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|error| {
        format!(
            "not a Meta webhook notification (expected {{\"object\", \"entry\": [...]}}): {error}"
        )
    })?;
    let Some(object) = OBJECTS.into_iter().find(|known| *known == envelope.object) else {
        return Ok(Notice::Ignored(envelope.object));
    };
    let mut pushes = Vec::new();
    for entry in envelope.entry {
        let id = match &entry.id {
            Value::String(id) => id.trim().to_string(),
            Value::Number(id) => id.to_string(),
            other => return Err(format!("an entry's `id` is {other}, not a Graph id")),
        };
        let sent_at = entry.time.and_then(sent_at);
        let flat = entry.field.map(|field| Change {
            field,
            value: entry.value.unwrap_or_default(),
        });
        for change in entry.changes.into_iter().chain(flat) {
            pushes.push((
                Hook {
                    object,
                    id: id.clone(),
                },
                Push {
                    field: change.field,
                    value: change.value,
                    sent_at,
                },
            ));
        }
    }
    Ok(Notice::Pushes(pushes))
}

/// `entry.time`: Unix seconds, though some Instagram payloads send milliseconds.
fn sent_at(time: i64) -> Option<DateTime<Utc>> {
    const MILLISECONDS_FROM: i64 = 100_000_000_000;
    if time >= MILLISECONDS_FROM {
        DateTime::from_timestamp_millis(time)
    } else {
        DateTime::from_timestamp(time, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pushes(body: &str) -> Vec<(Hook, Push)> {
        match read(body.as_bytes()).unwrap() {
            Notice::Pushes(pushes) => pushes,
            Notice::Ignored(object) => panic!("ignored {object}"),
        }
    }

    #[test]
    fn changes_are_addressed_by_object_and_entry() {
        let read = pushes(
            r#"{"object":"page","entry":[{"id":"1000","time":1764583200,"changes":[
                {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_2"}},
                {"field":"feed","value":{"item":"reaction","verb":"add"}}]}]}"#,
        );
        assert_eq!(read.len(), 2);
        assert_eq!(
            read[0].0,
            Hook {
                object: "page",
                id: "1000".into()
            }
        );
        assert_eq!(read[0].1.field, "feed");
        assert_eq!(read[0].1.value["comment_id"], "1_2");
        assert_eq!(read[0].1.sent_at.unwrap().timestamp(), 1764583200);

        let flat = pushes(
            r#"{"object":"instagram","entry":[{"id":1784,"time":1764583200000,"field":"mentions","value":{"media_id":"9"}}]}"#,
        );
        assert_eq!(flat[0].0.id, "1784");
        assert_eq!(flat[0].1.field, "mentions");
        assert_eq!(
            flat[0].1.sent_at.unwrap().timestamp(),
            1764583200,
            "milliseconds"
        );
    }

    #[test]
    fn other_objects_are_ignored_and_garbage_is_refused_with_a_reason() {
        assert!(matches!(
            read(br#"{"object":"user","entry":[]}"#),
            Ok(Notice::Ignored(object)) if object == "user"
        ));
        assert!(matches!(
            read(br#"{"object":"page","entry":[{"id":"1","messaging":[{}]}]}"#),
            Ok(Notice::Pushes(pushes)) if pushes.is_empty()
        ));
        for bad in [
            "",
            "not json",
            "[]",
            r#"{"object":"page"}"#,
            r#"{"object":"page","entry":[{"id":[]}]}"#,
        ] {
            let error = read(bad.as_bytes()).unwrap_err();
            assert!(error.len() < 300, "short: {error}");
        }
    }
}
