//! The terminal enforces `answerers` as Slack and Discord do: the desk decides, with the same
//! refusal, for every chat (Slack's and Discord's cases are in their modules, asserting the
//! same text). Here the terminal adapter's own input loop, and the real app reading
//! `[chat.shell] answerers` from its config.

use std::sync::Arc;

use chrono::Utc;
use earshot::chat::shell::Shell;
use earshot::chat::Chat;
use earshot::desk::Desk;
use earshot::domain::lifecycle::Answerers;
use earshot::domain::{Author, Cursor, Member, Mention, MentionKey, State};
use earshot::store::Store;
use tokio::sync::{mpsc, watch, Notify};

use crate::common::atom;
use crate::harness::terminal::Screen;
use crate::harness::{TestApp, BASE, FEED};

fn mention() -> Mention {
    Mention {
        key: MentionKey::new("masto", "1"),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: Author {
            handle: "ann@example.social".into(),
            name: None,
            profile: None,
        },
        text: "Acme lids leak".into(),
        link: Some("https://example.social/@ann/1".into()),
        created_at: Utc::now(),
        matched: vec!["acme".into()],
        language: None,
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

/// Types `lines` in a terminal as `who`, through the adapter's `listen`, and returns what it
/// printed once the input ended.
async fn type_as(desk: &Desk, who: &str, lines: &[&str]) -> String {
    let screen = Screen::default();
    let (typed, input) = mpsc::channel(16);
    let shell = Arc::new(
        Shell::new(Box::new(screen.clone()))
            .with_member(Member::new(who, who))
            .with_input(input),
    );
    for line in lines {
        typed.send(line.to_string()).await.unwrap();
    }
    drop(typed);
    let (_stop, stopped) = watch::channel(false);
    shell.listen(desk.clone(), stopped).await.unwrap();
    screen.take()
}

const REFUSAL: &str = "Only the team's answerers may post answers on the networks; ask one of them to answer #1 (the list is `answerers` under [chat.shell]). You can still claim it, or mark it done if it was answered elsewhere.";

#[tokio::test]
async fn the_terminal_lets_only_its_answerers_answer_and_everyone_else_work_the_mention() {
    let store = Store::temporary(vec!["shell".into()]).unwrap();
    store
        .ingest("masto", &[mention()], &Cursor::default(), Utc::now())
        .unwrap();
    let desk = Desk::new(store.clone(), "/mentions".into(), Arc::new(Notify::new()))
        .with_answerers("shell", Answerers::new(["jane"]));

    // eve is on the team but not an answerer: answers are refused, the rest works.
    let said = type_as(
        &desk,
        "eve",
        &[
            "answer 1 Sorry!",
            "/mentions answer 1",
            "",
            "claim 1",
            "/other 1",
        ],
    )
    .await;
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines[0], REFUSAL);
    assert_eq!(lines[1], REFUSAL, "with or without text, and the prefix");
    assert!(lines[2].starts_with("#1 is yours."), "{said}");
    assert_eq!(
        lines[3], "Unknown command `/other`. Try `/mentions help`.",
        "the adapter reads its own input; a blank line says nothing"
    );
    assert_eq!(lines.len(), 4, "{said}");
    let held = store.mention(1).unwrap().state;
    assert!(
        matches!(&held, State::Claimed { by, answering: false, .. } if by.id == "eve"),
        "{held:?}"
    );

    // jane may answer, once eve hands it back.
    type_as(&desk, "eve", &["release 1"]).await;
    let said = type_as(
        &desk,
        "jane",
        &["answer 1 @ann@example.social Fixed, sorry!"],
    )
    .await;
    assert!(
        said.starts_with("Your answer to #1 is queued for Mastodon"),
        "{said}"
    );
    assert!(matches!(
        store.mention(1).unwrap().state,
        State::Claimed {
            answering: true,
            ..
        }
    ));
}

#[tokio::test]
async fn the_app_reads_the_terminals_answerers_from_its_config() {
    let config =
        format!("{BASE}{FEED}").replace("user = \"you\"", "user = \"you\"\nanswerers = [\"jane\"]");
    let mut app = TestApp::prepare(&config);
    app.feed.serve(
        Some(&atom(&[("1", "Acme opens", "Acme opens a shop")])),
        "application/atom+xml",
    );
    app.launch(None).await;
    app.until_screen("┌─ #1 ").await;
    app.type_line("answer 1 Thanks!").await;
    app.type_line("claim 1").await;
    app.until_screen(REFUSAL).await;
    app.until_screen("#1 is yours.").await;
    app.type_line("release 1").await;
    app.until_screen("#1 is open again").await;

    // jane may answer: the next rule she meets is the feed's (it has no reply API).
    app.restart(Some("jane")).await;
    app.until_polled(1).await;
    app.type_line("answer 1 Thanks!").await;
    app.until_screen("earshot cannot post on feed for you")
        .await;
    let jane = app.finish().await;
    assert!(!jane.contains(REFUSAL), "{jane}");
}

/// Each chat's caller as its adapter builds it: Slack's user id and user groups, Discord's
/// namespaced member with its user id and roles, the terminal's name.
fn callers(chat: &str) -> (earshot::desk::Caller, earshot::desk::Caller, Answerers) {
    use earshot::desk::Caller;
    match chat {
        "slack" => (
            Caller::new(Member::new("U1", "jane"), "slack").known_as(["U1".into(), "S9".into()]),
            Caller::new(Member::new("U2", "eve"), "slack").known_as(["U2".into()]),
            Answerers::new(["S9"]),
        ),
        "discord" => (
            Caller::new(Member::new("discord:1", "jane"), "discord")
                .known_as(["1".into(), "555".into()]),
            Caller::new(Member::new("discord:2", "eve"), "discord")
                .known_as(["2".into(), "777".into()]),
            Answerers::new(["555"]),
        ),
        _ => (
            Caller::new(Member::new("jane", "jane"), "shell"),
            Caller::new(Member::new("eve", "eve"), "shell"),
            Answerers::new(["jane"]),
        ),
    }
}

/// The same commands, in every chat, by an answerer and by a teammate who is not one: the
/// desk answers alike (only the config section named in a refusal differs).
#[tokio::test]
async fn every_chat_gets_the_same_decisions_from_the_desk() {
    // (who, command, how the reply starts); run in order on one open mention.
    let table: &[(&str, &str, &str)] = &[
        (
            "eve",
            "answer 1 Sorry!",
            "Only the team's answerers may post answers",
        ),
        ("eve", "claim 1", "#1 is yours."),
        ("jane", "answer 1 Sorry!", "#1 is claimed by @eve"),
        ("eve", "snooze 1 2h", "#1 is snoozed"),
        ("eve", "release 1", "#1 is open again for the team."),
        ("jane", "claim 1", "#1 is yours."),
        ("eve", "done 1", "#1 is done."),
        (
            "eve",
            "snooze 1 2h",
            "#1 is done by @eve. Use `reopen 1` first",
        ),
        ("jane", "reopen 1", "#1 is open again."),
        (
            "jane",
            "answer 1 @ann@example.social Fixed",
            "Your answer to #1 is queued",
        ),
        ("eve", "done 1", "An answer to #1 by @jane is on its way"),
    ];
    for chat in ["shell", "slack", "discord"] {
        let store = Store::temporary(vec![chat.into()]).unwrap();
        store
            .ingest("masto", &[mention()], &Cursor::default(), Utc::now())
            .unwrap();
        let (jane, eve, answerers) = callers(chat);
        let desk = Desk::new(store.clone(), "/mentions".into(), Arc::new(Notify::new()))
            .with_answerers(chat, answerers);
        let resolve = |who: &earshot::domain::MemberRef| Member::new(&who.0, &who.0);
        for (who, command, want) in table {
            let caller = if *who == "jane" { &jane } else { &eve };
            let reply = desk.handle(caller, command, &resolve, Utc::now()).await;
            assert!(
                reply.text.starts_with(want),
                "{chat}: {who} `{command}` said {:?}",
                reply.text
            );
            if want.starts_with("Only") {
                assert!(reply.text.contains(&format!("[chat.{chat}]")), "{chat}");
            }
        }
    }
}
