//! Latency from a post appearing on a live stream to its card in the terminal chat, through
//! the real binary (stream -> rules -> store -> outbox -> shell): a local Jetstream emits
//! posts one by one, and the time until each card's text is printed is measured. Prints p50
//! and p99; asserts nothing. `cargo bench --bench stream_latency`.

#[path = "../tests/it/fake_stream.rs"]
mod fake_stream;

use std::collections::HashMap;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const POSTS: usize = 300;
/// About the rate of keyword matches a busy brand sees in a burst, far above the usual.
const EVERY: Duration = Duration::from_millis(20);

type Sent = Arc<Mutex<HashMap<usize, Instant>>>;

fn main() {
    // `cargo test --all-targets` runs bench programs too, unoptimised; only `cargo bench`
    // (which passes --bench) measures.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("stream_latency: measured by `cargo bench --bench stream_latency`; skipped under `cargo test`");
        return;
    }
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let sent: Sent = Arc::default();
    let (jetstream, pds) = runtime.block_on(async {
        let jetstream = emitter(sent.clone()).await;
        let pds = fake_stream::start_pds("did:plc:acme").await;
        (jetstream, pds)
    });
    let dir = tempfile::tempdir().expect("a temporary folder");
    // 300 posts in 6 s is a storm by the default thresholds, which would hold the cards back
    // behind one summary: this measures the per-mention path, so storm mode is off.
    let config = format!(
        "[store]\npath = \"data\"\n\n[chat.shell]\nuser = \"you\"\n\n[rules]\nkeywords = [\"acme\"]\n\n\
         [storm]\nenabled = false\n\n\
         [[sources]]\nkind = \"bluesky\"\nname = \"sky\"\npds = \"{pds}\"\nhandle = \"acme.test\"\n\
         app_password = \"p\"\nwatch = [\"jetstream\"]\njetstream_url = \"{jetstream}/subscribe\"\nevery = \"1h\"\n"
    );
    std::fs::write(dir.path().join("earshot.toml"), config).expect("the config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(["run", "--config"])
        .arg(dir.path().join("earshot.toml"))
        .env("RUST_LOG", "earshot=warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("earshot starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut latencies = Vec::with_capacity(POSTS);
    for line in std::io::BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Some(at) = line.find("probe-") else {
            continue;
        };
        let printed = Instant::now();
        let number: usize = line[at + 6..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        if let Some(sent) = sent.lock().expect("the map").get(&number) {
            latencies.push(printed - *sent);
        }
        if latencies.len() == POSTS {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "stream latency (Jetstream post -> terminal card, real binary): {} posts, one every {:?}",
        latencies.len(),
        EVERY
    );
    println!(
        "  p50 {:>8.1} ms   p99 {:>8.1} ms   max {:>8.1} ms",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}

/// A Jetstream that, once a client is connected, emits `POSTS` matching posts (with likes in
/// between) one every `EVERY`, recording when each was sent.
async fn emitter(sent: Sent) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let url = format!("ws://{}", listener.local_addr().expect("an address"));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let sent = sent.clone();
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                // Let the backfill poll after connecting pass first.
                tokio::time::sleep(Duration::from_millis(500)).await;
                let start: u64 = 1_725_911_162_000_000;
                for i in 0..POSTS {
                    let time_us = start + i as u64 * 20_000;
                    let like = json!({"did": "did:plc:liker", "time_us": time_us - 1, "kind": "commit",
                        "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.feed.like",
                            "rkey": format!("l{i}"), "cid": "c", "record": {"subject": {"uri": "at://x", "cid": "c"}}}});
                    let post = json!({"did": "did:plc:fan", "time_us": time_us, "kind": "commit",
                        "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.feed.post",
                            "rkey": format!("p{i}"), "cid": "bafy",
                            "record": {"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z",
                                "text": format!("acme probe-{i} is here")}}});
                    let _ = socket.send(Message::text(like.to_string())).await;
                    sent.lock().expect("the map").insert(i, Instant::now());
                    if socket.send(Message::text(post.to_string())).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(EVERY).await;
                }
                use futures_util::StreamExt;
                while let Some(Ok(_)) = socket.next().await {}
            });
        }
    });
    url
}
