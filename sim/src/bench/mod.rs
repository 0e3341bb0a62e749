//! `sim bench`: the figures that say whether the harness is worth running —
//! how much simulated time a wall second buys, how many seeds a core
//! explores, how fast each known bug is found, how that compares with a
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
mod throughput;
mod time_to_bug;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

/// One of the five figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Figure {
    /// Simulated time per wall second over a simulated day.
    Compression,
    /// One-pass seeds per second on one core.
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

/// The flags of `sim bench`. The defaults produce the figures the
/// benchmark issue asks for; the budgets exist to take a quicker look.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Run only these figures (comma-separated: compression, throughput,
    /// time-to-bug, baseline, memory). The baseline needs time-to-bug for
    /// its ratios; without it the ratios are left out.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<Figure>,
    /// Simulated passes of the compression run (1,440 = 24 h of 60 s
    /// passes).
    #[arg(long, default_value_t = 1_440)]
    pub day_passes: u64,
    /// One-pass seeds of the throughput run.
    #[arg(long, default_value_t = 100_000)]
    pub throughput_seeds: u64,
    /// Independent seed ranges per known bug for the time to first
    /// violation.
    #[arg(long, default_value_t = 20)]
    pub ranges: u64,
    /// Wall-clock cap of one seed range's hunt, in seconds.
    #[arg(long, default_value_t = 60)]
    pub hunt_cap: u64,
    /// Wall-clock cap of the real-time baseline per bug, in seconds (each
    /// variant's bugs are hunted by one run that stops when all are found
    /// or the cap passes).
    #[arg(long, default_value_t = 60)]
    pub baseline_cap: u64,
    /// Seeds the memory run explores (the `explore` default).
    #[arg(long, default_value_t = 10_000)]
    pub memory_seeds: u64,
    /// Internal: run as the child process of the memory figure.
    #[arg(long, hide = true)]
    pub memory_child: bool,
}

/// Runs `sim bench`: progress on stderr, the report on stdout.
pub fn main(args: &BenchArgs) -> ExitCode {
    if args.memory_child {
        return memory::child(args.memory_seeds);
    }
    let wanted = |f: Figure| args.only.is_empty() || args.only.contains(&f);
    let mut report = String::new();
    let _ = writeln!(report, "sim bench on {}", machine());
    if wanted(Figure::Compression) {
        report.push_str(&compression::figure(args.day_passes).to_string());
    }
    if wanted(Figure::Throughput) {
        report.push_str(&throughput::figure(args.throughput_seeds).to_string());
    }
    let hunts = wanted(Figure::TimeToBug)
        .then(|| time_to_bug::figure(args.ranges, Duration::from_secs(args.hunt_cap)));
    if let Some(h) = &hunts {
        report.push_str(&h.to_string());
    }
    if wanted(Figure::Baseline) {
        let base = baseline::figure(Duration::from_secs(args.baseline_cap));
        report.push_str(&base.render(hunts.as_ref()));
    }
    if wanted(Figure::Memory) {
        match memory::figure(args.memory_seeds) {
            Ok(m) => report.push_str(&m.to_string()),
            Err(e) => {
                eprintln!("memory figure failed: {e}");
                return ExitCode::from(2);
            }
        }
    }
    print!("{report}");
    ExitCode::SUCCESS
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

/// A count with thousands separators.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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
