//! What keeps a big store cheap to read: lists picked a page at a time from the status index
//! (complaints first, then oldest), figures read by time window, and a store written by the
//! previous schema brought forward at open.

use chrono::{DateTime, Duration, Utc};
use earshot::digest::Digester;
use earshot::domain::{Action, Author, Cursor, ListFilter, Member, Mention, MentionKey, Step};
use earshot::store::Store;

fn mention(id: u64, text: &str) -> Mention {
    Mention {
        key: MentionKey::new("feed", id.to_string()),
        network: earshot::sources::feed::TRAITS.network(),
        author: Author {
            handle: format!("user{id}"),
            name: None,
            profile: None,
        },
        text: text.to_string(),
        link: Some(format!("https://example.com/{id}")),
        created_at: DateTime::UNIX_EPOCH,
        matched: vec!["acme".into()],
        language: None,
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

const COMPLAINT: &str = "Acme, I want a refund: the lid is broken and this is a scam";
const MILD: &str = "Acme, I want a refund, the lid is broken";

/// Ten mentions a day apart, ending now: #4 and #8 likely complaints, #8 the stronger one.
fn stocked(store: &Store, now: DateTime<Utc>) {
    for n in 1..=10u64 {
        let text = match n {
            4 => MILD,
            8 => COMPLAINT,
            _ => "Acme coffee is nice",
        };
        let at = now - Duration::days(10 - n as i64);
        store
            .ingest("feed", &[mention(n, text)], &Cursor::default(), at)
            .unwrap();
    }
}

fn numbers(page: &earshot::store::Page) -> Vec<u64> {
    page.shown.iter().map(|tracked| tracked.number).collect()
}

on_both! {
#[tokio::test]
async fn a_list_is_paged_complaints_first_then_oldest(backend) {
    let place = backend.place();
    let store = place.open(vec![]);
    let now = Utc::now();
    stocked(&store, now);
    let jane = Member::new("U1", "jane");
    assert!(
        store.mention(8).unwrap().priority.score > store.mention(4).unwrap().priority.score,
        "the fixture needs #8 to outscore #4"
    );
    store.apply(9, &jane, &Action::Claim, now).await.unwrap();
    store.apply(2, &jane, &Action::Claim, now).await.unwrap();
    store
        .apply(3, &jane, &Action::Ignore { reason: None }, now)
        .await
        .unwrap();

    let first = store.list_page(ListFilter::Open, &jane, 1, 4).unwrap();
    assert_eq!(first.total, 9, "open and claimed, not the ignored one");
    assert_eq!(numbers(&first), vec![8, 4, 1, 2]);
    let second = store.list_page(ListFilter::Open, &jane, 2, 4).unwrap();
    assert_eq!(numbers(&second), vec![5, 6, 7, 9]);
    let last = store.list_page(ListFilter::Open, &jane, 3, 4).unwrap();
    assert_eq!(numbers(&last), vec![10]);
    assert!(store
        .list_page(ListFilter::Open, &jane, 4, 4)
        .unwrap()
        .shown
        .is_empty());

    let mine = store.list_page(ListFilter::Mine, &jane, 1, 10).unwrap();
    assert_eq!((mine.total, numbers(&mine)), (2, vec![2, 9]));
    let claimed = store.list_page(ListFilter::Claimed, &jane, 1, 10).unwrap();
    assert_eq!(numbers(&claimed), vec![2, 9]);

    // `all` pages back from the newest; each page puts its complaints first.
    let all = store.list_page(ListFilter::All, &jane, 1, 4).unwrap();
    assert_eq!((all.total, numbers(&all)), (10, vec![8, 7, 9, 10]));
    let older = store.list_page(ListFilter::All, &jane, 3, 4).unwrap();
    assert_eq!(numbers(&older), vec![1, 2]);

    // A claim moves the rank with it: released, #8 is still first.
    store.apply(8, &jane, &Action::Claim, now).await.unwrap();
    store.apply(8, &jane, &Action::Release, now).await.unwrap();
    let again = store.list_page(ListFilter::Open, &jane, 1, 2).unwrap();
    assert_eq!(numbers(&again), vec![8, 4]);
}
}

on_both! {
#[tokio::test]
async fn figures_read_only_their_window(backend) {
    let place = backend.place();
    let store = place.open(vec![]);
    let now = Utc::now();
    stocked(&store, now);
    let jane = Member::new("U1", "jane");
    // #2 was found eight days ago and answered today: yesterday's window misses it, a window
    // of settled mentions finds it.
    store
        .apply(
            2,
            &jane,
            &Action::Done { note: None },
            now - Duration::hours(1),
        )
        .await
        .unwrap();

    let week: Vec<u64> = store
        .received_since(now - Duration::days(3) + Duration::hours(1))
        .unwrap()
        .iter()
        .map(|(tracked, _)| tracked.number)
        .collect();
    assert_eq!(week, vec![8, 9, 10]);
    let settled: Vec<u64> = store
        .settled_between(now - Duration::days(1), now)
        .unwrap()
        .iter()
        .map(|(tracked, history)| {
            assert_eq!(history.last().unwrap().to, Step::Done);
            tracked.number
        })
        .collect();
    assert_eq!(settled, vec![2]);
    assert!(store
        .settled_between(now - Duration::days(5), now - Duration::days(1))
        .unwrap()
        .is_empty());
    let both: Vec<u64> = store
        .received_or_settled_since(now - Duration::days(2) + Duration::hours(1))
        .unwrap()
        .iter()
        .map(|(tracked, _)| tracked.number)
        .collect();
    assert_eq!(both, vec![2, 9, 10]);
}
}

on_both! {
#[tokio::test]
async fn the_digest_names_the_most_urgent_and_counts_the_rest(backend) {
    let place = backend.place();
    let store = place.open(vec![]);
    let now = Utc::now();
    for n in 1..=40u64 {
        let text = if n == 33 {
            COMPLAINT
        } else {
            "Acme coffee is nice"
        };
        store
            .ingest("feed", &[mention(n, text)], &Cursor::default(), now)
            .unwrap();
    }
    let text = Digester::text(&store, chrono_tz::UTC, now).unwrap();
    assert!(text.contains("Unclaimed (40):"), "{text}");
    let named: Vec<&str> = text
        .lines()
        .filter(|line| line.trim_start().trim_start_matches("⚠ ").starts_with('#'))
        .collect();
    assert_eq!(named.len(), earshot::digest::DIGEST_LINES, "{text}");
    assert!(
        named[0].contains("#33 "),
        "the complaint comes first: {text}"
    );
    assert!(named[1].contains("#1 "), "then the oldest: {text}");
    assert!(
        text.contains(&format!(
            "… and {} more",
            40 - earshot::digest::DIGEST_LINES
        )),
        "{text}"
    );
}
}

#[tokio::test]
async fn a_store_of_the_previous_schema_is_brought_forward_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let jane = Member::new("U1", "jane");
    {
        let store = Store::open(dir.path(), vec![]).unwrap();
        stocked(&store, now);
        store
            .apply(5, &jane, &Action::Done { note: None }, now)
            .await
            .unwrap();
        store.flush().await.unwrap();
    }
    // What version 1 wrote: no settled index, and empty values in the status index.
    {
        let db = crate::common::raw_sled(dir.path());
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", &1u64.to_be_bytes())
            .unwrap();
        db.open_tree("settled").unwrap().clear().unwrap();
        let by_status = db.open_tree("by_status").unwrap();
        for key in by_status.iter().keys() {
            by_status.insert(key.unwrap(), &[]).unwrap();
        }
        db.flush().unwrap();
    }
    let store = Store::open(dir.path(), vec![]).unwrap();
    let settled: Vec<u64> = store
        .settled_between(now - Duration::hours(1), now + Duration::hours(1))
        .unwrap()
        .iter()
        .map(|(tracked, _)| tracked.number)
        .collect();
    assert_eq!(settled, vec![5]);
    let open = store.list_page(ListFilter::Open, &jane, 1, 2).unwrap();
    assert_eq!(numbers(&open), vec![8, 4], "ranks rebuilt");
    drop(store);
    // And it stays at the new version.
    let db = crate::common::raw_sled(dir.path());
    let version = db.open_tree("meta").unwrap().get("schema_version").unwrap();
    assert_eq!(version.as_deref(), Some(&3u64.to_be_bytes()[..]));
}

on_both! {
#[tokio::test]
async fn list_shows_a_page_and_says_how_to_get_the_next(backend) {
    let place = backend.place();
    let store = place.open(vec![]);
    let now = Utc::now();
    for n in 1..=40u64 {
        store
            .ingest(
                "feed",
                &[mention(n, "Acme coffee is nice")],
                &Cursor::default(),
                now,
            )
            .unwrap();
    }
    let desk = earshot::desk::Desk::new(
        store,
        "/mentions".into(),
        std::sync::Arc::new(tokio::sync::Notify::new()),
    );
    let jane = Member::new("U1", "jane");
    let first = desk
        .handle(
            &earshot::desk::Caller::new(jane.clone(), "shell"),
            "list",
            &|who| Member::new(&who.0, &who.0),
            now,
        )
        .await;
    let lines: Vec<&str> = first.text.lines().collect();
    assert_eq!(lines[0], "40 mention(s), open (page 1 of 3):");
    assert!(lines[1].starts_with("#1 · open"), "{}", first.text);
    assert_eq!(lines.len(), 1 + 15 + 1, "{}", first.text);
    assert_eq!(*lines.last().unwrap(), "More: `/mentions list open 2`");

    let last = desk
        .handle(
            &earshot::desk::Caller::new(jane.clone(), "shell"),
            "list open 3",
            &|who| Member::new(&who.0, &who.0),
            now,
        )
        .await;
    assert!(
        last.text.starts_with("40 mention(s), open (page 3 of 3):"),
        "{}",
        last.text
    );
    assert!(!last.text.contains("More:"), "{}", last.text);
    assert_eq!(last.text.lines().count(), 1 + 10);

    let beyond = desk
        .handle(
            &earshot::desk::Caller::new(jane.clone(), "shell"),
            "list open 4",
            &|who| Member::new(&who.0, &who.0),
            now,
        )
        .await;
    assert!(!beyond.ok);
    assert_eq!(
        beyond.text,
        "`list open` has 3 page(s); there is no page 4."
    );
}
}

on_both! {
#[tokio::test]
async fn autocomplete_reads_only_the_newest_owed_mentions(backend) {
    let place = backend.place();
    let store = place.open(vec![]);
    let now = Utc::now();
    stocked(&store, now);
    let jane = Member::new("U1", "jane");
    store.apply(9, &jane, &Action::Claim, now).await.unwrap();
    store
        .apply(10, &jane, &Action::Ignore { reason: None }, now)
        .await
        .unwrap();
    let newest: Vec<u64> = store
        .newest_owed(3)
        .unwrap()
        .iter()
        .map(|tracked| tracked.number)
        .collect();
    assert_eq!(
        newest,
        vec![7, 8, 9],
        "open and claimed, not ignored; oldest first"
    );
    assert_eq!(store.newest_owed(100).unwrap().len(), 9);
    assert!(store.newest_owed(0).unwrap().is_empty());
}
}
