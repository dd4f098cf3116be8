//! The real binary against a feed served on 127.0.0.1: relayed once, numbered, filtered by the
//! rules, never relayed again (next run, restart, 304), and robust to bad and vanished feeds.

use crate::common;

use common::{atom, start_feed_server, FeedState, Setup};

fn http_source(addr: std::net::SocketAddr) -> String {
    format!("[[sources]]\nkind = \"feed\"\nname = \"alerts\"\nurl = \"http://{addr}/feed\"\nevery = \"1m\"\n")
}

#[test]
fn relays_each_matching_entry_once_with_numbers_across_runs_and_304s() {
    let state = FeedState::default();
    let addr = start_feed_server(state.clone());
    state.serve(
        Some(&atom(&[
            ("e1", "Acme lids leak", "the &lt;b&gt;Acme&lt;/b&gt; cups"),
            ("e2", "Vacature bij Acme", "barista"),
            ("e3", "AcmeCorp results", "shares rose"),
            ("e4", "Acme Coffee review", "third place"),
        ])),
        "application/atom+xml",
    );
    let setup = Setup::new(&http_source(addr));

    let first = setup.run_once("", &[]);
    assert!(first.success, "{}", first.stderr);
    assert_eq!(
        first.cards(),
        vec![1, 2],
        "e1 and e4 match; e2 is excluded, e3 is another word\n{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("│ Acme lids leak\n│ the Acme cups"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("https://news.example.com/e1"),
        "redirect unwrapped:\n{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("matched: acme, \"acme coffee\""),
        "{}",
        first.stdout
    );
    assert!(
        !first.stdout.contains("Vacature"),
        "excluded entry relayed:\n{}",
        first.stdout
    );

    // Same feed again: the server answers 304 to the stored ETag, nothing is relayed.
    let second = setup.run_once("", &[]);
    assert!(second.success, "{}", second.stderr);
    assert_eq!(second.cards(), Vec::<u64>::new(), "{}", second.stdout);
    let requests = state.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].if_none_match.is_some(),
        "conditional GET sent the ETag"
    );
    assert_eq!(requests[1].status, 304);

    // A new entry among the old ones (new ETag, 200): only the new one, with the next number.
    state.serve(
        Some(&atom(&[
            ("e5", "Acme again", "hello"),
            ("e1", "Acme lids leak", "the cups"),
            ("e4", "Acme Coffee review", "third place"),
        ])),
        "application/atom+xml",
    );
    let third = setup.run_once("list all\n", &[]);
    assert!(third.success, "{}", third.stderr);
    assert_eq!(third.cards(), vec![3], "{}", third.stdout);
    assert!(
        third.stdout.contains("3 mention(s), all:"),
        "{}",
        third.stdout
    );
}

#[test]
fn a_malformed_or_vanished_feed_is_reported_and_loses_nothing() {
    let state = FeedState::default();
    let addr = start_feed_server(state.clone());
    let setup = Setup::new(&http_source(addr));

    state.serve(
        Some(&atom(&[("a1", "Acme one", "x")])),
        "application/atom+xml",
    );
    let first = setup.run_once("", &[]);
    assert_eq!(first.cards(), vec![1]);

    state.serve(Some("<rss><channel><item>broken"), "application/rss+xml");
    let broken = setup.run_once("list\n", &[]);
    assert!(
        broken.success,
        "a bad feed does not stop the bot: {}",
        broken.stderr
    );
    assert!(
        broken
            .stderr
            .contains("is not a valid RSS, Atom or JSON feed"),
        "{}",
        broken.stderr
    );
    assert!(
        broken.stdout.contains("#1 · open"),
        "earlier mentions are intact: {}",
        broken.stdout
    );

    state.serve(None, "");
    let gone = setup.run_once("", &[]);
    assert!(gone.success);
    assert!(gone.stderr.contains("404"), "{}", gone.stderr);

    // The feed comes back with a new entry: relayed with the next number, the old one not again.
    state.serve(
        Some(&atom(&[("a2", "Acme two", "y"), ("a1", "Acme one", "x")])),
        "application/atom+xml",
    );
    let back = setup.run_once("", &[]);
    assert_eq!(back.cards(), vec![2], "{}", back.stdout);
}

#[test]
fn json_feed_from_a_local_file_relative_to_the_config() {
    let setup =
        Setup::new("[[sources]]\nkind = \"feed\"\nname = \"blog\"\nurl = \"feeds/blog.json\"\n");
    std::fs::create_dir_all(setup.path().join("feeds")).unwrap();
    std::fs::write(
        setup.path().join("feeds/blog.json"),
        r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[
            {"id":"j1","url":"https://blog.example/acme","content_html":"<p>We tried <em>Acme</em> coffee</p>","date_published":"2026-11-21T08:00:00Z","authors":[{"name":"Blogger"}]},
            {"id":"j2","url":"https://blog.example/other","content_text":"Nothing to see","date_published":"2026-11-21T08:00:00Z"}]}"#,
    )
    .unwrap();
    let run = setup.run_once("", &[]);
    assert!(run.success, "{}", run.stderr);
    assert_eq!(run.cards(), vec![1]);
    assert!(run.stdout.contains("│ Blogger · "), "{}", run.stdout);
    assert!(
        run.stdout.contains("│ We tried Acme coffee"),
        "{}",
        run.stdout
    );
}

#[test]
fn commands_from_stdin_change_state_that_survives_a_restart() {
    let setup = Setup::new("[[sources]]\nkind = \"feed\"\nname = \"local\"\nurl = \"feed.xml\"\n");
    std::fs::write(
        setup.path().join("feed.xml"),
        atom(&[
            ("k1", "Acme one", "x"),
            ("k2", "Acme two", "y"),
            ("k3", "Acme three", "z"),
        ]),
    )
    .unwrap();
    let run = setup.run_once(
        "/mentions claim 1\nclaim #2\n/mentions ignore 3 spam\nanswer 1 Thanks!\n/mentions release 2\n",
        &[],
    );
    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.contains("#1 is yours."), "{}", run.stdout);
    assert!(
        run.stdout.contains("── #1 claimed by @you"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("#3 is ignored."), "{}", run.stdout);
    assert!(
        run.stdout.contains("earshot cannot post on feed for you"),
        "{}",
        run.stdout
    );

    // Another member, after a restart: sees the same state and is refused on #1.
    let bob = setup.run_once(
        "claim 1\nlist\nclaim 2\nlist mine\nshow 3\n",
        &["--as", "bob"],
    );
    assert!(bob.success, "{}", bob.stderr);
    assert!(
        bob.stdout.contains("#1 is claimed by @you (since "),
        "{}",
        bob.stdout
    );
    assert!(bob.stdout.contains("#2 is yours."), "{}", bob.stdout);
    assert!(
        bob.stdout
            .contains("1 mention(s), mine:\n#2 · claimed by @bob"),
        "{}",
        bob.stdout
    );
    assert!(
        bob.stdout.contains("ignored by @you: spam"),
        "{}",
        bob.stdout
    );
    assert_eq!(
        bob.cards(),
        Vec::<u64>::new(),
        "no card twice after restart"
    );
}

#[test]
fn bad_commands_get_one_line_answers_and_the_bot_keeps_going() {
    let setup = Setup::new("[[sources]]\nkind = \"feed\"\nname = \"local\"\nurl = \"feed.xml\"\n");
    std::fs::write(
        setup.path().join("feed.xml"),
        atom(&[("k1", "Acme one", "x")]),
    )
    .unwrap();
    let run = setup.run_once(
        "claim\nclaim 99\nfrobnicate 1\n/other 3\nclaim 1\n\u{1b}[2J\n",
        &[],
    );
    assert!(run.success, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("`claim` needs a mention number, like `/mentions claim 12`."),
        "{out}"
    );
    assert!(out.contains("There is no mention #99."), "{out}");
    assert!(out.contains("Unknown subcommand `frobnicate`."), "{out}");
    assert!(out.contains("Unknown command `/other`."), "{out}");
    assert!(out.contains("#1 is yours."), "{out}");
}

#[test]
fn check_validates_and_reports_errors_with_file_and_line() {
    let setup =
        Setup::new("[[sources]]\nkind = \"feed\"\nname = \"local\"\nurl = \"missing.xml\"\n");
    let run = common::run(setup.command(&["check"]), "");
    assert!(!run.success);
    assert!(
        run.stderr
            .contains("earshot.toml: line 15: sources[0].url: no feed file at"),
        "{}",
        run.stderr
    );

    std::fs::write(setup.path().join("missing.xml"), atom(&[])).unwrap();
    let run = common::run(setup.command(&["check"]), "");
    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.contains("is valid."), "{}", run.stdout);
}

/// A feed as small sites write it: `<rss>` with no version, items with neither guid nor link,
/// and a server that sends no ETag, so every poll reads the whole feed again.
#[tokio::test]
async fn entries_without_id_or_link_are_relayed_once_from_a_feed_without_etag() {
    use crate::fake_net::{Fake, Reply};
    use earshot::app::poll;
    use earshot::rules::Rules;
    use earshot::sources::feed::{Feed, Location};
    use earshot::store::Store;
    use std::time::Duration;

    const FEED: &str = r#"<?xml version="1.0"?>
<rss><channel><title>Acme fans</title><link>https://fans.example/</link><description>d</description>
<item><title>Acme opens a store</title></item>
<item><description>Acme &amp;lt;3 &lt;b&gt;forever&lt;/b&gt;</description><pubDate>Sat, 21 Nov 2026 09:00:00 GMT</pubDate></item>
</channel></rss>"#;
    let fake = Fake::start().await;
    for _ in 0..2 {
        fake.on(
            "GET",
            "/feed",
            Reply::status(200, FEED).header("content-type", "application/rss+xml"),
        );
    }
    let feed = Feed::new(
        "fans".into(),
        Location::Url(format!("{}/feed", fake.url)),
        Duration::from_secs(60),
        reqwest::Client::new(),
    );
    let store = Store::temporary(vec![]).unwrap();
    let rules = Rules::new(&["acme".to_string()], &[], &[]);
    assert_eq!(poll(&store, &feed, &rules).await, 2, "read as RSS 2.0");
    assert_eq!(
        poll(&store, &feed, &rules).await,
        0,
        "the same entries keep their keys"
    );
    assert_eq!(store.mention(1).unwrap().mention.text, "Acme opens a store");
    // The XML's `&amp;lt;3` is the HTML `&lt;3`, which is the `<3` its author typed.
    assert_eq!(store.mention(2).unwrap().mention.text, "Acme <3 forever");
    assert!(fake.unused().is_empty());
}
