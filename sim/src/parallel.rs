//! Independent runs on several threads, their results handed back in order.
//!
//! The simulated world is single-threaded by design (`Rc`, `RefCell`, one
//! current-thread paused runtime per run), so parallelism is one worker
//! thread per job, each with state of its own (its own runtime), running
//! whole items — a seed, a script, a schedule. Only plain data crosses
//! threads: item numbers in, results out. Results reach the caller in item
//! order whatever the number of workers or their timing, and an item may
//! declare itself the last one (a finding that ends an exploration): items
//! after it are no longer started, and results of those already run are
//! dropped. That is what keeps every report independent of `--jobs`.
//!
//! Workers claim items in chunks of consecutive numbers from one atomic
//! counter, so claims are cheap and a worker's results travel in one
//! message per chunk. With one worker nothing is spawned: the same loop
//! runs on the calling thread.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::mpsc;

/// What an item's result says about the items after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Carry on.
    Go,
    /// This item ends the run: nothing after it is started or delivered.
    Last,
}

/// How the items are spread.
#[derive(Clone, Copy, Debug)]
pub struct Workers {
    /// Worker threads at most (fewer when there are fewer chunks).
    pub jobs: NonZeroUsize,
    /// Consecutive items a worker claims at a time: large enough that
    /// claiming and messaging cost nothing next to the items, small enough
    /// that the workers finish together.
    pub chunk: u64,
}

/// The cores this process may use: the default of every `--jobs`.
pub fn available_jobs() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// The most workers `--jobs` accepts: far more than any machine's cores,
/// few enough that a typo cannot ask for a million threads.
pub const MAX_JOBS: usize = 1_024;

/// Parses a `--jobs` value: a whole number from 1 to [`MAX_JOBS`].
pub fn parse_jobs(s: &str) -> Result<NonZeroUsize, String> {
    s.parse::<usize>()
        .ok()
        .and_then(NonZeroUsize::new)
        .filter(|n| n.get() <= MAX_JOBS)
        .ok_or_else(|| format!("expected a number of workers from 1 to {MAX_JOBS}, got {s:?}"))
}

/// Runs `work(state, i)` for every item `i` of `0..items` (without end when
/// `items` is `None`) and hands each result to `take(i, result)` in item
/// order. Each worker makes its `state` once with `init`. The run ends
/// when the items run out, after the first item whose `work` said
/// [`Flow::Last`] has been taken, or when `take` returns false.
pub fn ordered<S, R, I, W, T>(workers: Workers, items: Option<u64>, init: I, work: W, mut take: T)
where
    I: Fn() -> S + Sync,
    W: Fn(&mut S, u64) -> (R, Flow) + Sync,
    R: Send,
    T: FnMut(u64, R) -> bool,
{
    let chunk = workers.chunk.max(1);
    let claims = Claims {
        next: AtomicU64::new(0),
        end: items.unwrap_or(u64::MAX),
        chunk,
        last: AtomicU64::new(u64::MAX),
        stop: AtomicBool::new(false),
    };
    let chunks = items.map_or(u64::MAX, |n| n.div_ceil(chunk));
    let threads = usize::try_from(chunks).map_or(workers.jobs.get(), |c| c.min(workers.jobs.get()));
    let mut in_order = InOrder {
        next: 0,
        waiting: BTreeMap::new(),
    };
    if threads <= 1 {
        let mut state = init();
        claims.work(&mut state, &work, &mut |batch| {
            in_order.accept(batch, &claims, &mut take)
        });
        return;
    }
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Vec<(u64, R)>>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (claims, init, work) = (&claims, &init, &work);
            scope.spawn(move || {
                let mut state = init();
                claims.work(&mut state, work, &mut |batch| tx.send(batch).is_ok());
            });
        }
        drop(tx);
        for batch in rx {
            if !in_order.accept(batch, &claims, &mut take) {
                break;
            }
        }
        // Workers still running finish their current item and stop.
        claims.stop.store(true, SeqCst);
    });
}

/// The items still to claim, shared by the workers.
struct Claims {
    /// The first item nobody has claimed.
    next: AtomicU64,
    /// One past the last item.
    end: u64,
    /// Items per claim.
    chunk: u64,
    /// The lowest item known to be the last one (`u64::MAX`: none yet).
    last: AtomicU64,
    /// Set once the caller has everything it wants.
    stop: AtomicBool,
}

impl Claims {
    /// The next chunk, unless the run is over.
    fn claim(&self) -> Option<Range<u64>> {
        if self.stop.load(SeqCst) {
            return None;
        }
        let first = self.next.fetch_add(self.chunk, SeqCst);
        if first >= self.end || first > self.last.load(SeqCst) {
            return None;
        }
        Some(first..first.saturating_add(self.chunk).min(self.end))
    }

    /// One worker's loop: claim, run each item of the chunk that can still
    /// matter, `emit` the chunk's results; until the items run out or
    /// `emit` says the caller is done.
    fn work<S, R>(
        &self,
        state: &mut S,
        work: &impl Fn(&mut S, u64) -> (R, Flow),
        emit: &mut dyn FnMut(Vec<(u64, R)>) -> bool,
    ) {
        while let Some(range) = self.claim() {
            let mut batch =
                Vec::with_capacity(usize::try_from(range.end - range.start).unwrap_or(0));
            for i in range {
                if self.stop.load(SeqCst) || i > self.last.load(SeqCst) {
                    break;
                }
                let (result, flow) = work(state, i);
                batch.push((i, result));
                if flow == Flow::Last {
                    self.last.fetch_min(i, SeqCst);
                    break;
                }
            }
            if batch.is_empty() || !emit(batch) {
                return;
            }
        }
    }
}

/// Results that arrived ahead of their turn.
struct InOrder<R> {
    /// The item whose result is taken next.
    next: u64,
    /// Results of later items, by item.
    waiting: BTreeMap<u64, R>,
}

impl<R> InOrder<R> {
    /// Files a chunk's results and takes every result whose turn has come;
    /// false once the run is over (the last item was taken, or `take` said
    /// stop).
    fn accept(
        &mut self,
        batch: Vec<(u64, R)>,
        claims: &Claims,
        take: &mut impl FnMut(u64, R) -> bool,
    ) -> bool {
        self.waiting.extend(batch);
        while let Some(result) = self.waiting.remove(&self.next) {
            let i = self.next;
            self.next += 1;
            // Every item before `i` has been taken, so if `i` is at or past
            // the lowest last item, it is that item.
            if !take(i, result) || i >= claims.last.load(SeqCst) {
                claims.stop.store(true, SeqCst);
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn workers(jobs: usize, chunk: u64) -> Workers {
        Workers {
            jobs: NonZeroUsize::new(jobs).expect("jobs > 0"),
            chunk,
        }
    }

    /// Every item, taken in order, for any number of workers and chunk
    /// size, even when early items are the slowest.
    #[test]
    fn results_arrive_in_item_order() {
        for (jobs, chunk) in [(1, 1), (2, 1), (4, 3), (8, 16)] {
            let mut seen = Vec::new();
            ordered(
                workers(jobs, chunk),
                Some(200),
                || (),
                |(), i| {
                    if i % 17 == 0 {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    (i * 10, Flow::Go)
                },
                |i, r| {
                    seen.push((i, r));
                    true
                },
            );
            let want: Vec<(u64, u64)> = (0..200).map(|i| (i, i * 10)).collect();
            assert_eq!(seen, want, "jobs {jobs}, chunk {chunk}");
        }
    }

    /// The lowest item that says it is last ends the run, even when a later
    /// "last" item finishes first.
    #[test]
    fn the_lowest_last_item_ends_the_run() {
        for jobs in [1, 2, 4] {
            let mut seen = Vec::new();
            ordered(
                workers(jobs, 1),
                Some(1_000),
                || (),
                |(), i| match i {
                    // Slow, and last: the answer.
                    30 => {
                        std::thread::sleep(Duration::from_millis(30));
                        (i, Flow::Last)
                    }
                    // Fast, and last too, but later.
                    35 | 36 | 500 => (i, Flow::Last),
                    _ => (i, Flow::Go),
                },
                |i, _| {
                    seen.push(i);
                    true
                },
            );
            assert_eq!(seen, (0..=30).collect::<Vec<_>>(), "jobs {jobs}");
        }
    }

    /// `take` returning false stops the run at that item; without an end,
    /// that is the only way out.
    #[test]
    fn take_can_stop_an_endless_run() {
        for jobs in [1, 3] {
            let mut seen = Vec::new();
            ordered(
                workers(jobs, 4),
                None,
                || 0u64,
                |calls, i| {
                    *calls += 1;
                    (i, Flow::Go)
                },
                |i, _| {
                    seen.push(i);
                    i < 99
                },
            );
            assert_eq!(seen, (0..100).collect::<Vec<_>>(), "jobs {jobs}");
        }
    }

    /// Each worker makes its own state once; no item is run twice.
    #[test]
    fn each_worker_builds_its_state_once_and_no_item_runs_twice() {
        let inits = AtomicU64::new(0);
        let runs = AtomicU64::new(0);
        let mut taken = 0;
        ordered(
            workers(3, 5),
            Some(300),
            || {
                inits.fetch_add(1, SeqCst);
            },
            |(), i| {
                runs.fetch_add(1, SeqCst);
                (i, Flow::Go)
            },
            |_, _| {
                taken += 1;
                true
            },
        );
        assert_eq!(taken, 300);
        assert_eq!(runs.load(SeqCst), 300);
        assert!((1..=3).contains(&inits.load(SeqCst)));
    }

    /// Fewer chunks than jobs: only as many workers as chunks (one chunk
    /// runs on the calling thread).
    #[test]
    fn no_more_workers_than_chunks() {
        let caller = std::thread::current().id();
        let mut threads = Vec::new();
        ordered(
            workers(8, 10),
            Some(7),
            || (),
            |(), _| (std::thread::current().id(), Flow::Go),
            |_, id| {
                threads.push(id);
                true
            },
        );
        assert_eq!(threads, vec![caller; 7]);
    }
}
