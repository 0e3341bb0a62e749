//! Figure 5: peak memory of `explore`, and of one long run.
//!
//! Each figure is measured in a child process (this binary, re-run as `sim
//! bench --memory-child RUN`) that does nothing but that run and then
//! reports its own high-water resident set (`VmHWM` in
//! `/proc/self/status`). A child, so the figure is not inflated by what the
//! other figures allocated in this process. The runs:
//!
//! - `explore`: the default exploration — 10,000 seeds of `hardened`,
//!   passes drawn per seed, on as many workers as `sim explore` uses by
//!   default (each worker holds a runtime and the seed it runs);
//! - `swarm:N`: the fixed 200-row day of the compression figure (every
//!   actor that strikes rows, throughout) run for N passes — a simulated
//!   day and a simulated week;
//! - `scenario:N`: a 200-row scenario file with `passes: N`, as `sim run`
//!   runs it (no `--trace`): the path a user's week-long soak takes.
//!
//! A run's memory must depend on its fleet, not on how long it runs: the
//! oracle judges as the trace goes and nothing keeps the trace, so the week
//! peaks where the day does.

use std::fmt::{self, Write as _};
use std::num::NonZeroUsize;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use reconciler_core::Variant;

use super::compression::{day, run_counted};
use super::{Stopwatch, human, thousands};
use crate::exit::Exit;
use crate::explore::{Find, Options, Plan, Progress, Shard, explore_with};
use crate::run::sim_runtime;
use crate::scenario::{load_str, run_script_keeping};
use crate::trace::Keep;

/// What a memory child runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryRun {
    /// The default exploration.
    Explore,
    /// The fixed 200-row swarm day, for this many passes.
    Swarm(u64),
    /// A 200-row scenario with this many passes.
    Scenario(u64),
}

impl fmt::Display for MemoryRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryRun::Explore => f.write_str("explore"),
            MemoryRun::Swarm(p) => write!(f, "swarm:{p}"),
            MemoryRun::Scenario(p) => write!(f, "scenario:{p}"),
        }
    }
}

impl FromStr for MemoryRun {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let passes = |p: &str| {
            p.parse::<u64>()
                .map_err(|_| format!("{s:?}: expected a number of passes after the colon"))
        };
        match s.split_once(':') {
            None if s == "explore" => Ok(MemoryRun::Explore),
            Some(("swarm", p)) => Ok(MemoryRun::Swarm(passes(p)?)),
            Some(("scenario", p)) => Ok(MemoryRun::Scenario(passes(p)?)),
            _ => Err(format!(
                "unknown memory run {s:?}: expected explore, swarm:PASSES or scenario:PASSES"
            )),
        }
    }
}

/// What one child reports.
struct Child {
    run: MemoryRun,
    /// Seeds explored, or simulated seconds of a long run.
    work: u64,
    peak_kib: u64,
    wall: std::time::Duration,
}

/// The figure: every child's report.
pub struct Memory {
    jobs: NonZeroUsize,
    children: Vec<Child>,
    bench_peak_kib: Option<u64>,
}

/// A line of `/proc/self/status` in KiB (`VmHWM`, `VmRSS`, …).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

struct Quiet;

impl Progress for Quiet {
    fn seed_done(&mut self, _done: u64, _seed: u64) -> bool {
        true
    }
}

/// The 200-row scenario of a long `sim run`: a fleet in every state the
/// reconciler meets (most running, some dead that it flips and the platform
/// reprovisions, some stopped, booting or degraded), for `passes` passes.
/// `hardened` flips each dead row once, in the first pass; the restarts
/// bring them back and nothing else is dead.
pub fn soak_script(passes: u64) -> String {
    let mut text = format!(
        "name: soak\nabout: 200 workspaces for {passes} passes.\nvariants: [hardened]\n\
         passes: {passes}\nfleet:\n"
    );
    for i in 1..=200 {
        let (status, state) = match i % 10 {
            0 => ("online", "terminated"),
            1 => ("degraded", "running"),
            2 => ("online", "stopped"),
            3 => ("online", "pending"),
            _ => ("online", "running"),
        };
        let _ = writeln!(
            text,
            "  - {{ id: ws-{i:03}, status: {status}, instance: i-{i:03}, state: {state}, updated_at: -1h }}"
        );
    }
    let dead: Vec<String> = (1..=20).map(|k| format!("ws-{:03}", k * 10)).collect();
    let _ = writeln!(
        text,
        "expect:\n  hardened: {{ flips: [{}], violations: [] }}",
        dead.join(", ")
    );
    text
}

/// The child: does `run` (exploring on `jobs` workers) and prints `work
/// peak_kib`.
pub fn child(run: MemoryRun, seeds: u64, jobs: NonZeroUsize) -> Exit {
    let work = match run {
        MemoryRun::Explore => {
            let plan = Plan {
                variant: Variant::Hardened,
                start_seed: 0,
                seeds: Some(seeds),
                shard: Shard::ALL,
                // The README's main command (on the merged platform it
                // would stop at the platform's own races within a few seeds).
                overrides: crate::director::Overrides {
                    platform: crate::world::PlatformMode::Hardened,
                    ..Default::default()
                },
                find: Find::default(),
            };
            let options = Options {
                jobs,
                ..Options::default()
            };
            explore_with(&plan, options, &mut Quiet).summary.seeds
        }
        MemoryRun::Swarm(passes) => run_counted(&day(passes)).0.sim_time.as_secs(),
        MemoryRun::Scenario(passes) => {
            let script = match load_str(Path::new("soak.yaml"), &soak_script(passes)) {
                Ok(s) => s,
                Err(errors) => {
                    for e in errors {
                        eprintln!("{e}");
                    }
                    return Exit::BadInput;
                }
            };
            let run = run_script_keeping(&sim_runtime(), &script, Variant::Hardened, Keep::Tail(0));
            run.outcome.sim_time.as_secs()
        }
    };
    match status_kib("VmHWM") {
        Some(kib) => {
            println!("{work} {kib}");
            Exit::Clean
        }
        None => {
            eprintln!("/proc/self/status has no VmHWM line: cannot measure peak memory here");
            Exit::BadInput
        }
    }
}

/// Runs one child and reads its report.
fn measure(run: MemoryRun, seeds: u64, jobs: NonZeroUsize) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let clock = Stopwatch::start();
    let out = Command::new(exe)
        .args([
            "bench",
            "--memory-child",
            &run.to_string(),
            "--memory-seeds",
            &seeds.to_string(),
            "--jobs",
            &jobs.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot run the child: {e}"))?;
    let wall = clock.elapsed();
    if !out.status.success() {
        return Err(format!(
            "the {run} child failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    match (fields.next(), fields.next()) {
        (Some(Ok(work)), Some(Ok(peak_kib))) => Ok(Child {
            run,
            work,
            peak_kib,
            wall,
        }),
        _ => Err(format!("unexpected output of the {run} child: {text:?}")),
    }
}

/// Runs every child: the exploration, then the swarm and the scenario for
/// `day` and `week` passes.
pub fn figure(seeds: u64, jobs: NonZeroUsize, day: u64, week: u64) -> Result<Memory, String> {
    let runs = [
        MemoryRun::Explore,
        MemoryRun::Swarm(day),
        MemoryRun::Swarm(week),
        MemoryRun::Scenario(day),
        MemoryRun::Scenario(week),
    ];
    let mut children = Vec::new();
    for (k, run) in runs.into_iter().enumerate() {
        eprintln!(
            "[5/5] memory ({}/{}): `{run}` in a child process{}",
            k + 1,
            runs.len(),
            if run == MemoryRun::Explore {
                format!(" ({} seeds on {jobs} workers)", thousands(seeds))
            } else {
                String::new()
            }
        );
        children.push(measure(run, seeds, jobs)?);
    }
    Ok(Memory {
        jobs,
        children,
        bench_peak_kib: status_kib("VmHWM"),
    })
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n5. peak memory of explore and of long runs")?;
        writeln!(
            f,
            "   each in a child process; peak resident set (VmHWM); target for the week: < 64 MiB"
        )?;
        let mib = |kib: u64| kib as f64 / 1024.0;
        for c in &self.children {
            let what = match c.run {
                MemoryRun::Explore => format!(
                    "`sim explore --platform hardened --jobs {}` ({} seeds of hardened, passes drawn per seed)",
                    self.jobs,
                    thousands(c.work)
                ),
                MemoryRun::Swarm(p) => format!(
                    "the 200-row swarm day run for {} passes ({} h simulated, every row actor)",
                    thousands(p),
                    c.work / 3600
                ),
                MemoryRun::Scenario(p) => format!(
                    "`sim run` of a 200-row scenario with `passes: {}` ({} h simulated)",
                    thousands(p),
                    c.work / 3600
                ),
            };
            writeln!(
                f,
                "   {what}, {} wall: {:.1} MiB",
                human(c.wall),
                mib(c.peak_kib)
            )?;
        }
        let week = self
            .children
            .iter()
            .filter(|c| !matches!(c.run, MemoryRun::Explore))
            .map(|c| (c.run, c.peak_kib))
            .max_by_key(|(run, kib)| (*kib, run.to_string()));
        if let Some((run, kib)) = week {
            writeln!(
                f,
                "   largest long run: `{run}` at {:.1} MiB: {}",
                mib(kib),
                super::verdict(kib < 64 * 1024)
            )?;
        }
        if let Some(b) = self.bench_peak_kib {
            writeln!(
                f,
                "   (this bench process, for comparison: {:.1} MiB)",
                mib(b)
            )?;
        }
        Ok(())
    }
}
