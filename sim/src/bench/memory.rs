//! Figure 5: peak memory of `explore`.
//!
//! Measured in a child process (this binary, re-run as `sim bench
//! --memory-child`) that does nothing but the default exploration — 10,000
//! seeds of `hardened`, passes drawn per seed, exactly what `sim explore`
//! runs — and then reports its own high-water resident set (`VmHWM` in
//! `/proc/self/status`). A child, so the figure is not inflated by what the
//! other figures allocated in this process.

use std::fmt;
use std::process::{Command, ExitCode};

use reconciler_core::Variant;

use super::{Stopwatch, human, thousands};
use crate::explore::{Find, Plan, Progress, Shard, explore};

/// What the child reports.
pub struct Memory {
    seeds: u64,
    peak_kib: u64,
    wall: std::time::Duration,
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

/// The child: explores and prints `seeds peak_kib`.
pub fn child(seeds: u64) -> ExitCode {
    let plan = Plan {
        variant: Variant::Hardened,
        start_seed: 0,
        seeds: Some(seeds),
        shard: Shard::ALL,
        passes: None,
        find: Find::default(),
    };
    let (summary, _) = explore(&plan, &mut Quiet);
    match status_kib("VmHWM") {
        Some(kib) => {
            println!("{} {kib}", summary.seeds);
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("/proc/self/status has no VmHWM line: cannot measure peak memory here");
            ExitCode::from(2)
        }
    }
}

/// Runs the child and reads its report.
pub fn figure(seeds: u64) -> Result<Memory, String> {
    eprintln!(
        "[5/5] memory: `explore` of {} seeds in a child process",
        thousands(seeds)
    );
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let clock = Stopwatch::start();
    let out = Command::new(exe)
        .args([
            "bench",
            "--memory-child",
            "--memory-seeds",
            &seeds.to_string(),
        ])
        .output()
        .map_err(|e| format!("cannot run the child: {e}"))?;
    let wall = clock.elapsed();
    if !out.status.success() {
        return Err(format!(
            "the child failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace().map(str::parse::<u64>);
    match (fields.next(), fields.next()) {
        (Some(Ok(seeds)), Some(Ok(peak_kib))) => Ok(Memory {
            seeds,
            peak_kib,
            wall,
            bench_peak_kib: status_kib("VmHWM"),
        }),
        _ => Err(format!("unexpected child output {text:?}")),
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n5. peak memory of explore")?;
        writeln!(
            f,
            "   `sim explore` default run ({} seeds of hardened, passes drawn per seed) in a child process, {} wall: peak resident set (VmHWM) {:.1} MiB",
            thousands(self.seeds),
            human(self.wall),
            self.peak_kib as f64 / 1024.0
        )?;
        if let Some(b) = self.bench_peak_kib {
            writeln!(
                f,
                "   (this bench process, which also held the simulated day's trace: {:.1} MiB)",
                b as f64 / 1024.0
            )?;
        }
        Ok(())
    }
}
