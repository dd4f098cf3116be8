//! Leases on both backends: one holder per term, the next term's epoch greater, a fenced
//! store refusing a stale leader's writes, lanes taken by one process at a time, and a lease
//! that outlives the connections it was taken on (as behind a pooler).

use std::time::Duration;

use chrono::Utc;
use earshot::domain::retention::Change;
use earshot::domain::Cursor;
use earshot::store::{Fence, Store, StoreError, LEADER};

use crate::backend::{sql_on, Backend};
use crate::store::mention;

const LONG: Duration = Duration::from_secs(60);

fn masto_mention(id: &str) -> earshot::domain::Mention {
    mention("masto", id, earshot::sources::mastodon::TRAITS.network())
}

fn ingest(store: &Store, id: &str) -> Result<Vec<u64>, StoreError> {
    store.ingest(
        "masto",
        &[masto_mention(id)],
        &Cursor::default(),
        Utc::now(),
    )
}

on_both! {
#[test]
fn the_leader_lease_has_one_holder_per_term_and_the_next_term_a_greater_epoch(backend) {
    let place = backend.place();
    let store = place.open(vec![]);
    let first = store.acquire_lease(LEADER, "a", LONG).unwrap().expect("a free lease is taken");
    assert_eq!(first.holder, "a");
    assert!(first.live);
    assert_eq!(store.acquire_lease(LEADER, "b", LONG).unwrap(), None, "held by a");
    let renewed = store.acquire_lease(LEADER, "a", LONG).unwrap().unwrap();
    assert_eq!((renewed.epoch, renewed.since), (first.epoch, first.since), "a renewal keeps the term");
    // Another's release is nobody's business.
    store.release_lease(LEADER, "b").unwrap();
    assert!(store.acquire_lease(LEADER, "b", LONG).unwrap().is_none());
    store.release_lease(LEADER, "a").unwrap();
    let next = store.acquire_lease(LEADER, "b", LONG).unwrap().expect("released, so free");
    assert_eq!(next.epoch, first.epoch + 1);
    let read = store.lease(LEADER).unwrap().unwrap();
    assert_eq!((read.holder.as_str(), read.epoch, read.live), ("b", next.epoch, true));
}
}

on_both! {
#[test]
fn a_lease_not_renewed_runs_out_and_another_takes_it(backend) {
    let place = backend.place();
    let store = place.open(vec![]);
    let short = Duration::from_millis(300);
    let first = store.acquire_lease(LEADER, "a", short).unwrap().unwrap();
    assert!(store.acquire_lease(LEADER, "b", LONG).unwrap().is_none());
    std::thread::sleep(Duration::from_millis(600));
    assert!(!store.lease(LEADER).unwrap().unwrap().live);
    let taken = store.acquire_lease(LEADER, "b", LONG).unwrap().expect("ran out, so free");
    assert_eq!((taken.holder.as_str(), taken.epoch), ("b", first.epoch + 1));
    assert!(store.acquire_lease(LEADER, "a", LONG).unwrap().is_none(), "a's term is over");
}
}

on_both! {
#[test]
fn a_fenced_store_writes_only_while_its_process_leads(backend) {
    let place = backend.place();
    let store = place.open(vec![]);
    let fence = Fence::new("a");
    let leader = store.fenced(fence.clone());
    // Before its campaign confirmed a term, the leader's handle writes nothing.
    let refused = ingest(&leader, "1").unwrap_err();
    assert!(matches!(refused, StoreError::Fenced(_)), "{refused}");
    assert!(refused.to_string().contains("no longer leads"), "{refused}");
    assert_eq!(store.count().unwrap(), 0);
    let term = store.acquire_lease(LEADER, "a", LONG).unwrap().unwrap();
    fence.hold(term.epoch);
    assert_eq!(ingest(&leader, "1").unwrap().len(), 1);
    leader.save_cursor("masto", &Cursor { position: Some("8".into()), ..Cursor::default() }).unwrap();
    assert_eq!(store.cursor("masto").unwrap().position.as_deref(), Some("8"));
    // An unfenced handle (commands, the outbox) writes whoever leads.
    fence.hold(0);
    assert_eq!(ingest(&store, "2").unwrap().len(), 1);
    store.save_cursor("masto", &Cursor { position: Some("9".into()), ..Cursor::default() }).unwrap();
    assert!(matches!(leader.save_cursor("masto", &Cursor::default()), Err(StoreError::Fenced(_))));
    assert_eq!(store.cursor("masto").unwrap().position.as_deref(), Some("9"));
    // Looking after copied texts is leader work too: a past leader changes none.
    let refresh = Change::Refresh { text: "read again".into() };
    assert!(matches!(leader.change_copy(1, &refresh, Utc::now()), Err(StoreError::Fenced(_))));
    assert_ne!(store.mention(1).unwrap().mention.text, "read again");
}
}

/// A leader that lost its term without noticing (it stalled past its lease) still believes
/// it leads; the database refuses its writes. A sled store has one process, so this is
/// PostgreSQL's alone.
#[test]
fn a_stale_leaders_writes_are_refused_by_the_epoch() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let place = backend.place();
    let (one, two) = (place.open(vec![]), place.open(vec![]));
    let fence = Fence::new("a");
    let stale = one.fenced(fence.clone());
    let short = Duration::from_millis(300);
    fence.hold(
        one.acquire_lease(LEADER, "a", short)
            .unwrap()
            .unwrap()
            .epoch,
    );
    assert_eq!(ingest(&stale, "1").unwrap().len(), 1);
    std::thread::sleep(Duration::from_millis(600));
    let new_term = two.acquire_lease(LEADER, "b", LONG).unwrap().unwrap();
    let refused = ingest(&stale, "2").unwrap_err();
    assert!(
        refused
            .to_string()
            .contains(&format!("b leads in term {}", new_term.epoch)),
        "{refused}"
    );
    assert!(matches!(
        stale.save_cursor("masto", &Cursor::default()),
        Err(StoreError::Fenced(_))
    ));
    assert_eq!(two.count().unwrap(), 1);
}

on_both! {
#[test]
fn an_outbox_lane_is_delivered_by_one_process_at_a_time(backend) {
    let place = backend.place();
    let one = place.open(vec![]);
    // A sled folder opens once; its one handle's leases still tell holders apart.
    let two = match backend {
        Backend::Sled => one.clone(),
        Backend::Postgres => place.open(vec![]),
    };
    let lanes = vec!["chat:slack".to_string(), "reply:7".to_string()];
    assert_eq!(one.take_lanes(&lanes[..1], "p1", LONG).unwrap(), lanes[..1].to_vec());
    assert_eq!(two.take_lanes(&lanes, "p2", LONG).unwrap(), lanes[1..].to_vec());
    assert_eq!(one.take_lanes(&lanes, "p1", LONG).unwrap(), lanes[..1].to_vec(), "renewed, not stolen");
    one.release_lanes(&lanes, "p1").unwrap();
    assert_eq!(two.take_lanes(&lanes, "p2", LONG).unwrap(), lanes);
}
}

/// The lease lives in a row, not in a connection: when every connection the store had is cut
/// (a pooler recycling them, a database restart), the holder renews on new ones and keeps its
/// term, and its fenced writes go on. A session advisory lock would have been lost.
#[test]
fn the_lease_survives_its_connections_being_recycled() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let place = backend.place();
    let store = place.open(vec![]);
    let fence = Fence::new("a");
    let leader = store.fenced(fence.clone());
    let term = store.acquire_lease(LEADER, "a", LONG).unwrap().unwrap();
    fence.hold(term.epoch);
    assert_eq!(ingest(&leader, "1").unwrap().len(), 1);
    let url = place.url().unwrap();
    let database = url.rsplit('/').next().unwrap().to_string();
    for round in 0..3 {
        sql_on(
            &url,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            ),
        );
        // The first statement after the cut may meet a dead connection; the next gets a new one.
        let renewed = (0..5)
            .find_map(|_| store.acquire_lease(LEADER, "a", LONG).ok())
            .expect("renewed on a new connection")
            .expect("still a's");
        assert_eq!(renewed.epoch, term.epoch, "round {round}: the same term");
        assert!(store.acquire_lease(LEADER, "b", LONG).unwrap().is_none());
        let stored = (0..5).find_map(|i| ingest(&leader, &format!("{round}-{i}")).ok());
        assert_eq!(
            stored.map(|numbers| numbers.len()),
            Some(1),
            "round {round}"
        );
    }
}

on_both! {
#[tokio::test]
async fn health_in_the_chat_names_the_leader_and_the_oldest_waiting_effect(backend) {
    use earshot::desk::{Caller, Desk};
    use earshot::domain::Member;

    let place = backend.place();
    let store = place.open(vec!["slack".into()]);
    let desk = Desk::new(store.clone(), "/mentions".into(), std::sync::Arc::new(tokio::sync::Notify::new()));
    let caller = Caller::new(Member::new("U1", "jane"), "slack");
    let resolve = |_: &earshot::domain::MemberRef| Member::new("U2", "bob");
    let now = Utc::now();

    let nobody = desk.handle(&caller, "health", &resolve, now).await;
    assert!(nobody.ok);
    assert!(nobody.text.starts_with("Leader: none; no earshot process holds the lease"), "{}", nobody.text);
    assert!(nobody.text.contains("Outbox: 0 effects waiting"), "{}", nobody.text);

    let term = store.acquire_lease(LEADER, "db1:4242:20261203T070000", LONG).unwrap().unwrap();
    ingest(&store, "1").unwrap();
    let text = desk.handle(&caller, "health", &resolve, now + chrono::Duration::minutes(3)).await.text;
    assert!(
        text.contains(&format!("Leader: db1:4242:20261203T070000 since {} (term {})", term.since.format("%Y-%m-%d %H:%M:%S UTC"), term.epoch)),
        "{text}"
    );
    assert!(text.contains("Outbox: 1 effect waiting"), "{text}");
    assert!(text.contains("Oldest undelivered: the card for #1 in slack"), "{text}");
    assert!(text.contains("(3m ago)") || text.contains("(2m 59s ago)"), "{text}");

    store.release_lease(LEADER, "db1:4242:20261203T070000").unwrap();
    let lapsed = desk.handle(&caller, "health", &resolve, now).await.text;
    assert!(lapsed.contains("Leader: none; the lease of db1:4242:20261203T070000 ran out at"), "{lapsed}");
    // The whole status report carries the same lines.
    let report = earshot::status::report(&store, now).unwrap();
    assert!(report.contains("Leader: none; the lease of db1"), "{report}");
    assert!(report.contains("Oldest undelivered: the card for #1"), "{report}");
}
}
