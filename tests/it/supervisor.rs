//! The real binary's supervisor: a chat listener that fails for good stops earshot loudly and
//! with a non-zero exit code (so a service manager set to restart on failure restarts it), and
//! `earshot status` reads the store it left.

use crate::common;

use std::time::{Duration, Instant};

use common::Setup;

use crate::slack::fake::FakeSlack;

#[tokio::test]
async fn a_chat_listener_that_fails_for_good_stops_earshot_with_a_failure_code() {
    // Every Web API call answers `invalid_auth`, as Slack does for a revoked token.
    let slack = FakeSlack::start().await;
    slack.with(|slack| slack.revoked = true);
    let setup = Setup::new(&format!(
        "[chat.slack]\nchannel = \"C0123456789\"\nbot_token = \"xoxb-test\"\napp_token = \"xapp-test\"\napi_url = \"{}\"\n",
        slack.api_url
    ));
    // The fake Slack answers on this runtime: the wait for the process blocks another thread.
    tokio::task::spawn_blocking(move || runs_until_it_stops(setup))
        .await
        .unwrap();
}

fn runs_until_it_stops(setup: Setup) {
    let started = Instant::now();
    let mut child = setup.command(&["run"]).spawn().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("earshot kept running with a dead chat listener");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success(), "exit status {status:?}: {stderr}");
    assert!(
        stderr.contains("invalid_auth") && stderr.contains("check app_token"),
        "the reason and the fix are logged: {stderr}"
    );
    assert!(
        stderr.contains("earshot: the chat slack task ended; earshot stopped"),
        "{stderr}"
    );

    let report = common::run(setup.command(&["status"]), "");
    assert!(report.success, "{}", report.stderr);
    assert!(
        report.stdout.contains("Outbox: 0 effects waiting"),
        "{}",
        report.stdout
    );
}
