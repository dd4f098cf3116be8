//! kill -9 at random points while earshot ingests and executes commands, many times. After each
//! restart: no acknowledged command is lost, no mention is lost, no card is shown twice.

use crate::common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{GrowingFeed, Setup, XorShift};

const ROUNDS: u64 = 30;
const NEW_PER_ROUND: u64 = 12;

enum Ack {
    Claimed { member: String },
    Done,
}

on_both! {
#[test]
fn kill_nine_loses_no_acknowledged_command_and_no_mention_and_shows_no_card_twice(backend) {
    let place = backend.place();
    let setup = Setup::new("[[sources]]\nkind = \"feed\"\nname = \"local\"\nurl = \"feed.xml\"\n")
        .store_in(&place);
    let mut feed = GrowingFeed::new(setup.path().join("feed.xml"));
    let mut random = XorShift(0x5eed_1234_abcd_0001);
    let mut cards: HashMap<u64, usize> = HashMap::new();
    let mut acks: HashMap<u64, Ack> = HashMap::new();
    let mut kills = 0;
    let mut typical = Duration::from_millis(200);

    for round in 0..ROUNDS {
        feed.add_round(round, NEW_PER_ROUND as usize);

        // Each round acts on numbers no other round touches, as member m<round>.
        let member = format!("m{round}");
        let base = round * 4;
        let commands = format!(
            "claim {}\nclaim {}\ndone {} fixed\ndone {} fixed\n",
            base + 1,
            base + 2,
            base + 3,
            base + 4
        );

        let mut child = setup
            .command(&["run", "--once", "--as", &member])
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(commands.as_bytes());
        drop(stdin);
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let child = Arc::new(Mutex::new(child));
        // Every third round dies the moment it acknowledges its first command: what it said it
        // did must already be on disk.
        let kill_on_ack = round % 3 == 1;
        let reader = {
            let lines = lines.clone();
            let child = child.clone();
            let stdout = child.lock().unwrap().stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let acknowledged = line.ends_with(" is yours.") || line.ends_with(" is done.");
                    lines.lock().unwrap().push(line);
                    if kill_on_ack && acknowledged {
                        let _ = child.lock().unwrap().kill();
                    }
                }
            })
        };
        // Most rounds die at a random moment of a typical run; every fifth runs to the end and
        // sets what "typical" is.
        let started = std::time::Instant::now();
        if round % 5 != 0 && !kill_on_ack {
            let kill_after = random.below(typical.as_millis().max(20) as u64);
            std::thread::sleep(Duration::from_millis(kill_after));
            let mut child = child.lock().unwrap();
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                kills += 1;
            }
        }
        reader.join().unwrap();
        let status = child.lock().unwrap().wait().unwrap();
        if kill_on_ack && !status.success() {
            kills += 1;
        }
        if round % 5 == 0 {
            typical = started.elapsed();
            eprintln!("a full run takes {typical:?}");
        }

        for line in lines.lock().unwrap().iter() {
            if let Some(number) = card_number(line) {
                *cards.entry(number).or_default() += 1;
            }
            if let Some(number) = ack_number(line, " is yours.") {
                acks.insert(
                    number,
                    Ack::Claimed {
                        member: member.clone(),
                    },
                );
            }
            if let Some(number) = ack_number(line, " is done.") {
                acks.insert(number, Ack::Done);
            }
        }
    }
    assert!(
        kills >= ROUNDS / 2,
        "most rounds were killed mid-run ({kills})"
    );

    // A clean run: catches up on whatever the killed runs left, and lists everything, a page
    // at a time.
    let pages: String = (1..=(ROUNDS * NEW_PER_ROUND).div_ceil(10))
        .map(|page| format!("list all {page}\n"))
        .collect();
    let last = setup.run_once(&pages, &[]);
    assert!(last.success, "{}", last.stderr);
    for number in last.cards() {
        *cards.entry(number).or_default() += 1;
    }

    let listed: HashMap<u64, String> = last
        .stdout
        .lines()
        .filter(|line| line.starts_with('#'))
        .filter_map(|line| {
            let (number, rest) = line[1..].split_once(" · ")?;
            Some((number.parse().ok()?, rest.to_string()))
        })
        .collect();
    assert_eq!(
        listed.len() as u64,
        ROUNDS * NEW_PER_ROUND,
        "every entry became exactly one mention"
    );
    assert!(
        (1..=ROUNDS * NEW_PER_ROUND).all(|n| listed.contains_key(&n)),
        "numbers are contiguous"
    );

    for (number, shown) in &cards {
        assert_eq!(*shown, 1, "card #{number} was shown {shown} times");
    }
    assert!(!acks.is_empty(), "some commands were acknowledged");
    for (number, ack) in &acks {
        let state = &listed[number];
        match ack {
            Ack::Claimed { member } => assert!(
                state.starts_with(&format!("claimed by @{member} ·")),
                "#{number}: acknowledged claim by {member} lost: {state}"
            ),
            Ack::Done => assert!(
                state.starts_with("done by @"),
                "#{number}: acknowledged done lost: {state}"
            ),
        }
    }
    eprintln!(
        "{kills} kills, {} acknowledged commands, {} cards",
        acks.len(),
        cards.len()
    );
}
}

fn card_number(line: &str) -> Option<u64> {
    line.strip_prefix("┌─ #")?.split(' ').next()?.parse().ok()
}

fn ack_number(line: &str, suffix: &str) -> Option<u64> {
    line.strip_prefix('#')?.strip_suffix(suffix)?.parse().ok()
}
