//! Figure 3: time to first violation — for every bug `explore` finds in the
//! reference variants, the wall time `explore --find` takes to report it,
//! over independent seed ranges.

use std::fmt;
use std::time::Duration;

use reconciler_core::Variant;

use super::{Stopwatch, human, thousands, verdict};
use crate::explore::{Find, Plan, Progress, Shard, explore};

/// The target: every known bug within a second, median.
const TARGET: Duration = Duration::from_secs(1);

/// Seed ranges start this far apart, so no two hunts share a seed.
pub const RANGE_SPACING: u64 = 1_000_000;

/// A bug `explore` finds by itself, as `--variant V --find LABEL` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bug {
    /// The variant that has it.
    pub variant: Variant,
    /// The `--find` label.
    pub find: &'static str,
}

/// The README's table of what `explore` finds.
pub const KNOWN: [Bug; 7] = [
    Bug {
        variant: Variant::Legacy,
        find: "unproven_flip/instance_cleared",
    },
    Bug {
        variant: Variant::Legacy,
        find: "unproven_flip/row_gone",
    },
    Bug {
        variant: Variant::Legacy,
        find: "missed_dead/degraded_row",
    },
    Bug {
        variant: Variant::Legacy,
        find: "cycle_overrun",
    },
    Bug {
        variant: Variant::Pr2283,
        find: "unproven_flip/changed_after_reconfirm",
    },
    Bug {
        variant: Variant::Pr2283,
        find: "unproven_flip/non_terminal_answer",
    },
    Bug {
        variant: Variant::Pr2283,
        find: "missed_dead",
    },
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
/// --start-seed S` does, until found or `cap`.
pub fn hunt(bug: Bug, start_seed: u64, cap: Duration) -> Hunt {
    let plan = Plan {
        variant: bug.variant,
        start_seed,
        seeds: None,
        shard: Shard::ALL,
        passes: None,
        find: Find(Some(bug.find.to_owned())),
    };
    let mut progress = Cap {
        clock: Stopwatch::start(),
        cap,
    };
    let (summary, finding) = explore(&plan, &mut progress);
    Hunt {
        wall: progress.clock.elapsed(),
        seeds: summary.seeds,
        found: finding.is_some(),
    }
}

/// Hunts every known bug over `ranges` seed ranges.
pub fn figure(ranges: u64, cap: Duration) -> TimeToBug {
    eprintln!(
        "[3/5] time to first violation: {} bugs x {ranges} seed ranges",
        KNOWN.len()
    );
    let bugs = KNOWN
        .iter()
        .map(|&bug| {
            let hunts: Vec<Hunt> = (0..ranges)
                .map(|r| hunt(bug, r * RANGE_SPACING, cap))
                .collect();
            let b = BugHunts { bug, hunts };
            eprintln!(
                "      {} {}: median {}, max {}",
                bug.variant,
                bug.find,
                human(b.median()),
                human(b.max())
            );
            b
        })
        .collect();
    TimeToBug { bugs, ranges, cap }
}

impl fmt::Display for TimeToBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n3. time to first violation")?;
        writeln!(
            f,
            "   `sim explore --variant V --find BUG --start-seed S`, S = 0, {}, … ({} ranges, cap {} each); wall time of the whole call",
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
                b.bug.find,
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
