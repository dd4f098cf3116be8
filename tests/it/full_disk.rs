//! A real full disk: the store lives on a 1.5 MiB tmpfs (mounted in a user and mount
//! namespace of its own, so no privileges are needed) that fills while eight sources ingest.
//! earshot must stop rather than hang, exit non-zero saying why, and leave a store that, once
//! space comes back, holds every mention once under consecutive numbers.

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use earshot::store::Store;

use crate::common::{atom, start_feed_server, FeedState, Setup};

const SOURCES: usize = 8;
const ENTRIES: usize = 60;

/// Whether this machine lets an unprivileged process mount a tmpfs in a namespace of its own.
fn can_mount_tmpfs() -> bool {
    Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /tmp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn feed_sources(addr: std::net::SocketAddr) -> String {
    (0..SOURCES)
        .map(|n| {
            format!("[[sources]]\nkind = \"feed\"\nname = \"alerts{n}\"\nurl = \"http://{addr}/feed\"\nevery = \"1m\"\n\n")
        })
        .collect()
}

fn big_feed() -> String {
    let filler = "The lids of the Acme takeaway cups leak when you walk fast. ".repeat(30);
    let entries: Vec<(String, String, String)> = (0..ENTRIES)
        .map(|n| {
            (
                format!("tag:news.example.com,2026:{n}"),
                format!("Acme in the news, part {n}"),
                format!("{filler} ({n})"),
            )
        })
        .collect();
    let borrowed: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|(id, title, content)| (id.as_str(), title.as_str(), content.as_str()))
        .collect();
    atom(&borrowed)
}

/// Runs `earshot run --once` with its store on a small tmpfs, then copies what the store
/// holds out of it (the tmpfs ends with the namespace). Returns (exit status, stderr).
fn run_on_small_disk(setup: &Setup) -> (Option<i32>, String) {
    let data = setup.path().join("data");
    let kept = setup.path().join("kept");
    std::fs::create_dir_all(&data).unwrap();
    let script = "mount -t tmpfs -o size=1536k tmpfs \"$1\" || exit 99; \
                  \"$3\" run --once --config \"$4\" </dev/null; rc=$?; \
                  cp -a \"$1\" \"$2\"; exit $rc";
    let mut child = Command::new("unshare")
        .args(["-rm", "sh", "-c", script, "sh"])
        .arg(&data)
        .arg(&kept)
        .arg(env!("CARGO_BIN_EXE_earshot"))
        .arg(setup.config())
        .env("RUST_LOG", "earshot=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hang guard, not a measurement: a flush that waits for ever is the bug this catches.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("earshot did not exit within 90 s on a full disk");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::rename(&kept, &data).unwrap();
    (status.code(), stderr)
}

/// Every number from 1 to the count is one mention, and no source and id is stored twice.
fn assert_consistent(setup: &Setup) -> u64 {
    let store = Store::open(&setup.path().join("data"), vec!["shell".into()]).unwrap();
    let count = store.count().unwrap();
    let mut keys = HashSet::new();
    for number in 1..=count {
        let tracked = store
            .mention(number)
            .unwrap_or_else(|error| panic!("#{number} of {count} is missing: {error}"));
        assert!(
            keys.insert(tracked.mention.key.clone()),
            "{:?} is stored twice (again as #{number})",
            tracked.mention.key
        );
    }
    count
}

#[test]
fn a_full_disk_stops_earshot_and_loses_or_doubles_nothing() {
    if !can_mount_tmpfs() {
        println!("full_disk: skipped: this machine does not let `unshare -rm` mount a tmpfs");
        return;
    }
    let state = FeedState::default();
    state.serve(Some(&big_feed()), "application/atom+xml");
    let addr = start_feed_server(state);
    let setup = Setup::new(&feed_sources(addr));

    let (code, stderr) = run_on_small_disk(&setup);
    assert_ne!(code, Some(99), "the tmpfs was not mounted: {stderr}");
    assert_ne!(
        code,
        Some(0),
        "a full disk must not end in success:\n{stderr}"
    );
    assert!(
        stderr.contains("the store cannot write"),
        "the operator is told why:\n{stderr}"
    );
    let before = assert_consistent(&setup);
    println!(
        "full_disk: {before} of {} mentions stored when the disk filled",
        SOURCES * ENTRIES
    );
    assert!(
        before < (SOURCES * ENTRIES) as u64,
        "the disk filled before everything was stored ({before} stored)"
    );

    // Space is back: the next run stores the rest, each once.
    let run = setup.run_once("", &[]);
    assert!(run.success, "{}", run.stderr);
    assert_eq!(assert_consistent(&setup), (SOURCES * ENTRIES) as u64);
}
