//! Exploration: many seeds, one verdict.
//!
//! Seeds are independent, so they run on as many workers as asked
//! ([`Options::jobs`], see [`crate::parallel`]); results are taken in seed
//! order, so nothing an exploration reports depends on the number of
//! workers or their timing.

use std::cell::RefCell;
use std::fmt;
use std::num::NonZeroUsize;
use std::rc::Rc;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use indexmap::IndexMap;
use reconciler_core::Variant;
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

use crate::digest::TraceDigest;
use crate::director::{Overrides, Swarm};
use crate::limits::{MAX_SHARDS, thousands};
use crate::oracle::{Kind, Label, Violation};
use crate::parallel::{self, Flow, Workers};
use crate::run::{Outcome, run_seed_with, sim_runtime};
use crate::trace::{Entry, Keep, LineHash, Observer};

/// `I/N`: this runner takes every seed whose index in the run is `I`
/// modulo `N`, so `N` shards together cover exactly the seeds of one
/// unsharded run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u64,
    /// How many shards.
    pub count: u64,
}

impl Shard {
    /// The whole run.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// How many of the positions `0..seeds` of a run belong to this shard.
    pub fn seeds_of(self, seeds: u64) -> u64 {
        seeds.saturating_sub(self.index).div_ceil(self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected I/N (e.g. 0/4), got {s:?}"))?;
        let index: u64 = i
            .parse()
            .map_err(|_| format!("shard index {i:?} is not a number"))?;
        let count: u64 = n
            .parse()
            .map_err(|_| format!("shard count {n:?} is not a number"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: need 0 <= I < N"));
        }
        if count > MAX_SHARDS {
            return Err(format!(
                "shard count {count} is out of range: the maximum is {}",
                thousands(MAX_SHARDS)
            ));
        }
        Ok(Shard { index, count })
    }
}

/// Which violations end an exploration: any, or only those a label
/// (`kind` or `kind/sub`) describes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Find(pub Option<Label>);

impl Find {
    /// True when `v` is what we are looking for.
    pub fn matches(&self, v: &Violation) -> bool {
        self.0.is_none_or(|l| l.matches(v))
    }
}

impl FromStr for Find {
    type Err = String;

    /// Parses a label strictly: an unknown kind or sub-reason is an error
    /// listing the valid ones, so a typo never silently disables a hunt.
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<Label>().map(|l| Find(Some(l)))
    }
}

/// How much to explore.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The variant under test.
    pub variant: Variant,
    /// The first seed.
    pub start_seed: u64,
    /// How many seeds the (unsharded) run has; `None` with a time budget.
    pub seeds: Option<u64>,
    /// This runner's shard.
    pub shard: Shard,
    /// What every seed's world fixes instead of drawing (passes, platform).
    pub overrides: Overrides,
    /// Which violations stop the run.
    pub find: Find,
}

/// A violation with the seed that shows it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The seed.
    pub seed: u64,
    /// The first matching violation.
    pub violation: Violation,
    /// Every violation of the run.
    pub all: Vec<Violation>,
    /// The last lines of the trace.
    pub tail: String,
}

/// Counters of an exploration. Every field is a sum over seeds, so the
/// counters do not depend on the order seeds ran in, and the summaries of
/// disjoint seed sets add up ([`Summary::combine`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Simulated time covered, in whole microseconds per seed: an integer,
    /// so that the sum is exact in any order (a sum of floats is not).
    pub simulated_us: u64,
    /// The same in seconds, for reading.
    pub simulated_secs: f64,
    /// Seeds showing each violation kind (including kinds that did not stop
    /// the run).
    pub seeds_with: IndexMap<String, u64>,
}

impl Default for Summary {
    /// No seeds, and every kind listed (at zero) in report order.
    fn default() -> Self {
        Summary {
            seeds: 0,
            simulated_us: 0,
            simulated_secs: 0.0,
            seeds_with: Kind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), 0))
                .collect(),
        }
    }
}

impl Summary {
    /// Counts one seed that covered `sim_time` and showed `kinds` (each
    /// once).
    pub fn add_seed(&mut self, sim_time: Duration, kinds: &[Kind]) {
        self.seeds += 1;
        let us = u64::try_from(sim_time.as_micros()).unwrap_or(u64::MAX);
        self.add_time(us);
        for k in kinds {
            match self.seeds_with.get_mut(k.as_str()) {
                Some(n) => *n += 1,
                None => {
                    self.seeds_with.insert(k.as_str().to_owned(), 1);
                }
            }
        }
    }

    /// Adds the counters of a disjoint set of seeds (another shard).
    pub fn combine(&mut self, other: &Summary) {
        self.seeds += other.seeds;
        self.add_time(other.simulated_us);
        for (kind, n) in &other.seeds_with {
            *self.seeds_with.entry(kind.clone()).or_insert(0) += n;
        }
    }

    fn add_time(&mut self, us: u64) {
        self.simulated_us = self.simulated_us.saturating_add(us);
        self.simulated_secs = self.simulated_us as f64 / 1e6;
    }
}

/// Where an exploration stands after each seed; returning `false` stops it
/// (a time budget). Called on the caller's thread, in seed order, whatever
/// the number of workers.
pub trait Progress {
    /// Seed `seed` (the `done`-th of this shard) finished.
    fn seed_done(&mut self, done: u64, seed: u64) -> bool;
}

/// How an exploration runs. None of this changes what a seed does;
/// `keep_going` changes which seeds the summary covers.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Worker threads, each with its own runtime running whole seeds.
    pub jobs: NonZeroUsize,
    /// Run every seed even after a finding (the finding is still the
    /// lowest failing seed), so that the summary covers the whole range:
    /// what makes the merged shards of a failing variant add up to the
    /// unsharded run.
    pub keep_going: bool,
    /// Hash every seed's trace into a [`TraceDigest`] (costs about as much
    /// as rendering the trace, so only when asked).
    pub digest: bool,
}

impl Default for Options {
    /// One worker, stop at the first finding, no digest: what `explore`
    /// always did.
    fn default() -> Self {
        Options {
            jobs: NonZeroUsize::MIN,
            keep_going: false,
            digest: false,
        }
    }
}

/// What an exploration found.
#[derive(Clone, Debug)]
pub struct Explored {
    /// Counters over the seeds covered: every seed of the shard, or, when
    /// a finding or the budget stopped the run, every seed of the shard up
    /// to and including the one it stopped at.
    pub summary: Summary,
    /// The lowest seed (by position in the run) with a matching violation.
    pub finding: Option<Finding>,
    /// The digest of the covered seeds' traces, when asked for.
    pub digest: Option<TraceDigest>,
    /// True when every seed of the shard ran (no finding or budget stopped
    /// it first).
    pub complete: bool,
}

/// Consecutive seeds a worker claims at a time: a one-pass seed takes tens
/// of microseconds, so this keeps claims and messages negligible.
const CHUNK: u64 = 16;

/// One seed's result, as it travels from its worker.
struct SeedRun {
    seed: u64,
    sim_time: Duration,
    kinds: Vec<Kind>,
    hash: Option<u64>,
    /// A violation matched `--find`.
    matched: bool,
    /// Built only for the lowest matching seed a worker knows of.
    finding: Option<Finding>,
}

/// Explores `plan` on one thread; stops at the first matching violation,
/// when the seeds run out, or when `progress` says so.
pub fn explore(plan: &Plan, progress: &mut dyn Progress) -> (Summary, Option<Finding>) {
    let explored = explore_with(plan, Options::default(), progress);
    (explored.summary, explored.finding)
}

/// Explores `plan` on `options.jobs` workers. Seeds are taken in order of
/// their position in the run whatever the number of workers, so the
/// summary, the digest and the finding are the same for every `jobs`: the
/// finding is the lowest failing position, and without `keep_going` the
/// summary covers exactly the positions up to it (workers start no seed
/// above the lowest failing one known, and results above it are dropped).
pub fn explore_with(plan: &Plan, options: Options, progress: &mut dyn Progress) -> Explored {
    let shard = plan.shard;
    let items = plan.seeds.map(|n| shard.seeds_of(n));
    // The lowest failing item seen by any worker: only a seed at or below
    // it builds the finding's text (with `keep_going`, most seeds of a
    // failing variant may fail).
    let lowest_failing = AtomicU64::new(u64::MAX);
    let work = |rt: &mut Runtime, k: u64| -> (SeedRun, Flow) {
        let position = shard.index.wrapping_add(k.wrapping_mul(shard.count));
        let seed = plan.start_seed.wrapping_add(position);
        let swarm = Swarm::from_seed(seed, plan.overrides);
        let hash = options
            .digest
            .then(|| Rc::new(RefCell::new(Hashing::default())));
        let observers: Vec<Box<dyn Observer>> = hash
            .iter()
            .map(|h| Box::new(Rc::clone(h)) as Box<dyn Observer>)
            .collect();
        let Outcome {
            trace,
            violations,
            sim_time,
        } = run_seed_with(rt, plan.variant, &swarm, Keep::Tail(TAIL), observers);
        let mut kinds: Vec<Kind> = violations.iter().map(Violation::kind).collect();
        kinds.sort();
        kinds.dedup();
        let matching = violations.iter().position(|v| plan.find.matches(v));
        let finding = matching
            .filter(|_| lowest_failing.fetch_min(k, SeqCst) >= k)
            .map(|i| Finding {
                seed,
                violation: violations[i].clone(),
                all: violations.clone(),
                tail: trace.tail(TAIL),
            });
        let flow = if matching.is_some() && !options.keep_going {
            Flow::Last
        } else {
            Flow::Go
        };
        let run = SeedRun {
            seed,
            sim_time,
            kinds,
            hash: hash.map(|h| h.borrow().0.value()),
            matched: matching.is_some(),
            finding,
        };
        (run, flow)
    };
    let mut explored = Explored {
        summary: Summary::default(),
        finding: None,
        digest: options.digest.then(TraceDigest::default),
        complete: false,
    };
    let mut budget_left = true;
    parallel::ordered(
        Workers {
            jobs: options.jobs,
            chunk: CHUNK,
        },
        items,
        sim_runtime,
        work,
        |_, run: SeedRun| {
            explored.summary.add_seed(run.sim_time, &run.kinds);
            if let (Some(d), Some(h)) = (&mut explored.digest, run.hash) {
                d.add(run.seed, h);
            }
            let stops = run.matched && !options.keep_going;
            if explored.finding.is_none() {
                explored.finding = run.finding;
            }
            if stops {
                return false;
            }
            budget_left = progress.seed_done(explored.summary.seeds, run.seed);
            budget_left
        },
    );
    let stopped = !budget_left || (explored.finding.is_some() && !options.keep_going);
    explored.complete = !stopped && items.is_some_and(|n| explored.summary.seeds == n);
    explored
}

/// The trace lines a failure report shows, and so all an exploring run
/// keeps of its trace.
pub const TAIL: usize = 25;

/// Hashes a trace's lines as they are written.
#[derive(Default)]
struct Hashing(LineHash);

impl Observer for Hashing {
    fn observe(&mut self, entry: &Entry) {
        self.0.add(entry);
    }
}

/// The command that reproduces a seed.
pub fn replay_command(seed: u64, variant: Variant, overrides: Overrides) -> String {
    let mut cmd = format!("cargo run -p sim --release -- replay --seed {seed} --variant {variant}");
    if let Some(p) = overrides.passes {
        cmd.push_str(&format!(" --passes {p}"));
    }
    if overrides.platform != crate::world::PlatformMode::AsMerged {
        cmd.push_str(&format!(" --platform {}", overrides.platform.as_str()));
    }
    if overrides.net != crate::net::Net::InProcess {
        cmd.push_str(&format!(" --net {}", overrides.net));
    }
    cmd
}

/// The command that writes a seed's picture: the replay, with `--html`.
pub fn picture_command(seed: u64, variant: Variant, overrides: Overrides) -> String {
    format!(
        "{} --html seed-{seed}-{variant}.html",
        replay_command(seed, variant, overrides)
    )
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seeds run        {}", self.seeds)?;
        writeln!(f, "simulated time   {}", human_secs(self.simulated_secs))?;
        writeln!(f, "seeds with violations, by kind:")?;
        for (kind, n) in &self.seeds_with {
            writeln!(f, "  {kind:<18} {n}")?;
        }
        Ok(())
    }
}

fn human_secs(s: f64) -> String {
    let d = Duration::from_secs_f64(s);
    let h = d.as_secs() / 3600;
    let m = (d.as_secs() % 3600) / 60;
    format!("{h}h {m:02}m {:02}s ({s:.0} s)", d.as_secs() % 60)
}
