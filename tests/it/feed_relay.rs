//! The real app against a feed served on 127.0.0.1: relayed once, numbered, filtered by the
//! rules, never relayed again (next run, restart, 304), and robust to bad and vanished feeds;
//! commands typed in the terminal. The binary's `run --once` and `check` are here too.

use crate::common;
use crate::harness::terminal::cards;
use crate::harness::{TestApp, BASE, FEED};

use common::{atom, Setup};
use earshot::domain::State;

#[tokio::test]
async fn relays_each_matching_entry_once_with_numbers_across_restarts_and_304s() {
    let mut app = TestApp::prepare(&format!("{BASE}{FEED}"));
    app.feed.serve(
        Some(&atom(&[
            ("e1", "Acme lids leak", "the &lt;b&gt;Acme&lt;/b&gt; cups"),
            ("e2", "Vacature bij Acme", "barista"),
            ("e3", "AcmeCorp results", "shares rose"),
            ("e4", "Acme Coffee review", "third place"),
        ])),
        "application/atom+xml",
    );
    app.launch(None).await;
    app.until_polled(1).await;
    app.until_screen("┌─ #2 ").await;
    // Each start polls at once: a restart is the next poll.
    let first = app.restart(None).await;
    assert_eq!(
        cards(&first),
        vec![1, 2],
        "e1 and e4 match; e2 is excluded, e3 is another word\n{first}"
    );
    assert!(
        first.contains("│ Acme lids leak\n│ the Acme cups"),
        "{first}"
    );
    assert!(
        first.contains("https://news.example.com/e1"),
        "redirect unwrapped:\n{first}"
    );
    assert!(first.contains("matched: acme, \"acme coffee\""), "{first}");
    assert!(
        !first.contains("Vacature"),
        "excluded entry relayed:\n{first}"
    );

    // Same feed again: the server answers 304 to the stored ETag, nothing is relayed.
    app.until_polled(1).await;
    let requests = app.feed.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].if_none_match.is_some(),
        "conditional GET sent the ETag"
    );
    assert_eq!(requests[1].status, 304);

    // A new entry among the old ones (new ETag, 200): only the new one, with the next number.
    app.feed.serve(
        Some(&atom(&[
            ("e5", "Acme again", "hello"),
            ("e1", "Acme lids leak", "the cups"),
            ("e4", "Acme Coffee review", "third place"),
        ])),
        "application/atom+xml",
    );
    let second = app.restart(None).await;
    assert_eq!(cards(&second), Vec::<u64>::new(), "{second}");
    app.until_screen("┌─ #3 ").await;
    app.type_line("list all").await;
    app.until_screen("3 mention(s), all:").await;
    let third = app.finish().await;
    assert_eq!(cards(&third), vec![3], "{third}");
}

#[tokio::test]
async fn a_malformed_or_vanished_feed_is_reported_and_loses_nothing() {
    let mut app = TestApp::prepare(&format!("{BASE}{FEED}"));
    app.feed.serve(
        Some(&atom(&[("a1", "Acme one", "x")])),
        "application/atom+xml",
    );
    app.launch(None).await;
    app.until_screen("┌─ #1 ").await;

    app.feed
        .serve(Some("<rss><channel><item>broken"), "application/rss+xml");
    let first = app.restart(None).await;
    assert_eq!(cards(&first), vec![1]);
    // A bad feed does not stop the app (the harness fails the test if a task died).
    app.until_logged("is not a valid RSS, Atom or JSON feed")
        .await;
    app.type_line("list").await;
    app.until_screen("#1 · open").await;

    app.feed.serve(None, "");
    app.restart(None).await;
    app.until_logged("404").await;

    // The feed comes back with a new entry: relayed with the next number, the old one not again.
    app.feed.serve(
        Some(&atom(&[("a2", "Acme two", "y"), ("a1", "Acme one", "x")])),
        "application/atom+xml",
    );
    app.restart(None).await;
    app.until_screen("┌─ #2 ").await;
    let back = app.finish().await;
    assert_eq!(cards(&back), vec![2], "{back}");
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

#[tokio::test]
async fn commands_typed_in_the_terminal_change_state_that_survives_a_restart() {
    let mut app = TestApp::prepare(&format!(
        "{BASE}[[sources]]\nkind = \"feed\"\nname = \"local\"\nurl = \"feed.xml\"\n"
    ));
    std::fs::write(
        app.path().join("feed.xml"),
        atom(&[
            ("k1", "Acme one", "x"),
            ("k2", "Acme two", "y"),
            ("k3", "Acme three", "z"),
        ]),
    )
    .unwrap();
    app.launch(None).await;
    app.until_screen("┌─ #3 ").await;
    for line in [
        "/mentions claim 1",
        "claim #2",
        "/mentions ignore 3 spam",
        "answer 1 Thanks!",
        "/mentions release 2",
    ] {
        app.type_line(line).await;
    }
    for said in [
        "#1 is yours.",
        "── #1 claimed by @you",
        "#3 is ignored.",
        "earshot cannot post on feed for you",
        "#2 is open again",
    ] {
        app.until_screen(said).await;
    }

    // Another member, after a restart: sees the same state and is refused on #1.
    app.restart(Some("bob")).await;
    // Stopped in the middle of its poll, the app would log that it could not store it.
    app.until_polled(1).await;
    for line in ["claim 1", "list", "claim 2", "list mine", "show 3"] {
        app.type_line(line).await;
    }
    for said in [
        "#1 is claimed by @you (since ",
        "#2 is yours.",
        "1 mention(s), mine:\n#2 · claimed by @bob",
        "ignored by @you: spam",
    ] {
        app.until_screen(said).await;
    }
    let held = app
        .until("#2 claimed by bob in the store", |store| {
            let state = store.mention(2).ok()?.state;
            matches!(&state, State::Claimed { by, .. } if by.id == "bob").then_some(state)
        })
        .await;
    assert!(
        matches!(
            held,
            State::Claimed {
                answering: false,
                ..
            }
        ),
        "{held:?}"
    );
    let bob = app.finish().await;
    assert_eq!(
        cards(&bob),
        Vec::<u64>::new(),
        "no card twice after restart"
    );
}

#[tokio::test]
async fn bad_commands_get_one_line_answers_and_the_app_keeps_going() {
    let mut app = TestApp::prepare(&format!("{BASE}{FEED}"));
    app.feed.serve(
        Some(&atom(&[("k1", "Acme one", "x")])),
        "application/atom+xml",
    );
    app.launch(None).await;
    app.until_screen("┌─ #1 ").await;
    for line in [
        "claim",
        "claim 99",
        "frobnicate 1",
        "/other 3",
        "claim 1",
        "\u{1b}[2J",
        "list mine",
    ] {
        app.type_line(line).await;
    }
    for said in [
        "`claim` needs a mention number, like `/mentions claim 12`.",
        "There is no mention #99.",
        "Unknown subcommand `frobnicate`.",
        "Unknown command `/other`.",
        "#1 is yours.",
        // Answered after the escape sequence: the terminal kept reading.
        "1 mention(s), mine:",
    ] {
        app.until_screen(said).await;
    }
    app.finish().await;
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

/// Stopping while a poll is in flight: the process gives up leading first, so what the poll
/// then brings is not stored by it (an INFO line, not an ERROR: it is the orderly way to stop),
/// the cursor stays, and the next run stores the mention. Nothing is lost.
#[tokio::test]
async fn a_poll_in_flight_when_the_app_stops_is_left_to_the_next_run() {
    let mut app = TestApp::prepare(&format!("{BASE}{FEED}"));
    app.feed.serve(
        Some(&atom(&[("s1", "Acme order", "still not here")])),
        "application/atom+xml",
    );
    app.feed.hold();
    app.launch(None).await;
    let feed = app.feed.clone();
    app.until("the first poll to wait for the feed", |_| {
        (feed.waiting() == 1).then_some(())
    })
    .await;

    app.signal_stop();
    app.until_logged("gave up the leader lease").await;
    app.feed.release();
    app.until_logged("left to the leader").await;
    let stopped = app.restart(None).await;
    assert_eq!(cards(&stopped), Vec::<u64>::new(), "{stopped}");

    app.until_screen("┌─ #1 ").await;
    app.until_screen("Acme order").await;
    let next = app.finish().await;
    assert_eq!(cards(&next), vec![1], "{next}");
}
