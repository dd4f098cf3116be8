//! The priority of a new mention, worked out once, at ingest. Scoring is pure CPU work on
//! each post alone, done before the transaction (whose closure sled may run again on a
//! conflict); a poll's batch is split over the machine's cores, because on one core the
//! detector costs ingest about a sixth of its rate (benches/ingest.rs measures it).

use std::sync::OnceLock;

use super::Store;
use crate::domain::review;
use crate::domain::{Lexicon, Mention, Priority};

/// Below this many posts per extra thread, starting the thread costs more than it saves
/// (a post takes a few microseconds, a thread tens).
const POSTS_PER_THREAD: usize = 32;

impl Store {
    /// The priority a new mention is ranked by: the lexicon's score, and a review's rating.
    pub(super) fn priority_of(&self, mention: &Mention) -> Priority {
        priority(&self.lexicon, mention)
    }

    /// The priorities of `batch`, in its order.
    pub(super) fn priorities_of(&self, batch: &[Mention]) -> Vec<Priority> {
        let lexicon: &Lexicon = &self.lexicon;
        let score = |part: &[Mention]| {
            part.iter()
                .map(|mention| priority(lexicon, mention))
                .collect::<Vec<_>>()
        };
        let threads = cores().min(batch.len() / POSTS_PER_THREAD).max(1);
        if threads == 1 {
            return score(batch);
        }
        let share = batch.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let mut parts = batch.chunks(share);
            let mine = parts.next().unwrap_or_default();
            // A thread the system will not start (out of threads or memory) leaves its part
            // to this one: slower, never lost.
            let others: Vec<_> = parts
                .map(|part| {
                    std::thread::Builder::new()
                        .name("earshot-scoring".into())
                        .spawn_scoped(scope, move || score(part))
                        .map_err(|_| part)
                })
                .collect();
            let mut all = score(mine);
            for other in others {
                match other {
                    // Scoring does not panic on any text; if it ever did, the panic goes on
                    // here as it would have without the thread.
                    Ok(thread) => all.extend(
                        thread
                            .join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    ),
                    Err(part) => all.extend(score(part)),
                }
            }
            all
        })
    }
}

fn priority(lexicon: &Lexicon, mention: &Mention) -> Priority {
    let words = lexicon.score(&mention.text, mention.language.as_deref());
    match &mention.review {
        Some(found) => review::rated(words, found),
        None => words,
    }
}

/// The cores this process may use, asked once (the answer reads cgroup files).
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
