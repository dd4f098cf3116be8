//! `earshot migrate`: a database is never changed at start (it is refused with the command to
//! run), migrate makes and brings forward its tables, and `--to` copies a store into an empty
//! one of either kind, record for record, numbers going on without a gap. Also: two stores on
//! one database cannot store one post twice.

use chrono::Utc;
use earshot::domain::{Action, Cursor, Member, Mention};
use earshot::store::{Location, Store, StoreError};

use crate::backend::{sql_on, Backend, Place};

/// A Mastodon post numbered by `id`, as the store's own tests make them.
fn mention(id: &str) -> Mention {
    crate::store::mention("masto", id, earshot::sources::mastodon::TRAITS.network())
}

fn chats() -> Vec<String> {
    vec!["shell".into()]
}

/// A store with `count` mentions, the first one claimed and answered (history, a queued reply).
async fn stocked(store: &Store, count: usize) {
    let batch: Vec<Mention> = (1..=count).map(|i| mention(&i.to_string())).collect();
    store
        .ingest("masto", &batch, &Cursor::default(), Utc::now())
        .unwrap();
    let jane = Member::new("U1", "jane");
    store
        .apply(1, &jane, &Action::Claim, Utc::now())
        .await
        .unwrap();
    let answer = Action::Answer {
        text: "Thanks!".into(),
    };
    store.apply(1, &jane, &answer, Utc::now()).await.unwrap();
}

#[test]
fn a_database_is_refused_until_earshot_migrate_made_its_tables() {
    let Some(_) = Backend::postgres() else {
        return;
    };
    let place = Place::database();
    let error = Store::open_at(&place.location, chats())
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(
        message.contains("has no earshot tables") && message.contains("run `earshot migrate`"),
        "{message}"
    );
    assert!(matches!(error, StoreError::Unmigrated { .. }));

    let said = Store::migrate(&place.location).unwrap();
    assert!(said.contains("created earshot's tables"), "{said}");
    let again = Store::migrate(&place.location).unwrap();
    assert!(again.contains("nothing to do"), "{again}");
    place.open(chats());

    // An older schema is refused too, and migrate brings it forward.
    let url = place.url().unwrap();
    sql_on(
        &url,
        "UPDATE earshot_meta SET value = '\\x0000000000000001'::bytea WHERE key = 'schema_version'::bytea",
    );
    let error = Store::open_at(&place.location, chats())
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("schema version 1")
            && error.to_string().contains("run `earshot migrate`"),
        "{error}"
    );
    let said = Store::migrate(&place.location).unwrap();
    assert!(said.contains("from schema version 1 to 3"), "{said}");
    place.open(chats());
}

#[test]
fn two_stores_on_one_database_store_each_post_once_and_number_without_gaps() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let place = backend.place();
    let (first, second) = (place.open(chats()), place.open(chats()));
    let now = Utc::now();
    // Both poll the same source and find overlapping windows of the same posts.
    let pollers: Vec<_> = [first.clone(), second.clone()]
        .into_iter()
        .enumerate()
        .map(|(which, store)| {
            std::thread::spawn(move || {
                let mut numbered = Vec::new();
                for round in 0..20 {
                    let batch: Vec<Mention> = (round * 5..round * 5 + 10 + which)
                        .map(|i| mention(&i.to_string()))
                        .collect();
                    numbered.extend(
                        store
                            .ingest("masto", &batch, &Cursor::default(), now)
                            .unwrap(),
                    );
                }
                numbered
            })
        })
        .collect();
    let mut numbers: Vec<u64> = pollers
        .into_iter()
        .flat_map(|poller| poller.join().unwrap())
        .collect();
    numbers.sort_unstable();
    let posts = 19 * 5 + 11;
    assert_eq!(
        numbers,
        (1..=posts as u64).collect::<Vec<_>>(),
        "every post numbered once, with no number skipped or given twice"
    );
    assert_eq!(first.count().unwrap(), posts as u64);
    let mut ids: Vec<String> = (1..=posts as u64)
        .map(|number| second.mention(number).unwrap().mention.key.id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), posts, "no post stored twice");
    assert_eq!(first.outbox().unwrap().len(), posts, "one card each");
}

/// sled -> PostgreSQL -> sled: every record arrives, the counts are printed, and numbering goes
/// on in the copy where the original stopped.
#[tokio::test]
async fn a_store_copied_to_postgres_and_back_keeps_every_record_and_its_numbering() {
    let Some(postgres) = Backend::postgres() else {
        return;
    };
    let folder = Backend::Sled.place();
    let original = folder.open(chats());
    stocked(&original, 30).await;
    let outbox = original.outbox().unwrap();

    let database = Place::database();
    let copied = original.copy_into(&database.location).unwrap();
    assert_eq!(
        (copied.mentions, copied.history, copied.outbox),
        (30, 2, outbox.len())
    );
    assert!(
        copied.to_string().starts_with(&format!(
            "copied 30 mentions, 2 history entries, {} outbox effects",
            outbox.len()
        )),
        "{copied}"
    );
    drop(original);

    let on_postgres = database.open(chats());
    assert_eq!(on_postgres.count().unwrap(), 30);
    assert_eq!(on_postgres.history(1).unwrap().len(), 3);
    assert_eq!(on_postgres.outbox().unwrap(), outbox);
    let next = on_postgres
        .ingest(
            "masto",
            &[mention("31"), mention("5")],
            &Cursor::default(),
            Utc::now(),
        )
        .unwrap();
    assert_eq!(
        next,
        vec![31],
        "numbers go on; a copied post is still known"
    );
    let queued = on_postgres.outbox().unwrap();
    assert!(
        queued.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "the new card queues after the copied ones"
    );

    let back = tempfile::tempdir().unwrap();
    let back_location = Location::Folder(back.path().join("earshot"));
    let copied = on_postgres.copy_into(&back_location).unwrap();
    assert_eq!(copied.mentions, 31);
    drop(on_postgres);
    let on_sled = Store::open_at(&back_location, chats()).unwrap();
    assert_eq!(on_sled.outbox().unwrap(), queued);
    let jane = Member::new("U1", "jane");
    on_sled
        .apply(2, &jane, &Action::Claim, Utc::now())
        .await
        .unwrap();
    let last = on_sled.outbox().unwrap();
    assert!(last.windows(2).all(|pair| pair[0].0 < pair[1].0));
    assert_eq!(on_sled.history(1).unwrap().len(), 3);
    let _ = postgres;
}

#[tokio::test]
async fn a_copy_into_a_store_that_holds_anything_is_refused() {
    let Some(postgres) = Backend::postgres() else {
        return;
    };
    let folder = Backend::Sled.place();
    let original = folder.open(chats());
    stocked(&original, 3).await;

    let used = postgres.place();
    let other = used.open(chats());
    stocked(&other, 1).await;
    let error = original.copy_into(&used.location).expect_err("refused");
    assert!(
        matches!(error, StoreError::NotEmpty { .. }) && error.to_string().contains("is not empty"),
        "{error}"
    );
    assert_eq!(other.count().unwrap(), 1, "the target is left as it was");

    let used_folder = Backend::Sled.place();
    stocked(&used_folder.open(chats()), 1).await;
    let error = other.copy_into(&used_folder.location).expect_err("refused");
    assert!(error.to_string().contains("is not empty"), "{error}");
}
