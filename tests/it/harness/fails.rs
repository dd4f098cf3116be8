//! The harness fails a test when a task of the app died, or when the app logged an ERROR the
//! test did not declare, and passes it when the error was declared.

use super::{TestApp, BASE, FEED};
use crate::common::atom;
use crate::slack::fake::{Failure, FakeSlack};

fn with_slack(slack: &FakeSlack) -> String {
    format!(
        "{BASE}{FEED}[chat.slack]\nchannel = \"C0123456789\"\nbot_token = \"xoxb-test\"\napp_token = \"xapp-test\"\napi_url = \"{}\"\n",
        slack.api_url
    )
}

#[tokio::test]
#[should_panic(expected = "a task of the app died: the chat slack task ended")]
async fn a_task_that_died_fails_the_wait_at_once() {
    // A revoked token: the Slack listener fails for good, and the supervisor stops the app.
    let slack = FakeSlack::start().await;
    slack.with(|slack| slack.revoked = true);
    let mut app = TestApp::start(&with_slack(&slack)).await;
    // The errors it logs are declared: the death alone fails the test, before the deadline.
    app.expect_error("the chat listener failed for good");
    app.expect_error("a critical task stopped");
    app.until_screen("nothing prints this").await;
}

#[tokio::test]
#[should_panic(expected = "a task of the app died: the chat slack task ended")]
async fn a_task_that_died_fails_the_test_when_it_finishes() {
    let slack = FakeSlack::start().await;
    slack.with(|slack| slack.revoked = true);
    let mut app = TestApp::start(&with_slack(&slack)).await;
    app.expect_error("the chat listener failed for good");
    app.expect_error("a critical task stopped");
    app.until_logged("a critical task stopped").await;
}

/// Slack refuses the card for good: the outbox logs an ERROR and holds the card.
async fn a_refused_card() -> (FakeSlack, TestApp) {
    let slack = FakeSlack::start().await;
    slack.with(|slack| {
        slack
            .failures
            .push_back(Failure::Refused("channel_not_found"))
    });
    let mut app = TestApp::prepare(&with_slack(&slack));
    app.feed.serve(
        Some(&atom(&[("e1", "Acme lids leak", "x")])),
        "application/atom+xml",
    );
    app.launch(None).await;
    (slack, app)
}

#[tokio::test]
#[should_panic(
    expected = "the app logged an ERROR the test did not expect: the chat refused this for good"
)]
async fn an_error_the_test_did_not_expect_fails_it() {
    let (_slack, app) = a_refused_card().await;
    app.until_logged("the chat refused this for good").await;
    app.finish().await;
}

#[tokio::test]
async fn an_expected_error_passes_and_the_app_keeps_working() {
    let (slack, mut app) = a_refused_card().await;
    app.expect_error("the chat refused this for good");
    app.until_logged("the chat refused this for good").await;
    // The terminal showed the card all the same, and the held one is listed.
    app.until_screen("┌─ #1 ").await;
    app.type_line("list").await;
    app.until_screen("#1 · open").await;
    assert_eq!(slack.with(|slack| slack.count("chat.postMessage")), 1);
    app.finish().await;
}

#[tokio::test]
#[should_panic(expected = "expected an ERROR with [\"cannot store\"], but none was logged")]
async fn an_expected_error_that_never_came_fails_the_test() {
    let mut app = TestApp::start(&format!("{BASE}{FEED}")).await;
    app.expect_error("cannot store");
    app.until_polled(1).await;
    app.finish().await;
}
