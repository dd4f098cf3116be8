//! The priority of a new mention, worked out once, at ingest. Scoring is pure CPU work on
//! each post alone, so while the calling thread writes a poll's batch (most of ingest's time
//! goes to the store) a helper thread scores the posts ahead of it: on one core the detector
//! would cost ingest about a sixth of its rate (benches/ingest.rs measures it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use super::Store;
use crate::domain::review;
use crate::domain::{Lexicon, Mention, Priority};

/// Below this many posts, starting a thread costs more than it saves (a post takes a few
/// microseconds, a thread tens).
const POSTS_FOR_A_HELPER: usize = 32;

/// The priorities of a batch, each worked out once by whichever thread asks first.
pub(super) struct Priorities<'a> {
    lexicon: &'a Lexicon,
    batch: &'a [Mention],
    slots: Vec<OnceLock<Priority>>,
    done: AtomicBool,
}

impl Priorities<'_> {
    /// The priority of the `index`th mention of the batch. A slot is filled once, so a
    /// transaction that sled runs again on a conflict does not score again.
    pub(super) fn of(&self, index: usize) -> &Priority {
        self.slots[index].get_or_init(|| priority(self.lexicon, &self.batch[index]))
    }

    /// Scores the batch in order, ahead of the writer, until it is all scored or the writer
    /// is done with it (a failed transaction needs no more).
    fn score_ahead(&self) {
        for index in 0..self.batch.len() {
            if self.done.load(Ordering::Relaxed) {
                return;
            }
            self.of(index);
        }
    }
}

impl Store {
    /// The priority a new mention is ranked by: the lexicon's score, and a review's rating.
    pub(super) fn priority_of(&self, mention: &Mention) -> Priority {
        priority(&self.lexicon, mention)
    }

    /// Runs `write` with the priorities of `batch`, scored on a helper thread while `write`
    /// goes on; what the helper has not reached yet, `write` scores itself when it asks.
    pub(super) fn scoring<T>(&self, batch: &[Mention], write: impl FnOnce(&Priorities) -> T) -> T {
        let priorities = Priorities {
            lexicon: &self.lexicon,
            batch,
            slots: batch.iter().map(|_| OnceLock::new()).collect(),
            done: AtomicBool::new(false),
        };
        if cores() == 1 || batch.len() < POSTS_FOR_A_HELPER {
            return write(&priorities);
        }
        std::thread::scope(|scope| {
            // A thread the system will not start (out of threads or memory) leaves the
            // scoring to `write`: slower, never lost.
            let helper = std::thread::Builder::new()
                .name("earshot-scoring".into())
                .spawn_scoped(scope, || priorities.score_ahead())
                .ok();
            let written = write(&priorities);
            priorities.done.store(true, Ordering::Relaxed);
            if let Some(helper) = helper {
                // Scoring does not panic on any text; if it ever did, the panic goes on here
                // as it would have on this thread.
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            }
            written
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
