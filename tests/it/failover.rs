//! Two real earshot processes on one PostgreSQL database and a fake Slack; mentions keep
//! arriving, people keep claiming, and the leader is killed with kill -9 again and again (a
//! new process started in its place each time). Afterwards every mention was relayed exactly
//! once, every acknowledged command is in the store, the digest went out once, and each time
//! another process took over within 30 seconds.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use earshot::domain::Status;
use earshot::store::{Store, LEADER};
use serde_json::json;

use crate::backend::Backend;
use crate::common::{GrowingFeed, XorShift};
use crate::slack::fake::FakeSlack;

const ROUNDS: usize = 4;
const NEW_PER_ROUND: usize = 3;
const CHANNEL: &str = "C0123456789";

struct Fleet {
    config: std::path::PathBuf,
    logs: std::path::PathBuf,
    started: usize,
    running: Vec<Child>,
}

impl Fleet {
    fn start_one(&mut self) {
        self.started += 1;
        let log =
            std::fs::File::create(self.logs.join(format!("earshot-{}.log", self.started))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_earshot"))
            .args(["run", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "earshot=info")
            .env_remove("RUST_LOG_STYLE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.running.push(child);
    }

    /// kill -9 of the process with `pid`; false if it is not one of ours.
    fn kill(&mut self, pid: u32) -> bool {
        let Some(at) = self.running.iter().position(|child| child.id() == pid) else {
            return false;
        };
        let mut child = self.running.remove(at);
        child.kill().unwrap();
        child.wait().unwrap();
        true
    }

    fn logs(&self) -> String {
        (1..=self.started)
            .map(|n| {
                let text = std::fs::read_to_string(self.logs.join(format!("earshot-{n}.log")))
                    .unwrap_or_default();
                format!("--- process {n} ---\n{}", tail(&text, 3_000))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for child in &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn tail(text: &str, bytes: usize) -> &str {
    let mut from = text.len().saturating_sub(bytes);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    &text[from..]
}

/// The process id in a holder's name (`host:pid:started`).
fn pid_of(holder: &str) -> Option<u32> {
    holder.split(':').nth(1)?.parse().ok()
}

/// The live leader's pid, waiting up to `within` for one.
async fn leader(store: &Store, within: Duration) -> Option<u32> {
    let started = Instant::now();
    while started.elapsed() < within {
        let lease = tokio::task::block_in_place(|| store.lease(LEADER).unwrap());
        if let Some(lease) = lease.filter(|lease| lease.live) {
            return pid_of(&lease.holder);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

fn slash(text: &str) -> serde_json::Value {
    json!({
        "team_id": "T1", "team_domain": "acme", "channel_id": CHANNEL, "channel_name": "brand",
        "user_id": "U1", "user_name": "jane", "command": "/mentions", "text": text,
        "response_url": "https://hooks.slack.com/commands/T1/1/x", "trigger_id": "111.222.cmd",
        "api_app_id": "A1",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_of_the_leader_hands_over_within_30s_and_loses_and_doubles_nothing() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let place = backend.place();
    let store = place.open(vec![]);
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("earshot.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"{url}\"\n\n[chat.slack]\nchannel = \"{CHANNEL}\"\nbot_token = \"xoxb-test\"\napp_token = \"xapp-test\"\napi_url = \"{api}\"\n\n[rules]\nkeywords = [\"acme\"]\n\n[digest]\nat = \"00:00\"\ntimezone = \"UTC\"\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n\n[[sources]]\nkind = \"feed\"\nname = \"local\"\nurl = \"feed.xml\"\nevery = \"10s\"\n",
            url = place.url().unwrap(),
            api = fake.api_url,
        ),
    )
    .unwrap();
    let mut feed = GrowingFeed::new(dir.path().join("feed.xml"));
    feed.add_round("none", 0);
    let mut fleet = Fleet {
        config,
        logs: dir.path().to_path_buf(),
        started: 0,
        running: Vec::new(),
    };
    fleet.start_one();
    fleet.start_one();

    let mut random = XorShift(0x5eed_f00d_0000_0015);
    let mut acknowledged: Vec<u64> = Vec::new();
    let mut takeovers: Vec<Duration> = Vec::new();
    for round in 0..ROUNDS {
        feed.add_round(round, NEW_PER_ROUND);

        // Claims of the cards posted so far, over Socket Mode to whichever process gets them.
        let posted: Vec<u64> =
            fake.with(|slack| slack.cards().iter().filter_map(|c| c.number()).collect());
        let unclaimed: Vec<u64> = posted
            .into_iter()
            .filter(|n| !acknowledged.contains(n))
            .take(2)
            .collect();
        for number in &unclaimed {
            let id = fake.send("slash_commands", slash(&format!("claim {number}")));
            if let Some(ack) = fake.ack_within(&id, Duration::from_secs(5)).await {
                let said = ack["payload"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if said.starts_with(&format!("#{number} is yours.")) {
                    acknowledged.push(*number);
                }
            }
        }

        // The leader dies at a random moment of the round, and a new process starts.
        tokio::time::sleep(Duration::from_millis(random.below(4_000))).await;
        let Some(old) = leader(&store, Duration::from_secs(40)).await else {
            panic!("no leader in round {round}\n{}", fleet.logs());
        };
        assert!(
            fleet.kill(old),
            "the leader {old} is not one of the test's processes"
        );
        let killed = Instant::now();
        fleet.start_one();
        let mut new = None;
        while killed.elapsed() < Duration::from_secs(40) {
            match leader(&store, Duration::from_secs(1)).await {
                Some(pid) if pid != old => {
                    new = Some(pid);
                    break;
                }
                _ => {}
            }
        }
        assert!(
            new.is_some(),
            "nobody took over from {old}\n{}",
            fleet.logs()
        );
        takeovers.push(killed.elapsed());
    }

    // Everything arrives in the end: every card, every claim's update, nothing waiting.
    let total = (ROUNDS * NEW_PER_ROUND) as u64;
    let started = Instant::now();
    loop {
        let cards = fake.with(|slack| slack.cards().len());
        let waiting = tokio::task::block_in_place(|| store.outbox_len());
        if cards as u64 >= total && waiting == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "{cards} of {total} cards posted, {waiting} effects waiting\n{}",
            fleet.logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let numbers: Vec<u64> =
        fake.with(|slack| slack.cards().iter().filter_map(|c| c.number()).collect());
    for number in 1..=total {
        let shown = numbers.iter().filter(|n| **n == number).count();
        assert_eq!(
            shown,
            1,
            "#{number} was relayed {shown} times\n{}",
            fleet.logs()
        );
    }
    assert_eq!(store.count().unwrap(), total, "one mention per feed entry");
    for number in &acknowledged {
        let tracked = store.mention(*number).unwrap();
        assert_eq!(
            tracked.state.status(),
            Status::Claimed,
            "#{number} was acknowledged as claimed"
        );
    }
    assert!(
        !acknowledged.is_empty(),
        "some claims were acknowledged\n{}",
        fleet.logs()
    );
    let digests = fake.with(|slack| {
        slack
            .messages
            .iter()
            .filter(|m| {
                m.request["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Daily digest"))
            })
            .count()
    });
    assert_eq!(
        digests,
        1,
        "the digest went out once for its day\n{}",
        fleet.logs()
    );
    let slowest = takeovers.iter().max().copied().unwrap_or_default();
    eprintln!("takeovers after kill -9: {takeovers:?}");
    assert!(
        slowest < Duration::from_secs(30),
        "a takeover took {slowest:?}"
    );
}
