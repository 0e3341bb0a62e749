//! Figure 2: exploration throughput — one-pass seeds per second on one
//! core, exactly as `sim explore --passes 1` runs them.

use std::fmt;
use std::time::Duration;

use reconciler_core::Variant;

use super::{Stopwatch, human, thousands, verdict};
use crate::explore::{Find, Plan, Progress, Shard, explore};

/// The target, in seeds per second.
const TARGET: f64 = 20_000.0;

/// The measured exploration.
pub struct Throughput {
    seeds: u64,
    wall: Duration,
    cpu: Option<Duration>,
    simulated_secs: f64,
}

/// Reports every 10,000 seeds on stderr.
struct Ticker;

impl Progress for Ticker {
    fn seed_done(&mut self, done: u64, _seed: u64) -> bool {
        if done.is_multiple_of(10_000) {
            eprintln!("      {} seeds", thousands(done));
        }
        true
    }
}

/// Explores `seeds` one-pass seeds of `hardened` (the default variant) from
/// seed 0, on this thread.
pub fn figure(seeds: u64) -> Throughput {
    eprintln!(
        "[2/5] throughput: {} one-pass seeds of hardened",
        thousands(seeds)
    );
    let plan = Plan {
        variant: Variant::Hardened,
        start_seed: 0,
        seeds: Some(seeds),
        shard: Shard::ALL,
        passes: Some(1),
        find: Find::default(),
    };
    let clock = Stopwatch::start();
    let (summary, _) = explore(&plan, &mut Ticker);
    Throughput {
        seeds: summary.seeds,
        wall: clock.elapsed(),
        cpu: clock.cpu_elapsed(),
        simulated_secs: summary.simulated_secs,
    }
}

impl fmt::Display for Throughput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.seeds as f64 / self.wall.as_secs_f64().max(1e-9);
        writeln!(f, "\n2. exploration throughput (one core)")?;
        writeln!(
            f,
            "   `sim explore --passes 1` (hardened, seeds 0..{}): {} seeds in {}: {} seeds/s ({} simulated seconds)",
            thousands(self.seeds),
            thousands(self.seeds),
            human(self.wall),
            thousands(rate as u64),
            thousands(self.simulated_secs as u64)
        )?;
        if let Some(cpu) = self.cpu {
            writeln!(
                f,
                "   on-CPU time {}: {} seeds/s (time this thread ran, without the time it waited for a CPU)",
                human(cpu),
                thousands((self.seeds as f64 / cpu.as_secs_f64().max(1e-9)) as u64)
            )?;
        }
        writeln!(
            f,
            "   target >= 20,000 one-pass seeds/s: {}",
            verdict(rate >= TARGET)
        )
    }
}
