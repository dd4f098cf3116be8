//! The Jetstream keyword filter on one core: frame -> event -> post -> mention -> rules, over a
//! recorded-shape stream (likes, posts, reposts, follows, blocks, deletes, identity and account
//! events in about the proportions of the real network), against a bare typed serde parse of
//! the same frames in the same run. Prints; asserts nothing. `cargo bench --bench jetstream`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use earshot::rules::{Rules, Verdict};
use earshot::sources::bluesky::jetstream::{decode, Event};

const EVENTS: usize = 200_000;
const RUNS: usize = 5;
const ME: &str = "did:plc:acmebrand0000000000000";

fn main() {
    // `cargo test --all-targets` runs bench programs too, unoptimised; only `cargo bench`
    // (which passes --bench) measures.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "jetstream: measured by `cargo bench --bench jetstream`; skipped under `cargo test`"
        );
        return;
    }
    let frames = recorded_shape_stream(EVENTS);
    let bytes: usize = frames.iter().map(String::len).sum();
    let rules = Rules::new(
        &["acme".into(), "\"acme coffee\"".into()],
        &["vacature".into()],
        &["acme.bsky.social".into()],
    );

    // Interleaved runs, best of each: the machine is shared and noisy.
    let mut bare = Duration::MAX;
    let mut filter = Duration::MAX;
    let mut relayed = 0;
    for _ in 0..RUNS {
        bare = bare.min(time(|| bare_parse(&frames)).0);
        let (took, kept) = time(|| keyword_filter(&frames, &rules));
        filter = filter.min(took);
        relayed = kept;
    }
    let rate = |took: Duration| EVENTS as f64 / took.as_secs_f64();
    println!(
        "jetstream: {EVENTS} events ({:.1} MB, {} posts), best of {RUNS}, one core",
        bytes as f64 / 1e6,
        frames
            .iter()
            .filter(|frame| matches!(decode(frame), Ok(Event::Post(_))))
            .count()
    );
    println!("  bare typed serde parse   {:>10.0} events/s", rate(bare));
    println!(
        "  keyword filter           {:>10.0} events/s  ({relayed} relayed)",
        rate(filter)
    );
    println!(
        "  ratio filter / bare      {:>10.2}",
        bare.as_secs_f64() / filter.as_secs_f64()
    );
}

fn time<T>(work: impl FnOnce() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = black_box(work());
    (start.elapsed(), out)
}

/// What the app does with every frame: decode, turn posts into mentions, judge them.
fn keyword_filter(frames: &[String], rules: &Rules) -> usize {
    let mut relayed = 0;
    for frame in frames {
        if let Ok(Event::Post(post)) = decode(frame) {
            if post.did != ME {
                let mention = post.to_mention("bluesky", ME);
                if matches!(rules.judge(&mention), Verdict::Relay(_)) {
                    relayed += 1;
                }
            }
        }
    }
    relayed
}

/// The baseline: every frame into plain owned serde types, records included.
fn bare_parse(frames: &[String]) -> usize {
    let mut parsed = 0;
    for frame in frames {
        if let Ok(event) = serde_json::from_str::<TypedEvent>(frame) {
            black_box(&event);
            parsed += 1;
        }
    }
    parsed
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TypedEvent {
    did: String,
    time_us: u64,
    kind: String,
    commit: Option<TypedCommit>,
    identity: Option<TypedIdentity>,
    account: Option<TypedAccount>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TypedCommit {
    rev: String,
    operation: String,
    collection: String,
    rkey: String,
    cid: Option<String>,
    record: Option<TypedRecord>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypedRecord {
    #[serde(rename = "$type")]
    kind: Option<String>,
    created_at: Option<String>,
    text: Option<String>,
    #[serde(default)]
    langs: Vec<String>,
    reply: Option<TypedReply>,
    subject: Option<serde_json::Value>,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TypedReply {
    root: TypedRef,
    parent: TypedRef,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TypedRef {
    uri: String,
    cid: String,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TypedIdentity {
    did: String,
    handle: Option<String>,
    seq: u64,
    time: String,
}

#[allow(dead_code)]
#[derive(Debug, Deserialize)]
struct TypedAccount {
    active: bool,
    did: String,
    seq: u64,
    status: Option<String>,
    time: String,
}

const TEXTS: &[&str] = &[
    "just had the best flat white of my life, no notes",
    "Anyone else think Acme Coffee lids leak? Third one this week 😩",
    "thread 🧵 on why decentralised social matters (1/12)",
    "new blog post: rust async cancellation, the good parts https://example.com/post",
    "gm ☀️",
    "Ça marche pas chez moi, quelqu'un a une idée ?",
    "the acme app logged me out again. vacature: barista gezocht",
    "ACME support answered in 5 minutes, impressed",
    "これは日本語の投稿です。天気がいいですね。",
    "lol",
    "photos from the weekend hike 🏔️ #hiking #nature",
    "I'm building a keyboard from scratch, part 3: the firmware",
];

/// Frames shaped like Jetstream's, in about the network's mix: most events are likes, then
/// posts, reposts and follows; identity and account events are rare.
fn recorded_shape_stream(count: usize) -> Vec<String> {
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let mut frames = Vec::with_capacity(count);
    let mut time_us: u64 = 1_725_911_162_329_308;
    for i in 0..count {
        time_us += 200 + next() % 400;
        let did = format!("did:plc:{:024x}", next() % 5_000_000);
        let rkey = format!("3l{:011x}", i);
        let created = "2024-09-09T19:46:02.102Z";
        let subject = json!({"cid": "bafyreigh5q5ej4tdplk3qvbjiiwwbwp7xr2zkvutwutc7w4ffnhvmenmjm",
            "uri": format!("at://did:plc:{:024x}/app.bsky.feed.post/3l{:011x}", next() % 5_000_000, next())});
        let roll = next() % 100;
        let event = match roll {
            0..=54 => commit(
                &did,
                time_us,
                "create",
                "app.bsky.feed.like",
                &rkey,
                Some(
                    json!({"$type": "app.bsky.feed.like", "createdAt": created, "subject": subject}),
                ),
            ),
            55..=69 => {
                let text = TEXTS[(next() as usize) % TEXTS.len()];
                let mut record = json!({"$type": "app.bsky.feed.post", "createdAt": created,
                    "langs": ["en"], "text": text});
                if next() % 3 == 0 {
                    record["reply"] = json!({"parent": subject, "root": subject});
                }
                if next() % 5 == 0 {
                    record["facets"] = json!([{"$type": "app.bsky.richtext.facet",
                        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "hiking"}],
                        "index": {"byteEnd": 10, "byteStart": 0}}]);
                }
                commit(
                    &did,
                    time_us,
                    "create",
                    "app.bsky.feed.post",
                    &rkey,
                    Some(record),
                )
            }
            70..=79 => commit(
                &did,
                time_us,
                "create",
                "app.bsky.feed.repost",
                &rkey,
                Some(
                    json!({"$type": "app.bsky.feed.repost", "createdAt": created, "subject": subject}),
                ),
            ),
            80..=91 => commit(
                &did,
                time_us,
                "create",
                "app.bsky.graph.follow",
                &rkey,
                Some(
                    json!({"$type": "app.bsky.graph.follow", "createdAt": created,
                    "subject": format!("did:plc:{:024x}", next() % 5_000_000)}),
                ),
            ),
            92..=93 => commit(
                &did,
                time_us,
                "create",
                "app.bsky.graph.block",
                &rkey,
                Some(
                    json!({"$type": "app.bsky.graph.block", "createdAt": created,
                    "subject": format!("did:plc:{:024x}", next() % 5_000_000)}),
                ),
            ),
            94..=96 => commit(&did, time_us, "delete", "app.bsky.feed.like", &rkey, None),
            97..=98 => json!({"did": did, "time_us": time_us, "kind": "identity",
                "identity": {"did": did, "handle": "someone.bsky.social", "seq": i, "time": created}}),
            _ => json!({"did": did, "time_us": time_us, "kind": "account",
                "account": {"active": true, "did": did, "seq": i, "time": created}}),
        };
        frames.push(event.to_string());
    }
    frames
}

fn commit(
    did: &str,
    time_us: u64,
    operation: &str,
    collection: &str,
    rkey: &str,
    record: Option<serde_json::Value>,
) -> serde_json::Value {
    let mut commit = json!({"rev": "3l3qo2vutsw2b", "operation": operation, "collection": collection, "rkey": rkey});
    if let Some(record) = record {
        commit["record"] = record;
        commit["cid"] = json!("bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi");
    }
    json!({"did": did, "time_us": time_us, "kind": "commit", "commit": commit})
}
