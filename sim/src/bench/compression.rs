//! Figure 1: time compression — a simulated day of a 200-workspace fleet,
//! and the wall time it costs.

use std::fmt;
use std::time::Duration;

use reconciler_core::Variant;

use super::{Stopwatch, human, thousands, verdict};
use crate::director::{Adversary, LatencyProfile, Swarm};
use crate::run::{run_seed, sim_runtime};
use crate::trace::Event;

/// The target: a simulated day per wall second.
const TARGET: f64 = 86_400.0;

/// The fixed day: a swarm run with every settings knob pinned instead of
/// drawn — 200 rows, every actor that touches rows or instances except
/// `delete`, a healthy control plane (1–50 ms, so every pass reaches every
/// row), the default store latency, the lowest strike rate the swarm draws,
/// `hardened`. `delete` is left out because nothing creates rows: at the
/// swarm's rates it empties the fleet within hours, and the figure is about
/// a day of a 200-workspace fleet, not of an empty table.
pub fn day(passes: u64) -> Swarm {
    Swarm {
        seed: 86_400,
        fleet: 200,
        passes,
        latency: LatencyProfile::Fast,
        store_latency_ms: (1, 20),
        cp_error_permille: 0,
        db_error_permille: 0,
        hook_permille: 20,
        adversaries: Adversary::ALL
            .into_iter()
            .filter(|a| {
                !matches!(
                    a,
                    Adversary::Delete
                        | Adversary::SlowCp
                        | Adversary::FailingCp
                        | Adversary::DbErrors
                )
            })
            .collect(),
    }
}

/// The measured day.
pub struct Compression {
    passes: u64,
    simulated: Duration,
    wall: Duration,
    cpu: Option<Duration>,
    probes: u64,
    flips: u64,
    actions: u64,
    lines: usize,
    rows_at_end: usize,
    violations: usize,
    trace_hash: u64,
}

/// Runs the day once and measures it (run and oracle together).
pub fn figure(passes: u64) -> Compression {
    let swarm = day(passes);
    eprintln!(
        "[1/5] compression: {passes} passes of a 200-row fleet ({})",
        names(&swarm)
    );
    let rt = sim_runtime();
    let clock = Stopwatch::start();
    let outcome = run_seed(&rt, Variant::Hardened, &swarm);
    let wall = clock.elapsed();
    let cpu = clock.cpu_elapsed();
    let mut probes = 0;
    let mut flips = 0;
    let mut actions = 0;
    let mut rows: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for e in &outcome.trace.entries {
        match &e.event {
            Event::Fleet(r, _) => {
                rows.insert(&r.id.0);
            }
            Event::Probe(_) => probes += 1,
            Event::Flip { wrote: true, .. } => flips += 1,
            Event::Act(_, what, ws, _) => {
                actions += 1;
                if what.starts_with("delete")
                    && let Some(ws) = ws
                {
                    rows.remove(ws.0.as_str());
                }
            }
            _ => {}
        }
    }
    Compression {
        passes,
        simulated: outcome.sim_time,
        wall,
        cpu,
        probes,
        flips,
        actions,
        lines: outcome.trace.entries.len(),
        rows_at_end: rows.len(),
        violations: outcome.violations.len(),
        trace_hash: outcome.trace.hash(),
    }
}

fn names(swarm: &Swarm) -> String {
    let n: Vec<_> = swarm.adversaries.iter().map(|a| a.as_str()).collect();
    n.join(", ")
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ratio = self.simulated.as_secs_f64() / self.wall.as_secs_f64().max(1e-9);
        let day = day(self.passes);
        writeln!(f, "\n1. time compression")?;
        writeln!(
            f,
            "   setup: hardened, 200 rows, {} passes (60 s apart), CP 1-50 ms, store 1-20 ms, strikes {}‰ per hook point, actors: {}",
            thousands(self.passes),
            day.hook_permille,
            names(&day)
        )?;
        let s = self.simulated.as_secs();
        writeln!(
            f,
            "   simulated {}h {:02}m {:02}s in {} wall: {}:1",
            s / 3600,
            (s % 3600) / 60,
            s % 60,
            human(self.wall),
            thousands(ratio as u64)
        )?;
        if let Some(cpu) = self.cpu {
            writeln!(
                f,
                "   on-CPU time of the run {}: {}:1 (time this thread ran, without the time it waited for a CPU)",
                human(cpu),
                thousands((self.simulated.as_secs_f64() / cpu.as_secs_f64().max(1e-9)) as u64)
            )?;
        }
        writeln!(
            f,
            "   work: {} probes ({} wall per probe, run and oracle), {} flips, {} actor actions, {} trace lines; {} of 200 rows left at the end; {} violations; trace hash {:016x}",
            thousands(self.probes),
            human(self.wall / u32::try_from(self.probes.max(1)).unwrap_or(u32::MAX)),
            thousands(self.flips),
            thousands(self.actions),
            thousands(self.lines as u64),
            self.rows_at_end,
            self.violations,
            self.trace_hash
        )?;
        writeln!(
            f,
            "   target >= 86,400:1 (a simulated day per wall second): {}",
            verdict(ratio >= TARGET)
        )
    }
}
