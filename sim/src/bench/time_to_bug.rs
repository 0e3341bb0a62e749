//! Figure 3: time to first violation — for every bug `explore` finds in the
//! reference variants, the wall time `explore --find` takes to report it,
//! over independent seed ranges.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

use reconciler_core::Variant;

use super::{Stopwatch, human, thousands, verdict};
use crate::explore::{Find, Options, Plan, Progress, Shard, explore_with};
use crate::oracle::{Kind, Label, Sub};

/// The target: every known bug within a second, median.
const TARGET: Duration = Duration::from_secs(1);

/// Seed ranges start this far apart, so no two hunts share a seed.
pub const RANGE_SPACING: u64 = 1_000_000;

/// A bug `explore` finds by itself, as `--variant V --find LABEL` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bug {
    /// The variant that has it.
    pub variant: Variant,
    /// What `--find` looks for: a kind, or a kind and sub-reason.
    pub label: Label,
}

impl Bug {
    const fn new(variant: Variant, kind: Kind, sub: Option<Sub>) -> Self {
        Self {
            variant,
            label: Label { kind, sub },
        }
    }

    /// The `--find` filter for it.
    pub fn find(&self) -> Find {
        Find(Some(self.label))
    }

    /// Its `--find` argument: `kind` or `kind/sub`.
    pub fn name(&self) -> String {
        self.label.to_string()
    }
}

/// The README's table of what `explore` finds, with default settings and
/// no hints, in the reference variants (on the platform as merged).
pub const KNOWN: [Bug; 11] = [
    Bug::new(
        Variant::Legacy,
        Kind::UnprovenFlip,
        Some(Sub::InstanceCleared),
    ),
    Bug::new(Variant::Legacy, Kind::UnprovenFlip, Some(Sub::RowGone)),
    Bug::new(Variant::Legacy, Kind::MissedDead, Some(Sub::DegradedRow)),
    Bug::new(Variant::Legacy, Kind::CycleOverrun, None),
    Bug::new(
        Variant::Legacy,
        Kind::RestartHarm,
        Some(Sub::KilledLiveInstance),
    ),
    Bug::new(Variant::Legacy, Kind::RestartStorm, None),
    Bug::new(
        Variant::Pr2283,
        Kind::UnprovenFlip,
        Some(Sub::ChangedAfterReconfirm),
    ),
    Bug::new(
        Variant::Pr2283,
        Kind::UnprovenFlip,
        Some(Sub::NonTerminalAnswer),
    ),
    Bug::new(Variant::Pr2283, Kind::MissedDead, None),
    Bug::new(
        Variant::Pr2283,
        Kind::RestartHarm,
        Some(Sub::RacingProvisions),
    ),
    Bug::new(Variant::Pr2283, Kind::RestartHarm, Some(Sub::UndidOwner)),
];

/// One hunt: how long, how many seeds, whether it found the bug.
#[derive(Clone, Copy, Debug)]
pub struct Hunt {
    /// Wall time of the `explore` call.
    pub wall: Duration,
    /// Seeds run, the finding one included.
    pub seeds: u64,
    /// False when the cap ran out first.
    pub found: bool,
}

/// Every hunt of one bug.
#[derive(Clone, Debug)]
pub struct BugHunts {
    /// The bug.
    pub bug: Bug,
    /// One hunt per seed range.
    pub hunts: Vec<Hunt>,
}

impl BugHunts {
    /// The median wall time (a hunt that ran out counts as its cap, so a
    /// bug found in fewer than half the ranges has a median at the cap).
    pub fn median(&self) -> Duration {
        let mut w: Vec<Duration> = self.hunts.iter().map(|h| h.wall).collect();
        w.sort();
        median(&w)
    }

    fn max(&self) -> Duration {
        self.hunts.iter().map(|h| h.wall).max().unwrap_or_default()
    }

    fn median_seeds(&self) -> u64 {
        let mut s: Vec<u64> = self.hunts.iter().map(|h| h.seeds).collect();
        s.sort_unstable();
        s.get(s.len() / 2).copied().unwrap_or(0)
    }

    fn found(&self) -> usize {
        self.hunts.iter().filter(|h| h.found).count()
    }
}

fn median(sorted: &[Duration]) -> Duration {
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// Every known bug's hunts.
pub struct TimeToBug {
    /// Per bug, in [`KNOWN`] order.
    pub bugs: Vec<BugHunts>,
    ranges: u64,
    cap: Duration,
    jobs: NonZeroUsize,
}

/// Stops a hunt at its wall-clock cap.
struct Cap {
    clock: Stopwatch,
    cap: Duration,
}

impl Progress for Cap {
    fn seed_done(&mut self, _done: u64, _seed: u64) -> bool {
        self.clock.elapsed() < self.cap
    }
}

/// Hunts `bug` from `start_seed` as `sim explore --variant V --find LABEL
/// --start-seed S --jobs J` does, until found or `cap`.
pub fn hunt(bug: Bug, start_seed: u64, cap: Duration, jobs: NonZeroUsize) -> Hunt {
    let plan = Plan {
        variant: bug.variant,
        start_seed,
        seeds: None,
        shard: Shard::ALL,
        overrides: crate::director::Overrides::default(),
        find: bug.find(),
    };
    let mut progress = Cap {
        clock: Stopwatch::start(),
        cap,
    };
    let options = Options {
        jobs,
        ..Options::default()
    };
    let explored = explore_with(&plan, options, &mut progress);
    Hunt {
        wall: progress.clock.elapsed(),
        seeds: explored.summary.seeds,
        found: explored.finding.is_some(),
    }
}

/// Hunts every known bug over `ranges` seed ranges on `jobs` workers.
pub fn figure(ranges: u64, cap: Duration, jobs: NonZeroUsize) -> TimeToBug {
    eprintln!(
        "[3/5] time to first violation: {} bugs x {ranges} seed ranges",
        KNOWN.len()
    );
    let bugs = KNOWN
        .iter()
        .map(|&bug| {
            let hunts: Vec<Hunt> = (0..ranges)
                .map(|r| hunt(bug, r * RANGE_SPACING, cap, jobs))
                .collect();
            let b = BugHunts { bug, hunts };
            eprintln!(
                "      {} {}: median {}, max {}",
                bug.variant,
                bug.name(),
                human(b.median()),
                human(b.max())
            );
            b
        })
        .collect();
    TimeToBug {
        bugs,
        ranges,
        cap,
        jobs,
    }
}

impl fmt::Display for TimeToBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n3. time to first violation")?;
        writeln!(
            f,
            "   `sim explore --variant V --find BUG --start-seed S --jobs {}`, S = 0, {}, … ({} ranges, cap {} each); wall time of the whole call",
            self.jobs,
            thousands(RANGE_SPACING),
            self.ranges,
            human(self.cap)
        )?;
        writeln!(
            f,
            "   {:<8} {:<40} {:>6} {:>10} {:>10} {:>12}  target <= 1 s median",
            "variant", "bug", "found", "median", "max", "seeds (med)"
        )?;
        let mut all = true;
        for b in &self.bugs {
            let met = b.median() <= TARGET && b.found() * 2 > b.hunts.len();
            all &= met;
            writeln!(
                f,
                "   {:<8} {:<40} {:>6} {:>10} {:>10} {:>12}  {}",
                b.bug.variant.as_str(),
                b.bug.name(),
                format!("{}/{}", b.found(), b.hunts.len()),
                human(b.median()),
                human(b.max()),
                thousands(b.median_seeds()),
                verdict(met)
            )?;
        }
        writeln!(
            f,
            "   target: every known bug found in <= 1 s median: {}",
            verdict(all)
        )
    }
}
