//! Complaint detection on the project's own labeled set: precision and recall per language,
//! beside a plain keyword baseline (earshot's previous lexicon), in the same run; and what
//! scoring costs per post. `cargo bench --bench complaints`.
//!
//! The detector is not told the language: it finds it as it must for a source without a tag.

use std::time::Instant;

use earshot::domain::Lexicon;

const DEV: &str = include_str!("complaints/dev.tsv");
const TEST: &str = include_str!("complaints/test.tsv");
const CHATTER_DEV: &str = include_str!("complaints/chatter-dev.tsv");
const CHATTER_DEV2: &str = include_str!("complaints/chatter-dev2.tsv");
const CHATTER_TEST: &str = include_str!("complaints/chatter-test.tsv");
const BASELINE: &str = include_str!("complaints/keyword-baseline.toml");

struct Post<'a> {
    complaint: bool,
    language: &'a str,
    text: &'a str,
}

fn posts(set: &str) -> Vec<Post<'_>> {
    set.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut fields = line.splitn(3, '\t');
            let label = fields.next().unwrap_or("");
            let language = fields.next().unwrap_or("");
            let text = fields.next().unwrap_or("");
            assert!(
                matches!(label, "c" | "-") && !text.is_empty(),
                "a line of the set is not `c|-<TAB>lang<TAB>text`: {line:?}"
            );
            Post {
                complaint: label == "c",
                language,
                text,
            }
        })
        .collect()
}

#[derive(Default)]
struct Counts {
    tp: u32,
    fp: u32,
    fn_: u32,
    tn: u32,
}

impl Counts {
    fn add(&mut self, truth: bool, flagged: bool) {
        match (truth, flagged) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        0.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!(
            "complaints: measured by `cargo bench --bench complaints`; skipped under `cargo test`"
        );
        return;
    }
    let detector = Lexicon::shipped().expect("the shipped lexicon loads");
    let baseline = Lexicon::parse(BASELINE).expect("the baseline lexicon loads");
    // COMPLAINTS_VERBOSE=dev lists the dev set's misses (what the lexicons are tuned on);
    // `all` lists the test set's too, which defeats holding it out.
    let verbose = std::env::var("COMPLAINTS_VERBOSE").unwrap_or_default();

    println!("complaint detection on the labeled set (language not given: detected)");
    println!(
        "{:<12} {:<3} {:>5} {:>11} {:>8} {:>8}   {:>19} {:>8}",
        "set", "lang", "posts", "complaints", "prec.", "recall", "keyword baseline P", "R"
    );
    for (name, set) in [
        ("dev", DEV),
        ("test", TEST),
        ("chatter-dev", CHATTER_DEV),
        ("chatter-dev2", CHATTER_DEV2),
        ("chatter-test", CHATTER_TEST),
    ] {
        let posts = posts(set);
        for language in ["en", "nl"] {
            let mut ours = Counts::default();
            let mut base = Counts::default();
            let chosen: Vec<&Post> = posts.iter().filter(|p| p.language == language).collect();
            for post in &chosen {
                let priority = detector.score(post.text, None);
                ours.add(post.complaint, priority.complaint);
                base.add(post.complaint, baseline.score(post.text, None).complaint);
                let show = verbose == "all" || (verbose == "dev" && name.contains("dev"));
                if show && priority.complaint != post.complaint {
                    println!(
                        "  miss [{name} {language}] {} {:?} -> {:?}",
                        if post.complaint { "FN" } else { "FP" },
                        post.text,
                        priority.reasons
                    );
                }
            }
            println!(
                "{:<12} {:<3} {:>5} {:>11} {:>8.2} {:>8.2}   {:>19.2} {:>8.2}",
                name,
                language,
                chosen.len(),
                chosen.iter().filter(|p| p.complaint).count(),
                ours.precision(),
                ours.recall(),
                base.precision(),
                base.recall()
            );
        }
    }

    // What a post costs to score: the eval posts over and over, with a network's tag (most
    // sources give one) and without (whatlang runs first).
    let all: Vec<Post> = posts(DEV).into_iter().chain(posts(TEST)).collect();
    let rounds = 200;
    for (label, tagged) in [
        ("with the network's tag", true),
        ("language detected", false),
    ] {
        let started = Instant::now();
        let mut flagged = 0usize;
        for _ in 0..rounds {
            for post in &all {
                let tag = tagged.then_some(post.language);
                flagged += usize::from(detector.score(post.text, tag).complaint);
            }
        }
        let per_post = started.elapsed().as_secs_f64() * 1e6 / (rounds * all.len()) as f64;
        println!("scoring cost, {label}: {per_post:.1} µs/post ({flagged} flags)");
    }
    // The ingest bench's mention (benches/ingest.rs): a long post with a tag, mostly praise.
    let long = "Post 7: I ordered from Acme Coffee last week and the beans arrived a day late, but the roast is \
         wonderful and the bag is compostable. Customer service answered my question about grind size \
         within the hour. Would recommend to anyone who likes a fruity light roast; the subscription can \
         be paused any time, which I appreciate. Only complaint: the lids of the takeaway cups still leak \
         when you walk fast, which is annoying on a cold morning. Keep it up, team!";
    let times = 50_000;
    let started = Instant::now();
    for _ in 0..times {
        std::hint::black_box(detector.score(std::hint::black_box(long), Some("en")));
    }
    let per_post = started.elapsed().as_secs_f64() * 1e6 / f64::from(times);
    println!(
        "scoring cost, the ingest bench's {}-byte post with its tag: {per_post:.1} µs/post",
        long.len()
    );
    let started = Instant::now();
    for _ in 0..rounds {
        for post in &all {
            std::hint::black_box(baseline.score(post.text, Some(post.language)));
        }
    }
    let per_post = started.elapsed().as_secs_f64() * 1e6 / (rounds * all.len()) as f64;
    println!("scoring cost, keyword baseline: {per_post:.1} µs/post");
}
