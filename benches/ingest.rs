//! Ingest throughput, command latency and peak memory, printed (not asserted).
//!
//! - 100k mentions of about 500 bytes through rules -> store -> outbox, in polls of 100, and
//!   the same records inserted into bare sled with the same flush cadence, in the same run.
//!   They arrive spread over a year (about 270 a day), as a store of that size would have.
//! - p50/p99 latency of `claim` and `answer` (each flushed to disk) on the store holding them,
//!   on mentions spread over the whole store, so most are cold.
//! - `stats 30d` and the daily digest on that store, and their time.
//! - Peak resident memory of the process after each phase.
//!
//! - Ingest and `claim`/`answer` latency (each including its commit) on PostgreSQL, beside
//!   sled, in the same run; skipped with a line saying why when the server does not answer.
//!
//! - Outbox drain rate: 3,000 cards delivered to a chat that answers at once, by one outbox and
//!   by two on separate handles of the same store (two processes, taking turns per lane), on
//!   sled and on PostgreSQL.
//!
//! - The complaint detector's cost at ingest: the same mentions ingested into two stores, one
//!   with the shipped detector and one with a lexicon that scores nothing, poll by poll in
//!   turn, and their ratio (the target: the detector keeps at least 90% of ingest without it).
//!
//! Storm mode is off, so every mention queues its own card: the most writes per mention.
//! Targets on a 2-core machine: >= 20,000 mentions/s; command p99 <= 5 ms; peak RSS <= 64 MiB;
//! on PostgreSQL >= 5,000 mentions/s and command p99 <= 20 ms.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use earshot::digest::Digester;
use earshot::domain::{stats, Action, Author, Cursor, Lexicon, Member, Mention, MentionKey};
use earshot::rules::{Rules, Verdict};
use earshot::store::{DatabaseUrl, Location, Store};

// The allocator the binary runs with (see src/main.rs).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const MENTIONS: u64 = 100_000;
const POLL: u64 = 100;
const COMMANDS: u64 = 1_000;
const DRAIN: u64 = 3_000;
/// The detector comparison: mentions per round, and rounds (each store holds them all at the
/// end); a ratio is printed per round.
const COMPARED: u64 = 20_000;
const COMPARE_ROUNDS: usize = 5;

fn main() {
    // `cargo test --all-targets` runs bench programs too, unoptimised; only `cargo bench`
    // (which passes --bench) measures.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("ingest: measured by `cargo bench --bench ingest`; skipped under `cargo test`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rules = Rules::new(
        &["acme".into(), "\"acme coffee\"".into()],
        &["vacature".into()],
        &["acmehq".into()],
    );
    let now = Utc::now();

    let earshot_dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(earshot_dir.path(), vec!["shell".into()]).expect("store");
    let (ingest, mut claims, mut answers) = measure(&store, &runtime, &rules, now);
    let peak_after_commands = peak_rss_kib();

    let started = Instant::now();
    // What `/mentions stats 30d` does (src/desk.rs).
    let mut figures = stats::Stats::new(now - chrono::Duration::days(30), now);
    store
        .visit_received_since(figures.from, |tracked, history| {
            figures.add(&tracked, &history)
        })
        .expect("stats");
    let stats_took = started.elapsed();
    let peak_after_stats = peak_rss_kib();
    let started = Instant::now();
    let digest = Digester::text(&store, chrono_tz::Europe::Amsterdam, now).expect("digest");
    let digest_took = started.elapsed();
    let peak_after_digest = peak_rss_kib();
    drop(store);

    let bare_dir = tempfile::tempdir().expect("temp dir");
    let db = sled::Config::new()
        .path(bare_dir.path())
        .cache_capacity(8 * 1024 * 1024)
        .open()
        .expect("sled");
    let started = Instant::now();
    for poll in 0..MENTIONS / POLL {
        for n in poll * POLL..(poll + 1) * POLL {
            let record = serde_json::to_vec(&mention(n)).expect("json");
            db.insert((n + 1).to_be_bytes(), record).expect("insert");
        }
        db.flush().expect("flush");
    }
    let bare = started.elapsed();
    drop(db);

    let postgres = on_postgres(&runtime, &rules, now);
    let drain_dir = tempfile::tempdir().expect("temp dir");
    let drain_store = Store::open(drain_dir.path(), vec!["shell".into()]).expect("store");
    let sled_drain = drain_rate(vec![drain_store.clone(), drain_store]);
    let detector = detector_cost(&rules, now);

    let rate = |elapsed: Duration| MENTIONS as f64 / elapsed.as_secs_f64();
    println!(
        "earshot ingest benchmark ({MENTIONS} mentions of ~{} bytes, polls of {POLL})",
        mention(0).text.len() + 100
    );
    println!(
        "  ingest rules -> store -> outbox: {:>9.0} mentions/s  ({:.2} s)",
        rate(ingest),
        ingest.as_secs_f64()
    );
    println!(
        "  bare sled inserts, same records: {:>9.0} records/s   ({:.2} s)",
        rate(bare),
        bare.as_secs_f64()
    );
    println!(
        "  ratio earshot / bare sled:       {:>9.2}",
        bare.as_secs_f64() / ingest.as_secs_f64()
    );
    let (with, without, ratios) = detector;
    let ratios: Vec<String> = ratios.iter().map(|ratio| format!("{ratio:.2}")).collect();
    println!(
        "  ingest with the complaint detector vs with no detector (two stores fed the same polls in turn, {COMPARE_ROUNDS} rounds of {COMPARED}): {with:.0} vs {without:.0} mentions/s, ratio {:.3} (target >= 0.90; per round {})",
        with / without,
        ratios.join(" ")
    );
    println!("  claim  latency incl. flush:  p50 {:>6.2} ms  p99 {:>6.2} ms  ({COMMANDS} commands on {MENTIONS} mentions)", percentile(&mut claims, 50.0), percentile(&mut claims, 99.0));
    println!(
        "  answer latency incl. flush:  p50 {:>6.2} ms  p99 {:>6.2} ms",
        percentile(&mut answers, 50.0),
        percentile(&mut answers, 99.0)
    );
    let (one, two) = sled_drain;
    println!("  outbox drain, {DRAIN} cards: one process {one:>7.0} effects/s, two processes {two:>7.0} effects/s");
    match postgres {
        Ok((ingest, mut claims, mut answers, (one, two))) => {
            println!("  PostgreSQL (same run, same records; targets >= 5,000/s, p99 <= 20 ms):");
            println!(
                "  ingest rules -> store -> outbox: {:>9.0} mentions/s  ({:.2} s)",
                rate(ingest),
                ingest.as_secs_f64()
            );
            println!(
                "  claim  latency incl. commit: p50 {:>6.2} ms  p99 {:>6.2} ms",
                percentile(&mut claims, 50.0),
                percentile(&mut claims, 99.0)
            );
            println!(
                "  answer latency incl. commit: p50 {:>6.2} ms  p99 {:>6.2} ms",
                percentile(&mut answers, 50.0),
                percentile(&mut answers, 99.0)
            );
            println!("  outbox drain, {DRAIN} cards: one process {one:>7.0} effects/s, two processes {two:>7.0} effects/s");
        }
        Err(why) => {
            println!("  PostgreSQL: skipped, {why} (start it with `bash tests/postgres/setup.sh`)")
        }
    }
    println!(
        "  stats 30d: {} mentions in {:.1} ms; digest ({} lines) in {:.1} ms",
        figures.all.received,
        stats_took.as_secs_f64() * 1000.0,
        digest.lines().count(),
        digest_took.as_secs_f64() * 1000.0
    );
    println!(
        "  peak RSS with {MENTIONS} mentions (sled): {:.1} MiB after ingest and the commands, {:.1} MiB after stats, {:.1} MiB after the digest",
        peak_after_commands as f64 / 1024.0,
        peak_after_stats as f64 / 1024.0,
        peak_after_digest as f64 / 1024.0
    );
}

/// The `poll`th batch of generated mentions, as the rules relay them (each with its matches).
fn judged(rules: &Rules, poll: u64) -> Vec<Mention> {
    (poll * POLL..(poll + 1) * POLL)
        .map(mention)
        .filter_map(|mut mention| match rules.judge(&mention) {
            Verdict::Relay(matched) => {
                mention.matched = matched;
                Some(mention)
            }
            Verdict::Drop(_) => None,
        })
        .collect()
}

/// Ingests [`MENTIONS`] through the rules into `store`, then times [`COMMANDS`] claims and
/// answers on it, each including its commit (a flush to disk on sled).
fn measure(
    store: &Store,
    runtime: &tokio::runtime::Runtime,
    rules: &Rules,
    now: DateTime<Utc>,
) -> (Duration, Vec<Duration>, Vec<Duration>) {
    let year_ago = now - chrono::Duration::days(365);
    let poll_every = chrono::Duration::days(365) / (MENTIONS / POLL) as i32;
    let mut stored = 0;
    let started = Instant::now();
    for poll in 0..MENTIONS / POLL {
        let batch = judged(rules, poll);
        let cursor = Cursor {
            position: Some(poll.to_string()),
            ..Cursor::default()
        };
        let received = year_ago + poll_every * poll as i32;
        stored += store
            .ingest("bench", &batch, &cursor, received)
            .expect("ingest")
            .len();
    }
    let ingest = started.elapsed();
    assert_eq!(
        stored as u64, MENTIONS,
        "every mention matched and was stored"
    );

    let member = Member::new("U1", "jane");
    let mut claims = Vec::new();
    let mut answers = Vec::new();
    runtime.block_on(async {
        for i in 0..COMMANDS {
            // Spread over the whole store: most of these mentions are cold.
            let number = 1 + (i * 97) % (MENTIONS - 1);
            let t = Instant::now();
            store
                .apply(number, &member, &Action::Claim, now)
                .await
                .expect("claim");
            claims.push(t.elapsed());
            let t = Instant::now();
            store
                .apply(
                    number + 1,
                    &member,
                    &Action::Answer {
                        text: "Thanks, we're on it!".into(),
                    },
                    now,
                )
                .await
                .expect("answer");
            answers.push(t.elapsed());
        }
    });
    (ingest, claims, answers)
}

/// Ingest rates (mentions/s) with the shipped detector and with a lexicon that scores nothing,
/// over all [`COMPARE_ROUNDS`] rounds, and the ratio of each round.
fn detector_cost(rules: &Rules, now: DateTime<Utc>) -> (f64, f64, Vec<f64>) {
    // Two stores side by side, one scoring with the shipped lexicon and one with a lexicon
    // that scores nothing, fed the same polls in turn (which goes first alternates): a moment
    // of load on the machine falls on both sides alike, so their ratio holds still where two
    // separate runs would not.
    let dirs = [
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    ];
    let stores = [
        Lexicon::shipped().expect("the shipped lexicon loads"),
        Lexicon::flags_nothing(),
    ]
    .into_iter()
    .zip(&dirs)
    .map(|(lexicon, dir)| {
        Store::open(dir.path(), vec!["shell".into()])
            .expect("store")
            .with_lexicon(lexicon)
    })
    .collect::<Vec<_>>();
    let polls = COMPARED / POLL;
    let mut took = [[Duration::ZERO; 2]; COMPARE_ROUNDS];
    for poll in 0..polls * COMPARE_ROUNDS as u64 {
        let batch = judged(rules, poll);
        let sides = if poll % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in sides {
            let started = Instant::now();
            stores[side]
                .ingest("bench", &batch, &Cursor::default(), now)
                .expect("ingest");
            took[(poll / polls) as usize][side] += started.elapsed();
        }
    }
    let rate = |elapsed: Duration| COMPARED as f64 / elapsed.as_secs_f64();
    let ratios: Vec<f64> = took
        .iter()
        .map(|[with, without]| without.as_secs_f64() / with.as_secs_f64())
        .collect();
    let total = |side: usize| {
        took.iter().map(|round| round[side]).sum::<Duration>() / COMPARE_ROUNDS as u32
    };
    (rate(total(0)), rate(total(1)), ratios)
}

/// Ingest time, claim and answer latencies, and the drain rates of one and two processes.
type PgFigures = (Duration, Vec<Duration>, Vec<Duration>, (f64, f64));

/// The same measurements on a new database of the PostgreSQL server EARSHOT_BENCH_POSTGRES
/// names (default: the one tests/postgres/setup.sh starts), or why they were skipped.
fn on_postgres(
    runtime: &tokio::runtime::Runtime,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<PgFigures, String> {
    let server = std::env::var("EARSHOT_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54329/postgres".into());
    let name = format!("earshot_bench_{}", std::process::id());
    admin(runtime, &server, &format!("CREATE DATABASE {name}"))?;
    let mut url = url::Url::parse(&server).map_err(|error| error.to_string())?;
    url.set_path(&name);
    let location = Location::Postgres(DatabaseUrl::parse(url.as_str())?);
    let measured = Store::migrate(&location)
        .and_then(|_| Store::open_at(&location, vec!["shell".into()]))
        .map_err(|error| error.to_string())
        .map(|store| measure(&store, runtime, rules, now))
        .and_then(|(ingest, claims, answers)| {
            // A database of its own, without the 100k cards above waiting in its outbox.
            let drain = format!("{name}_drain");
            admin(runtime, &server, &format!("CREATE DATABASE {drain}"))?;
            url.set_path(&drain);
            let location = Location::Postgres(DatabaseUrl::parse(url.as_str())?);
            let rates = Store::migrate(&location)
                .and_then(|_| {
                    let first = Store::open_at(&location, vec!["shell".into()])?;
                    let second = Store::open_at(&location, vec!["shell".into()])?;
                    Ok(drain_rate(vec![first, second]))
                })
                .map_err(|error| error.to_string());
            let _ = admin(
                runtime,
                &server,
                &format!("DROP DATABASE {drain} WITH (FORCE)"),
            );
            rates.map(|rates| (ingest, claims, answers, rates))
        });
    let _ = admin(
        runtime,
        &server,
        &format!("DROP DATABASE {name} WITH (FORCE)"),
    );
    measured
}

/// A chat that takes every card at once, so the outbox's own cost is what is timed.
struct NullChat;

#[async_trait::async_trait]
impl earshot::chat::Chat for NullChat {
    fn name(&self) -> &str {
        "shell"
    }

    async fn post(
        &self,
        mention: &earshot::domain::Tracked,
        _now: DateTime<Utc>,
    ) -> Result<String, earshot::chat::ChatError> {
        Ok(format!("card-{}", mention.number))
    }

    async fn update(
        &self,
        _message: &str,
        _mention: &earshot::domain::Tracked,
        _note: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), earshot::chat::ChatError> {
        Ok(())
    }
}

/// Cards delivered per second by one outbox on `handles[0]`, then by one on each handle at
/// once (on PostgreSQL, two connection pools: two processes).
fn drain_rate(handles: Vec<Store>) -> (f64, f64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut rates = Vec::new();
    for (round, processes) in [1usize, 2].into_iter().enumerate() {
        let first = &handles[0];
        let now = Utc::now();
        for poll in 0..DRAIN / POLL {
            let batch: Vec<Mention> = (poll * POLL..(poll + 1) * POLL)
                .map(|n| mention(n + (round as u64 + 1) * 10_000_000))
                .collect();
            first
                .ingest("drain", &batch, &Cursor::default(), now)
                .expect("ingest");
        }
        let outboxes: Vec<earshot::outbox::Outbox> = handles[..processes]
            .iter()
            .map(|store| {
                earshot::outbox::Outbox::new(
                    store.clone(),
                    vec![std::sync::Arc::new(NullChat)],
                    vec![],
                    std::sync::Arc::new(tokio::sync::Notify::new()),
                )
            })
            .collect();
        let started = Instant::now();
        runtime.block_on(async {
            while first.outbox_len() > 0 {
                let passes: Vec<_> = outboxes
                    .iter()
                    .cloned()
                    .map(|outbox| tokio::spawn(async move { outbox.drain(Utc::now()).await }))
                    .collect();
                for pass in passes {
                    pass.await.expect("task").expect("drain");
                }
            }
        });
        rates.push(DRAIN as f64 / started.elapsed().as_secs_f64());
    }
    (rates[0], rates[1])
}

fn admin(runtime: &tokio::runtime::Runtime, server: &str, sql: &str) -> Result<(), String> {
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
            .await
            .map_err(|error| format!("{server} does not answer ({error})"))?;
        tokio::spawn(connection);
        client
            .batch_execute(sql)
            .await
            .map_err(|error| error.to_string())
    })
}

fn mention(n: u64) -> Mention {
    let text = format!(
        "Post {n}: I ordered from Acme Coffee last week and the beans arrived a day late, but the roast is \
         wonderful and the bag is compostable. Customer service answered my question about grind size \
         within the hour. Would recommend to anyone who likes a fruity light roast; the subscription can \
         be paused any time, which I appreciate. Only complaint: the lids of the takeaway cups still leak \
         when you walk fast, which is annoying on a cold morning. Keep it up, team!"
    );
    Mention {
        key: MentionKey::new("bench", format!("{n:012}")),
        network: earshot::sources::mastodon::TRAITS.network(),
        author: Author {
            handle: format!("user{n}@example.social"),
            name: Some(format!("User {n}")),
            profile: Some(format!("https://example.social/@user{n}")),
        },
        text,
        link: Some(format!("https://example.social/@user{n}/{n}")),
        created_at: DateTime::UNIX_EPOCH,
        matched: Vec::new(),
        language: Some("en".into()),
        in_reply_to: None,
        direct: false,
        review: None,
    }
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort_unstable();
    let index = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[index].as_secs_f64() * 1000.0
}

/// VmHWM from /proc: the most resident memory this process has had.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}
