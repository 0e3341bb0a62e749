//! `sim bench`: the figures that say whether the harness is worth running —
//! how much simulated time a wall second buys, how many seeds a core
//! explores and how much all cores add, how fast each known bug is found, how that compares with a
//! real-time stress test of the same code, and how much memory exploring
//! takes.
//!
//! Everything here reads the wall clock, but only to measure: no wall time
//! ever reaches a simulated run. The one exception by design is the
//! real-time baseline ([`baseline`]), whose whole point is to run the same
//! reconciler, world and oracle on a clock that is *not* paused.

mod baseline;
mod compression;
mod memory;

pub use memory::{MemoryRun, soak_script};
pub use time_to_bug::{Bug, KNOWN};
mod throughput;
mod time_to_bug;

use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::str::FromStr;
use std::time::Duration;

use crate::exit::Exit;
use crate::limits::{
    MAX_BENCH_CAP_SECS, MAX_BENCH_DAY_PASSES, MAX_BENCH_RANGES, MAX_PASSES, MAX_SEEDS, thousands,
};

/// One of the five figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    /// Simulated time per wall second over a simulated day.
    Compression,
    /// One-pass seeds per second on one core and on all, and the speed-up.
    Throughput,
    /// Wall time to the first violation, per known bug.
    TimeToBug,
    /// The same hunt in real time.
    Baseline,
    /// Peak memory of `explore`.
    Memory,
}

impl Figure {
    /// Every figure, in report order.
    pub const ALL: [Figure; 5] = [
        Figure::Compression,
        Figure::Throughput,
        Figure::TimeToBug,
        Figure::Baseline,
        Figure::Memory,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Figure::Compression => "compression",
            Figure::Throughput => "throughput",
            Figure::TimeToBug => "time-to-bug",
            Figure::Baseline => "baseline",
            Figure::Memory => "memory",
        }
    }
}

impl FromStr for Figure {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Figure::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Figure::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown figure {s:?}: expected one of {}", names.join(", "))
            })
    }
}

/// What `sim bench` measures and with what budgets: a plain struct, so the
/// library takes options from any driver (the CLI parses them with clap in
/// `main.rs`). The defaults produce the figures the benchmark issue asks
/// for; the budgets exist to take a quicker look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchOptions {
    /// Only these figures (empty: all). The baseline needs time-to-bug for
    /// its ratios; without it the ratios are left out.
    pub only: Vec<Figure>,
    /// Simulated passes of the compression run (1,440 = 24 h of 60 s
    /// passes), at most [`MAX_BENCH_DAY_PASSES`].
    pub day_passes: u64,
    /// One-pass seeds of the throughput run (run once on one worker and
    /// once on `jobs`), at most [`MAX_SEEDS`].
    pub throughput_seeds: u64,
    /// Workers of the parallel throughput run, the time-to-bug hunts and
    /// the memory run, as `sim explore --jobs` (`None`: the available
    /// cores, as `explore` defaults to).
    pub jobs: Option<NonZeroUsize>,
    /// Independent seed ranges per known bug for the time to first
    /// violation, at most [`MAX_BENCH_RANGES`].
    pub ranges: u64,
    /// Wall-clock cap of one seed range's hunt, in seconds, at most
    /// [`MAX_BENCH_CAP_SECS`].
    pub hunt_cap: u64,
    /// Wall-clock cap of the real-time baseline per bug, in seconds (each
    /// variant's bugs are hunted by one run that stops when all are found
    /// or the cap passes), at most [`MAX_BENCH_CAP_SECS`].
    pub baseline_cap: u64,
    /// Seeds the memory run explores (the `explore` default), at most
    /// [`MAX_SEEDS`].
    pub memory_seeds: u64,
    /// Passes of the memory figure's long runs (10,080 = a week of 60 s
    /// passes; the day is `day_passes`), at most [`MAX_PASSES`].
    pub week_passes: u64,
    /// Run as a child process of the memory figure (internal).
    pub memory_child: Option<MemoryRun>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            only: Vec::new(),
            day_passes: 1_440,
            throughput_seeds: 100_000,
            jobs: None,
            ranges: 20,
            hunt_cap: 60,
            baseline_cap: 60,
            memory_seeds: 10_000,
            week_passes: 10_080,
            memory_child: None,
        }
    }
}

impl BenchOptions {
    /// Refuses a count past its maximum (or zero) before anything is
    /// measured, naming the option and the maximum.
    pub fn check(&self) -> Result<(), String> {
        for (name, value, max) in [
            ("day-passes", self.day_passes, MAX_BENCH_DAY_PASSES),
            ("throughput-seeds", self.throughput_seeds, MAX_SEEDS),
            ("ranges", self.ranges, MAX_BENCH_RANGES),
            ("hunt-cap", self.hunt_cap, MAX_BENCH_CAP_SECS),
            ("baseline-cap", self.baseline_cap, MAX_BENCH_CAP_SECS),
            ("memory-seeds", self.memory_seeds, MAX_SEEDS),
            ("week-passes", self.week_passes, MAX_PASSES),
        ] {
            if value == 0 || value > max {
                return Err(format!(
                    "--{name} {}: expected 1 to {}",
                    thousands(value),
                    thousands(max)
                ));
            }
        }
        Ok(())
    }
}

/// Runs `sim bench`: progress on stderr, the report on stdout.
pub fn main(opts: &BenchOptions) -> Exit {
    if let Err(e) = opts.check() {
        eprintln!("{e}");
        return Exit::BadInput;
    }
    let jobs = opts.jobs.unwrap_or_else(crate::parallel::available_jobs);
    if let Some(run) = opts.memory_child {
        return memory::child(run, opts.memory_seeds, jobs);
    }
    let wanted = |f: Figure| opts.only.is_empty() || opts.only.contains(&f);
    let mut report = String::new();
    let _ = writeln!(report, "sim bench on {}", machine());
    if wanted(Figure::Compression) {
        report.push_str(&compression::figure(opts.day_passes).to_string());
    }
    if wanted(Figure::Throughput) {
        report.push_str(&throughput::figure(opts.throughput_seeds, jobs).to_string());
    }
    let hunts = wanted(Figure::TimeToBug)
        .then(|| time_to_bug::figure(opts.ranges, Duration::from_secs(opts.hunt_cap), jobs));
    if let Some(h) = &hunts {
        report.push_str(&h.to_string());
    }
    if wanted(Figure::Baseline) {
        let base = baseline::figure(Duration::from_secs(opts.baseline_cap));
        report.push_str(&base.render(hunts.as_ref()));
    }
    if wanted(Figure::Memory) {
        match memory::figure(opts.memory_seeds, jobs, opts.day_passes, opts.week_passes) {
            Ok(m) => report.push_str(&m.to_string()),
            Err(e) => {
                eprintln!("memory figure failed: {e}");
                return Exit::BadInput;
            }
        }
    }
    print!("{report}");
    Exit::Clean
}

/// The machine, as the report's first line describes it.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned());
    let build = if cfg!(debug_assertions) {
        "debug build (figures are not representative)"
    } else {
        "release build"
    };
    format!("{cpu}, {cores} cores, load average {load} at start; {build}")
}

/// The wall clock, for measuring only.
#[allow(
    clippy::disallowed_methods,
    reason = "the benchmark measures wall time; it never reaches a simulated trace"
)]
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}

/// A stopwatch started now: wall time, and the time this thread spent on
/// a CPU (the machine may be shared; on-CPU time is what the run itself
/// cost).
struct Stopwatch {
    wall: std::time::Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            wall: wall_now(),
            cpu: thread_cpu(),
        }
    }

    fn elapsed(&self) -> Duration {
        self.wall.elapsed()
    }

    /// On-CPU time of this thread since the start, where the kernel tells.
    fn cpu_elapsed(&self) -> Option<Duration> {
        Some(thread_cpu()?.saturating_sub(self.cpu?))
    }
}

/// This thread's time on a CPU so far (`/proc/thread-self/schedstat`, first
/// field, in nanoseconds).
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// `met` or `MISSED`, for the target column.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// A wall duration in the unit that reads best.
fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}
