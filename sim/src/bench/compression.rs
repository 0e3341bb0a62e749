//! Figure 1: time compression — a simulated day of a 200-workspace fleet,
//! and the wall time it costs.

use std::fmt;
use std::time::Duration;

use std::cell::RefCell;
use std::rc::Rc;

use reconciler_core::{Config, Variant};

use super::{Stopwatch, human, thousands, verdict};
use crate::action::Action;
use crate::actors::{self, Role};
use crate::director::{LatencyProfile, Overrides, Swarm, space};
use crate::run::{Judged, execute, sim_runtime, swarm_rules, swarm_setup};
use crate::trace::{Entry, Event, Keep, LineHash, Observer};
use crate::world::WorldSettings;

/// The target: a simulated day per wall second.
const TARGET: f64 = 86_400.0;

/// The fixed day: a swarm run with every settings knob pinned instead of
/// drawn — 200 rows, every actor that strikes rows or instances except the
/// two that remove rows (`delete`, `purge`: nothing creates rows, and at the
/// swarm's rates they empty the fleet within hours, so the "day" would be
/// one of an empty table), a healthy control plane (1–50 ms, so every pass
/// reaches every row), the default store latency, the lowest strike rate the
/// swarm draws, one replica, the current platform, `hardened`.
pub fn day(passes: u64) -> Swarm {
    let mut swarm = Swarm::from_seed(86_400, Overrides::default());
    swarm.fleet = 200;
    swarm.passes = passes;
    swarm.latency = LatencyProfile::Fast;
    swarm.store_latency_ms = space::STORE_LATENCY_MS;
    swarm.cp_error_permille = 0;
    swarm.db_error_permille = 0;
    swarm.hook_permille = 20;
    swarm.phases = vec![Duration::ZERO];
    swarm.world = WorldSettings::current();
    swarm.actors = actors::ACTORS
        .iter()
        .copied()
        .filter(|a| {
            matches!(a.role, Role::Strikes(_))
                && !std::ptr::eq(*a, &actors::delete::ACTOR)
                && !std::ptr::eq(*a, &actors::purge::ACTOR)
        })
        .collect();
    swarm
}

/// Counts what a run did, entry by entry, keeping nothing else.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) probes: u64,
    pub(crate) flips: u64,
    pub(crate) actions: u64,
    pub(crate) flows: u64,
    pub(crate) lines: u64,
    pub(crate) rows: i64,
    pub(crate) hash: LineHash,
}

impl Observer for Tally {
    fn observe(&mut self, e: &Entry) {
        self.lines += 1;
        self.hash.add(e);
        match &e.event {
            Event::Fleet { .. } => self.rows += 1,
            Event::Probe { .. } => self.probes += 1,
            Event::Flip { .. } => self.flips += 1,
            Event::FlowStart { .. } => self.flows += 1,
            Event::Act { action, .. } => {
                self.actions += 1;
                if matches!(action, Action::Purge(_)) {
                    self.rows -= 1;
                }
            }
            _ => {}
        }
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
    flows: u64,
    lines: u64,
    rows_at_end: i64,
    violations: usize,
    trace_hash: u64,
}

/// Runs `swarm` for `hardened` keeping no trace, counting as it goes.
pub(crate) fn run_counted(swarm: &Swarm) -> (crate::run::Outcome, Tally) {
    let rt = sim_runtime();
    let tally = Rc::new(RefCell::new(Tally::default()));
    let config = Config::default();
    let judged = Judged {
        variant: Variant::Hardened,
        rules: swarm_rules(swarm, &config),
        config,
        keep: Keep::Tail(0),
        observers: vec![Box::new(Rc::clone(&tally))],
    };
    let outcome = execute(&rt, judged, |trace| swarm_setup(swarm, trace));
    let tally = Rc::try_unwrap(tally)
        .ok()
        .expect("the run dropped its observers")
        .into_inner();
    (outcome, tally)
}

/// Runs the day once and measures it (run and oracle together).
pub fn figure(passes: u64) -> Compression {
    let swarm = day(passes);
    eprintln!(
        "[1/5] compression: {passes} passes of a 200-row fleet ({})",
        names(&swarm)
    );
    let clock = Stopwatch::start();
    let (outcome, tally) = run_counted(&swarm);
    let wall = clock.elapsed();
    let cpu = clock.cpu_elapsed();
    Compression {
        passes,
        simulated: outcome.sim_time,
        wall,
        cpu,
        probes: tally.probes,
        flips: tally.flips,
        actions: tally.actions,
        flows: tally.flows,
        lines: tally.lines,
        rows_at_end: tally.rows,
        violations: outcome.violations.len(),
        trace_hash: tally.hash.value(),
    }
}

fn names(swarm: &Swarm) -> String {
    let n: Vec<_> = swarm.actors.iter().map(|a| a.name).collect();
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
            "   work: {} probes ({} wall per probe, run and oracle), {} flips, {} actor actions, {} platform flows, {} trace lines (streamed, none kept); {} of 200 rows left at the end; {} violations; trace hash {:016x}",
            thousands(self.probes),
            human(self.wall / u32::try_from(self.probes.max(1)).unwrap_or(u32::MAX)),
            thousands(self.flips),
            thousands(self.actions),
            thousands(self.flows),
            thousands(self.lines),
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
