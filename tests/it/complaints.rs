//! End to end on the embedded default: the shipped config and sample feed, no lexicon file
//! beside them (so the lexicon built into the binary applies), through the real binary. The
//! sample's complaints must be flagged on their cards and in `show`, each with its reason.

use crate::common;

use common::run;

const CONFIG: &str = include_str!("../../bot-config/earshot.toml");
const SAMPLE_FEED: &str = include_str!("../../bot-config/sample-feed.xml");

/// The card (from its first line to its last) that holds `needle`.
fn card_with<'a>(stdout: &'a str, needle: &str) -> Option<&'a str> {
    stdout
        .split("┌─ ")
        .skip(1)
        .map(|card| card.split("└─").next().unwrap_or(card))
        .find(|card| card.contains(needle))
}

#[test]
fn the_sample_feeds_complaints_are_flagged_with_a_reason_on_the_embedded_default() {
    let dir = tempfile::tempdir().unwrap();
    let config = CONFIG.replace("../data/earshot", "data");
    assert_ne!(
        config, CONFIG,
        "the shipped store path moved; update this test"
    );
    std::fs::write(dir.path().join("earshot.toml"), config).unwrap();
    std::fs::write(dir.path().join("sample-feed.xml"), SAMPLE_FEED).unwrap();
    assert!(!dir.path().join("priority-lexicon.toml").exists());

    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_earshot"));
    command
        .args(["run", "--once", "--config"])
        .arg(dir.path().join("earshot.toml"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = run(command, "list\nshow 1\nshow 2\n");
    assert!(out.success, "{}\n{}", out.stdout, out.stderr);

    let lids = card_with(&out.stdout, "lids leak").expect("the lids card");
    assert!(
        lids.contains("⚠ likely complaint:")
            && lids.contains("no reply (\"nobody at the company answers\")"),
        "{lids}"
    );
    let service = card_with(&out.stdout, "klantenservice").expect("the klantenservice card");
    assert!(
        service.contains("⚠ likely complaint:")
            && service.contains("geen reactie (\"reageert nooit\")"),
        "{service}"
    );
    // Praise and news are not flagged.
    let list = card_with(&out.stdout, "makes the list");
    assert!(
        list.is_some_and(|card| !card.contains("likely complaint")),
        "{list:?}"
    );
    // `show` says why too.
    let shown: Vec<&str> = out
        .stdout
        .lines()
        .filter(|line| line.starts_with("⚠ likely complaint"))
        .collect();
    assert!(shown.len() >= 2, "{}", out.stdout);
}
