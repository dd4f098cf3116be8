//! The store's promises: dedup and numbering, cursors moved with their mentions, transitions
//! with history and outbox effects in one transaction, a guarded schema, and one winner when
//! two people claim at once; a source's rotated credentials kept across restarts.

use chrono::{DateTime, Utc};
use earshot::domain::{
    Action, Actor, Author, Cursor, ListFilter, Member, Mention, MentionKey, Network, State, Status,
    Step,
};
use earshot::store::{Effect, Grant, Store, StoreError};

/// The card updates queued for mention `number`, as (chat, note), oldest first.
pub(crate) fn updates(store: &Store, number: u64) -> Vec<(String, String)> {
    store
        .outbox()
        .unwrap()
        .into_iter()
        .filter_map(|(_, entry)| match entry.effect {
            Effect::Update {
                chat,
                number: n,
                note,
            } if n == number => Some((chat, note)),
            _ => None,
        })
        .collect()
}

pub(crate) fn mention(source: &str, id: &str, network: Network) -> Mention {
    Mention {
        key: MentionKey::new(source, id),
        network,
        author: Author {
            handle: "jane".into(),
            name: None,
            profile: None,
        },
        text: format!("acme post {id}"),
        link: Some(format!("https://example.com/{id}")),
        created_at: DateTime::UNIX_EPOCH,
        matched: vec!["acme".into()],
        language: None,
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

fn jane() -> Member {
    Member::new("U1", "jane")
}

fn bob() -> Member {
    Member::new("U2", "bob")
}

fn chats() -> Vec<String> {
    vec!["shell".into(), "slack".into()]
}

on_both! {
#[test]
fn ingest_numbers_new_mentions_once_and_moves_the_cursor_with_them(backend) {
    let place = backend.place();
    let store = place.open(chats());
    let now = Utc::now();
    let cursor = Cursor {
        position: Some("42".into()),
        ..Cursor::default()
    };
    let batch = [
        mention("masto", "a", earshot::sources::mastodon::TRAITS.network()),
        mention("masto", "b", earshot::sources::mastodon::TRAITS.network()),
        mention("masto", "a", earshot::sources::mastodon::TRAITS.network()),
    ];
    assert_eq!(
        store.ingest("masto", &batch, &cursor, now).unwrap(),
        vec![1, 2]
    );
    assert_eq!(store.cursor("masto").unwrap(), cursor);
    assert_eq!(store.cursor("other").unwrap(), Cursor::default());

    // Overlapping window: only the new one, numbered next; the same id from another source is
    // another mention.
    let batch = [
        mention("masto", "b", earshot::sources::mastodon::TRAITS.network()),
        mention("masto", "c", earshot::sources::mastodon::TRAITS.network()),
        mention("feed", "a", earshot::sources::feed::TRAITS.network()),
    ];
    assert_eq!(
        store.ingest("masto", &batch, &cursor, now).unwrap(),
        vec![3, 4]
    );
    assert_eq!(store.count().unwrap(), 4);

    // Each new mention queues one card per chat, in order.
    let posts: Vec<(String, u64)> = store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|(_, entry)| match entry.effect {
            Effect::Post { chat, number } => (chat, number),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let expected: Vec<(String, u64)> = (1..=4)
        .flat_map(|n| [("shell".to_string(), n), ("slack".to_string(), n)])
        .collect();
    assert_eq!(posts, expected);
}
}

on_both! {
#[test]
fn numbers_and_state_survive_reopening_the_store(backend) {
    let place = backend.place();
    let now = Utc::now();
    {
        let store = place.open(chats());
        store
            .ingest(
                "s",
                &[mention(
                    "s",
                    "1",
                    earshot::sources::mastodon::TRAITS.network(),
                )],
                &Cursor::default(),
                now,
            )
            .unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime
            .block_on(store.apply(1, &jane(), &Action::Claim, now))
            .unwrap();
    }
    let store = place.open(chats());
    assert!(
        matches!(store.mention(1).unwrap().state, State::Claimed { ref by, .. } if *by == jane())
    );
    let numbers = store
        .ingest(
            "s",
            &[
                mention("s", "1", earshot::sources::mastodon::TRAITS.network()),
                mention("s", "2", earshot::sources::mastodon::TRAITS.network()),
            ],
            &Cursor::default(),
            now,
        )
        .unwrap();
    assert_eq!(
        numbers,
        vec![2],
        "known ids are skipped and numbers continue"
    );
}
}

on_both! {
#[tokio::test]
async fn a_transition_writes_state_indexes_history_and_outbox_together(backend) {
    let place = backend.place();
    let store = place.open(chats());
    let now = Utc::now();
    store
        .ingest(
            "s",
            &[
                mention("s", "1", earshot::sources::mastodon::TRAITS.network()),
                mention("s", "2", earshot::sources::mastodon::TRAITS.network()),
            ],
            &Cursor::default(),
            now,
        )
        .unwrap();
    let before = store.outbox_len();

    let applied = store
        .apply(
            1,
            &jane(),
            &Action::Answer {
                text: "  Thanks!  ".into(),
            },
            now,
        )
        .await
        .unwrap();
    assert!(matches!(
        applied.tracked.state,
        State::Claimed {
            answering: true,
            ..
        }
    ));

    let effects: Vec<Effect> = store
        .outbox()
        .unwrap()
        .into_iter()
        .skip(before)
        .map(|(_, e)| e.effect)
        .collect();
    assert_eq!(
        effects,
        vec![
            Effect::Reply {
                number: 1,
                text: "Thanks!".into(),
                by: jane()
            },
            Effect::Update {
                chat: "shell".into(),
                number: 1,
                note: "answer queued by @jane".into()
            },
            Effect::Update {
                chat: "slack".into(),
                number: 1,
                note: "answer queued by @jane".into()
            },
        ]
    );
    let history = store.history(1).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        (history[1].from, history[1].to),
        (Some(Status::Open), Step::AnswerQueued)
    );

    let list = |filter, member: &Member| -> Vec<u64> {
        store
            .list(filter, member)
            .unwrap()
            .iter()
            .map(|t| t.number)
            .collect()
    };
    assert_eq!(list(ListFilter::Open, &jane()), vec![1, 2]);
    assert_eq!(list(ListFilter::Claimed, &jane()), vec![1]);
    assert_eq!(list(ListFilter::Mine, &jane()), vec![1]);
    assert_eq!(list(ListFilter::Mine, &bob()), Vec::<u64>::new());

    store
        .apply(2, &bob(), &Action::Ignore { reason: None }, now)
        .await
        .unwrap();
    assert_eq!(list(ListFilter::Open, &jane()), vec![1]);
    assert_eq!(list(ListFilter::All, &jane()), vec![1, 2]);
}
}

on_both! {
#[tokio::test]
async fn a_refused_transition_changes_nothing(backend) {
    let place = backend.place();
    let store = place.open(chats());
    let now = Utc::now();
    store
        .ingest(
            "s",
            &[mention("s", "1", earshot::sources::feed::TRAITS.network())],
            &Cursor::default(),
            now,
        )
        .unwrap();
    store.apply(1, &jane(), &Action::Claim, now).await.unwrap();
    let outbox = store.outbox_len();
    let history = store.history(1).unwrap().len();

    let refused = store.apply(1, &bob(), &Action::Claim, now).await;
    assert!(matches!(refused, Err(StoreError::Refused(_))));
    let refused = store
        .apply(1, &jane(), &Action::Answer { text: "hi".into() }, now)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Refused(_))),
        "feeds take no answers"
    );
    assert!(matches!(
        store.apply(9, &jane(), &Action::Claim, now).await,
        Err(StoreError::NoSuchMention(9))
    ));

    assert_eq!(store.outbox_len(), outbox);
    assert_eq!(store.history(1).unwrap().len(), history);
    assert_eq!(store.mention(1).unwrap().state.status(), Status::Claimed);
}
}

on_both! {
#[test]
fn two_people_claiming_at_once_have_one_winner(backend) {
    let place = backend.place();
    let store = place.open(chats());
    let now = Utc::now();
    let batch: Vec<Mention> = (0..50)
        .map(|i| {
            mention(
                "s",
                &i.to_string(),
                earshot::sources::mastodon::TRAITS.network(),
            )
        })
        .collect();
    store.ingest("s", &batch, &Cursor::default(), now).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for number in 1..=50u64 {
            let (a, b) = (store.clone(), store.clone());
            let jane =
                tokio::spawn(
                    async move { a.apply(number, &jane(), &Action::Claim, now).await.is_ok() },
                );
            let bob =
                tokio::spawn(
                    async move { b.apply(number, &bob(), &Action::Claim, now).await.is_ok() },
                );
            let (jane, bob) = (jane.await.unwrap(), bob.await.unwrap());
            assert!(
                jane ^ bob,
                "#{number}: exactly one claim wins (jane {jane}, bob {bob})"
            );
            let history = store.history(number).unwrap();
            assert_eq!(history.len(), 2, "one claim recorded");
            let holder = store
                .mention(number)
                .unwrap()
                .state
                .holder()
                .cloned()
                .unwrap();
            assert_eq!(
                holder,
                if jane {
                    Member::new("U1", "jane")
                } else {
                    Member::new("U2", "bob")
                }
            );
        }
    });
}
}

#[test]
fn a_store_from_another_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = crate::common::raw_sled(dir.path());
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", &99u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    let error = Store::open(dir.path(), chats()).err().expect("refused");
    let message = error.to_string();
    assert!(
        message.contains("schema version 99, but this earshot reads version 3"),
        "{message}"
    );

    let foreign = tempfile::tempdir().unwrap();
    {
        let db = crate::common::raw_sled(foreign.path());
        db.open_tree("mentions").unwrap().insert("x", "y").unwrap();
        db.flush().unwrap();
    }
    let error = Store::open(foreign.path(), chats()).err().expect("refused");
    assert!(
        error.to_string().contains("not written by earshot"),
        "{error}"
    );
}

on_both! {
#[tokio::test]
async fn a_sources_rotated_credentials_survive_reopening_the_store(backend) {
    let place = backend.place();
    let grant = Grant {
        seed: "fingerprint-of-seed".into(),
        refresh_token: "refresh-2".into(),
        access_token: Some("access-2".into()),
        expires_at: DateTime::from_timestamp(1_800_000_000, 0),
        refresh_expires_at: DateTime::from_timestamp(1_830_000_000, 0),
    };
    {
        let store = place.open(chats());
        assert_eq!(store.credentials("x").load().unwrap(), None);
        store.credentials("x").save(&grant).await.unwrap();
    }
    let store = place.open(chats());
    assert_eq!(store.credentials("x").load().unwrap(), Some(grant.clone()));
    assert_eq!(
        store.credentials("x-other").load().unwrap(),
        None,
        "each source has its own"
    );
    let printed = format!("{grant:?}");
    assert!(
        !printed.contains("refresh-2") && !printed.contains("access-2"),
        "{printed}"
    );
}
}

/// What an interrupted write (a full disk) could leave, made by hand in the sled files: the
/// counter behind the newest mention, a mention missing from the dedup index, another missing
/// from the status index. The store repairs them at open, so nothing is numbered twice, a post
/// found again is not stored twice, and `list` shows every mention.
#[tokio::test]
async fn at_open_the_indexes_are_checked_against_the_mentions_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), chats()).unwrap();
        let batch: Vec<Mention> = (1..=5)
            .map(|i| {
                mention(
                    "masto",
                    &i.to_string(),
                    earshot::sources::mastodon::TRAITS.network(),
                )
            })
            .collect();
        store
            .ingest("masto", &batch, &Cursor::default(), Utc::now())
            .unwrap();
        store.flush().await.unwrap();
    }
    {
        let db = crate::common::raw_sled(dir.path());
        db.open_tree("meta")
            .unwrap()
            .insert("next_number", &3u64.to_be_bytes())
            .unwrap();
        let keys = db.open_tree("keys").unwrap();
        for item in keys.iter() {
            let (key, number) = item.unwrap();
            if number.as_ref() == 5u64.to_be_bytes() {
                keys.remove(key).unwrap();
            }
        }
        let by_status = db.open_tree("by_status").unwrap();
        for item in by_status.iter() {
            let (key, _) = item.unwrap();
            if key.ends_with(&4u64.to_be_bytes()) {
                by_status.remove(key).unwrap();
            }
        }
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), chats()).unwrap();
    assert_eq!(store.count().unwrap(), 5);
    let again = store
        .ingest(
            "masto",
            &[
                mention("masto", "5", earshot::sources::mastodon::TRAITS.network()),
                mention("masto", "6", earshot::sources::mastodon::TRAITS.network()),
            ],
            &Cursor::default(),
            Utc::now(),
        )
        .unwrap();
    assert_eq!(
        again,
        vec![6],
        "#5 not stored twice, and no number handed out twice"
    );
    assert_eq!(store.mention(1).unwrap().mention.key.id, "1");
    let open: Vec<u64> = store
        .list(ListFilter::Open, jane())
        .unwrap()
        .iter()
        .map(|t| t.number)
        .collect();
    assert_eq!(open, vec![1, 2, 3, 4, 5, 6]);
}

/// One post stored under two numbers cannot be repaired by guessing: the store refuses to open
/// and says so.
#[tokio::test]
async fn a_post_stored_twice_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), chats()).unwrap();
        let batch: Vec<Mention> = (1..=2)
            .map(|i| {
                mention(
                    "masto",
                    &i.to_string(),
                    earshot::sources::mastodon::TRAITS.network(),
                )
            })
            .collect();
        store
            .ingest("masto", &batch, &Cursor::default(), Utc::now())
            .unwrap();
        store.flush().await.unwrap();
    }
    {
        let db = crate::common::raw_sled(dir.path());
        let mentions = db.open_tree("mentions").unwrap();
        let first = mentions.get(1u64.to_be_bytes()).unwrap().unwrap();
        mentions.insert(2u64.to_be_bytes(), first).unwrap();
        db.flush().unwrap();
    }
    let error = Store::open(dir.path(), chats()).err().expect("refused");
    assert!(matches!(error, StoreError::Inconsistent { .. }), "{error}");
    assert!(error.to_string().contains("#1 and #2"), "{error}");
}

on_both! {
/// After the first storage failure (here a stalled flush, as on a full disk) the store writes
/// nothing more and says why; the app watches `broken()` and exits non-zero. (A real full disk
/// is not mounted by this test: it checks the refusal that follows the first failure.)
#[tokio::test]
async fn after_a_storage_failure_nothing_more_is_written(backend) {
    let place = backend.place();
    let store = place.open(chats());
    let stalled: Result<(), StoreError> =
        Err(StoreError::Stalled(std::time::Duration::from_secs(30)));
    assert!(store.watch(stalled).is_err());
    assert!(store.broken().unwrap().contains("within 30s"));
    let refused = store.ingest(
        "masto",
        &[mention(
            "masto",
            "1",
            earshot::sources::mastodon::TRAITS.network(),
        )],
        &Cursor::default(),
        Utc::now(),
    );
    assert!(matches!(refused, Err(StoreError::Broken(_))), "{refused:?}");
    assert_eq!(
        store.count().unwrap(),
        0,
        "nothing stored after the failure"
    );
    assert!(matches!(store.flush().await, Err(StoreError::Broken(_))));
}
}

on_both! {
#[tokio::test]
async fn a_snooze_is_one_lifecycle_step_with_its_history_and_card_notes(backend) {
    let place = backend.place();
    let store = place.open(chats());
    let now = Utc::now();
    store
        .ingest(
            "s",
            &[mention("s", "1", earshot::sources::mastodon::TRAITS.network())],
            &Cursor::default(),
            now,
        )
        .unwrap();
    let posts = store.outbox().unwrap().len();
    let until = now + chrono::Duration::hours(2);
    let applied = store.snooze(1, &bob(), until, now).await.unwrap();
    assert_eq!(applied.tracked.state, State::Open, "the state stays as it was");
    assert_eq!(applied.entry.to, Step::Snoozed);
    assert_eq!(store.chase(1).unwrap().snoozed_until, Some(until));
    let history = store.history(1).unwrap();
    assert_eq!(history.last().unwrap().by, Actor::from(bob()));
    assert_eq!(history.last().unwrap().to, Step::Snoozed);
    let notes: Vec<String> = store
        .outbox()
        .unwrap()
        .into_iter()
        .skip(posts)
        .map(|(_, entry)| match entry.effect {
            Effect::Update { chat, number, .. } => format!("{chat} {number}"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(notes, ["shell 1", "slack 1"]);

    // Refused by the lifecycle: nothing is written.
    store.apply(1, &jane(), &Action::Done { note: None }, now).await.unwrap();
    let before = (store.history(1).unwrap().len(), store.outbox().unwrap().len());
    let later = until + chrono::Duration::hours(1);
    assert!(matches!(
        store.snooze(1, &bob(), later, now).await,
        Err(StoreError::Refused(_))
    ));
    assert!(matches!(
        store.snooze(9, &bob(), later, now).await,
        Err(StoreError::NoSuchMention(9))
    ));
    assert_eq!(
        (store.history(1).unwrap().len(), store.outbox().unwrap().len()),
        before
    );
    assert_eq!(store.chase(1).unwrap().snoozed_until, Some(until));
}
}
