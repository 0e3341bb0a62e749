//! Exploration: many seeds, one verdict.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use indexmap::IndexMap;
use reconciler_core::Variant;
use serde::Serialize;

use crate::director::Swarm;
use crate::oracle::{Kind, Violation};
use crate::run::{Outcome, run_seed, sim_runtime};
use crate::trace::Trace;

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

    /// True when the seed at position `i` of the run belongs to this shard.
    pub fn owns(self, i: u64) -> bool {
        i % self.count == self.index
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
        Ok(Shard { index, count })
    }
}

/// Which violations end an exploration: any, or only those whose label
/// (`kind/sub`) starts with this text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Find(pub Option<String>);

impl Find {
    /// True when `v` is what we are looking for.
    pub fn matches(&self, v: &Violation) -> bool {
        self.0
            .as_ref()
            .is_none_or(|f| v.label().starts_with(f.as_str()))
    }
}

impl FromStr for Find {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let kind = s.split('/').next().unwrap_or_default();
        if Kind::parse(kind).is_none() {
            let names: Vec<_> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(format!(
                "unknown violation kind {kind:?}: expected one of {}",
                names.join(", ")
            ));
        }
        Ok(Find(Some(s.to_owned())))
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
    /// Forces the number of passes (the one-pass benchmark).
    pub passes: Option<u64>,
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

/// Counters of an exploration.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Simulated time covered, in seconds.
    pub simulated_secs: f64,
    /// Seeds showing each violation kind (including kinds that did not stop
    /// the run).
    pub seeds_with: IndexMap<String, u64>,
}

/// Where an exploration stands after each seed; returning `false` stops it
/// (a time budget).
pub trait Progress {
    /// Seed `seed` (the `done`-th of this shard) finished.
    fn seed_done(&mut self, done: u64, seed: u64) -> bool;

    /// Seed `seed` ran and left `trace` (called before the verdict can stop
    /// the run, so the stopping seed is included). For observers that need
    /// more than a count, such as a determinism digest; ignored by default
    /// because hashing a trace costs about as much as rendering it.
    fn seed_trace(&mut self, _seed: u64, _trace: &Trace) {}
}

/// Explores `plan`; stops at the first matching violation, when the seeds
/// run out, or when `progress` says so.
pub fn explore(plan: &Plan, progress: &mut dyn Progress) -> (Summary, Option<Finding>) {
    let rt = sim_runtime();
    let mut summary = Summary::default();
    for kind in Kind::ALL {
        summary.seeds_with.insert(kind.as_str().to_owned(), 0);
    }
    let mut i: u64 = 0;
    loop {
        if plan.seeds.is_some_and(|n| i >= n) {
            break;
        }
        let position = i;
        i += 1;
        if !plan.shard.owns(position) {
            continue;
        }
        let seed = plan.start_seed.wrapping_add(position);
        let swarm = Swarm::from_seed(seed, plan.passes);
        let Outcome {
            trace,
            violations,
            sim_time,
        } = run_seed(&rt, plan.variant, &swarm);
        progress.seed_trace(seed, &trace);
        summary.seeds += 1;
        summary.simulated_secs += sim_time.as_secs_f64();
        let mut kinds: Vec<Kind> = violations.iter().map(|v| v.kind).collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            *summary.seeds_with.entry(k.as_str().to_owned()).or_insert(0) += 1;
        }
        if let Some(v) = violations.iter().find(|v| plan.find.matches(v)) {
            let finding = Finding {
                seed,
                violation: v.clone(),
                all: violations.clone(),
                tail: trace.tail(25),
            };
            return (summary, Some(finding));
        }
        if !progress.seed_done(summary.seeds, seed) {
            break;
        }
    }
    (summary, None)
}

/// The command that reproduces a seed.
pub fn replay_command(seed: u64, variant: Variant, passes: Option<u64>) -> String {
    let mut cmd = format!("cargo run -p sim --release -- replay --seed {seed} --variant {variant}");
    if let Some(p) = passes {
        cmd.push_str(&format!(" --passes {p}"));
    }
    cmd
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
