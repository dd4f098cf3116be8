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

/// A poll's batch is scored on several threads when it is big enough: each mention must still
/// get its own post's priority, in the batch's order, in both languages.
#[test]
fn a_big_batch_is_scored_mention_by_mention_in_order() {
    use crate::store::mention;
    use earshot::domain::{Cursor, Lexicon};
    use earshot::store::Store;

    let texts = [
        (
            "en",
            "still no package after two weeks and nobody answers the phone",
        ),
        ("en", "lovely coffee, the team was quick and kind"),
        ("nl", "al een week geen reactie van de klantenservice"),
        ("nl", "heerlijke koffie, snel bezorgd"),
        ("en", "charged twice for one order, where is my refund?"),
    ];
    let batch: Vec<_> = (0..203)
        .map(|n| {
            let (language, text) = texts[(n * 7 + n / 5) % texts.len()];
            let mut post = mention(
                "masto",
                &format!("p{n}"),
                earshot::sources::mastodon::TRAITS.network(),
            );
            post.text = format!("{text} #{n}");
            post.language = Some(language.into());
            post
        })
        .collect();
    let lexicon = Lexicon::shipped().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), vec!["shell".into()])
        .unwrap()
        .with_lexicon(lexicon.clone());
    let numbers = store
        .ingest("masto", &batch, &Cursor::default(), chrono::Utc::now())
        .unwrap();
    assert_eq!(numbers.len(), batch.len());
    let mut complaints = 0;
    for (number, post) in numbers.iter().zip(&batch) {
        let stored = store.mention(*number).unwrap();
        assert_eq!(stored.mention.key, post.key);
        let expected = lexicon.score(&post.text, post.language.as_deref());
        complaints += usize::from(expected.complaint);
        assert_eq!(stored.priority, expected, "#{number}: {}", post.text);
    }
    assert!(
        complaints > 50 && complaints < 150,
        "{complaints} complaints"
    );
}
