//! Figure 2: exploration throughput — one-pass seeds per second on one
//! core and on all of them, exactly as `sim explore --platform hardened --passes 1 --jobs N`
//! runs them, and the speed-up.
//!
//! The two are measured side by side: the seed range is cut into rounds,
//! and each round runs first on one worker, then on all, over the same
//! seeds. A machine whose load changes during the run then weighs on both
//! figures alike, which is what the speed-up needs.

use std::fmt;
use std::num::NonZeroUsize;
use std::time::Duration;

use reconciler_core::Variant;

use super::{Stopwatch, human, thousands, verdict};
use crate::explore::{Find, Options, Plan, Progress, Shard, explore_with};
use crate::net::Net;
use crate::world::PlatformMode;

/// The one-core target, in seeds per second.
const TARGET: f64 = 20_000.0;

/// The parallel target: this fraction of a perfect speed-up per worker
/// (1.8x with 2 workers on 2 cores).
const EFFICIENCY_TARGET: f64 = 0.9;

/// Rounds the seed range is cut into.
const ROUNDS: u64 = 4;

/// One configuration's totals over every round.
#[derive(Clone, Copy, Debug, Default)]
struct Totals {
    seeds: u64,
    wall: Duration,
    /// On-CPU time of the whole process (every worker), where the kernel
    /// tells.
    cpu: Option<Duration>,
    simulated_secs: f64,
}

impl Totals {
    fn rate(&self) -> f64 {
        self.seeds as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    fn cpu_rate(&self) -> Option<f64> {
        self.cpu
            .map(|c| self.seeds as f64 / c.as_secs_f64().max(1e-9))
    }
}

/// The measured explorations.
pub struct Throughput {
    jobs: NonZeroUsize,
    cores: usize,
    seeds: u64,
    one: Totals,
    all: Totals,
    /// Whole swarm seeds on one worker in each network mode, in-process
    /// first.
    modes: [Totals; 2],
}

/// Whole (multi-pass) seeds of each network mode's side-by-side figure.
const MODE_SEEDS: u64 = 40;

/// Reports every 10,000 seeds of a round on stderr.
struct Ticker;

impl Progress for Ticker {
    fn seed_done(&mut self, done: u64, _seed: u64) -> bool {
        if done.is_multiple_of(10_000) {
            eprintln!("      {} seeds", thousands(done));
        }
        true
    }
}

/// Explores `seeds` one-pass seeds of `hardened` (the default variant)
/// from seed 0 once on one worker and once on `jobs`, in alternating
/// rounds.
pub fn figure(seeds: u64, jobs: NonZeroUsize) -> Throughput {
    eprintln!(
        "[2/5] throughput: {} one-pass seeds of hardened, with --jobs 1 and --jobs {jobs} in turn",
        thousands(seeds)
    );
    let mut one = Totals::default();
    let mut all = Totals::default();
    let per_round = seeds.div_ceil(ROUNDS);
    for round in 0..ROUNDS {
        let start = round * per_round;
        let n = per_round.min(seeds.saturating_sub(start));
        if n == 0 {
            break;
        }
        let plan = Plan {
            variant: Variant::Hardened,
            start_seed: start,
            seeds: Some(n),
            shard: Shard::ALL,
            // The README's main command: on the merged platform hardened's
            // restarts meet the platform's own races within a few seeds,
            // and explore would stop there instead of measuring.
            overrides: crate::director::Overrides {
                passes: Some(1),
                platform: PlatformMode::Hardened,
                ..Default::default()
            },
            find: Find::default(),
        };
        for (totals, j) in [(&mut one, NonZeroUsize::MIN), (&mut all, jobs)] {
            eprintln!(
                "      round {}/{ROUNDS}, --jobs {j}: seeds {}..{}",
                round + 1,
                thousands(start),
                thousands(start + n)
            );
            let options = Options {
                jobs: j,
                ..Options::default()
            };
            let clock = Stopwatch::start();
            let cpu_before = process_cpu();
            let explored = explore_with(&plan, options, &mut Ticker);
            totals.wall += clock.elapsed();
            let spent = cpu_before
                .zip(process_cpu())
                .map(|(before, after)| after.saturating_sub(before));
            totals.cpu = if round == 0 {
                spent
            } else {
                totals.cpu.zip(spent).map(|(t, s)| t + s)
            };
            totals.seeds += explored.summary.seeds;
            totals.simulated_secs += explored.summary.simulated_secs;
        }
    }
    Throughput {
        jobs,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        seeds,
        one,
        all,
        modes: Net::ALL.map(mode),
    }
}

/// [`MODE_SEEDS`] whole seeds of `hardened` on the hardened platform in
/// network mode `net`, on one worker.
fn mode(net: Net) -> Totals {
    eprintln!("      {MODE_SEEDS} whole seeds of hardened, --net {net}, --jobs 1");
    let plan = Plan {
        variant: Variant::Hardened,
        start_seed: 0,
        seeds: Some(MODE_SEEDS),
        shard: Shard::ALL,
        overrides: crate::director::Overrides {
            platform: PlatformMode::Hardened,
            net,
            ..Default::default()
        },
        find: Find::default(),
    };
    let options = Options {
        jobs: NonZeroUsize::MIN,
        ..Options::default()
    };
    let clock = Stopwatch::start();
    let explored = explore_with(&plan, options, &mut Ticker);
    Totals {
        seeds: explored.summary.seeds,
        wall: clock.elapsed(),
        cpu: None,
        simulated_secs: explored.summary.simulated_secs,
    }
}

/// On-CPU time of this process so far, every thread included (also those
/// that have ended): `utime + stime` of `/proc/self/stat`, in clock ticks
/// of 10 ms.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after it are plain.
    let after = stat.rsplit_once(')')?.1;
    let mut fields = after.split_whitespace();
    // utime and stime are fields 14 and 15 of the line, 12th and 13th after
    // the name.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

impl fmt::Display for Throughput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jobs = self.jobs.get();
        writeln!(
            f,
            "\n2. exploration throughput (one core, and {jobs} workers)"
        )?;
        writeln!(
            f,
            "   `sim explore --platform hardened --passes 1` (hardened, seeds 0..{}) with --jobs 1 and --jobs {jobs} side by side ({ROUNDS} rounds, each over the same seeds with both), {} cores",
            thousands(self.seeds),
            self.cores
        )?;
        for (label, t) in [
            ("--jobs 1", &self.one),
            (&*format!("--jobs {jobs}"), &self.all),
        ] {
            write!(
                f,
                "   {label:<9} {} seeds in {}: {} seeds/s",
                thousands(t.seeds),
                human(t.wall),
                thousands(t.rate() as u64)
            )?;
            if let (Some(cpu), Some(rate)) = (t.cpu, t.cpu_rate()) {
                write!(
                    f,
                    "; on-CPU {} (every thread): {} seeds per CPU-second",
                    human(cpu),
                    thousands(rate as u64)
                )?;
            }
            writeln!(
                f,
                " ({} simulated seconds)",
                thousands(t.simulated_secs as u64)
            )?;
        }
        let speedup = self.all.rate() / self.one.rate().max(1e-9);
        write!(
            f,
            "   speed-up with {jobs} workers: {speedup:.2}x, {} seeds/s per worker",
            thousands((self.all.rate() / jobs as f64) as u64)
        )?;
        if let (Some(a), Some(b)) = (self.all.cpu_rate(), self.one.cpu_rate()) {
            write!(
                f,
                " (per CPU-second, {jobs} workers do {:.0} % of the work of one)",
                100.0 * a / b.max(1e-9)
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "   target >= 20,000 one-pass seeds/s on one core: {}",
            verdict(self.one.rate() >= TARGET)
        )?;
        let [local, net] = &self.modes;
        writeln!(
            f,
            "   network modes, {MODE_SEEDS} whole seeds of hardened (hardened platform), --jobs 1: in-process {} seeds/s, turmoil {:.2} seeds/s ({:.0}x slower; {} and {} simulated seconds)",
            thousands(local.rate() as u64),
            net.rate(),
            local.rate() / net.rate().max(1e-9),
            thousands(local.simulated_secs as u64),
            thousands(net.simulated_secs as u64)
        )?;
        let workers = jobs.min(self.cores);
        let wanted = EFFICIENCY_TARGET * workers as f64;
        if workers > 1 {
            writeln!(
                f,
                "   target >= {wanted:.1}x with {workers} workers on {} cores ({EFFICIENCY_TARGET}x per core): {}",
                self.cores,
                verdict(speedup >= wanted)
            )
        } else {
            writeln!(
                f,
                "   target for the speed-up: none with one worker or one core"
            )
        }
    }
}
