//! Running a [`Script`] against a variant, and judging the run against the
//! script's expectation.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

use reconciler_core::{Variant, WorkspaceId};
use tokio::runtime::Runtime;

use super::director::{Firing, ScriptDirector};
use super::script::{Expected, Script};
use crate::action::Action;
use crate::director::Director;
use crate::oracle::{Rules, Violation};
use crate::run::{Judged, Outcome, Setup, execute, rules_for};
use crate::seed::child_rng;
use crate::shared::{Behaviour, CpOverride};
use crate::trace::{Cause, Entry, Event, Keep, Observer, Trace, Tracer};
use crate::world::{Timing, World};

/// The seed of scripted runs: a script fixes everything that matters, and
/// this fixes the rest (latency draws within ranges, cloud timings).
pub const SCRIPT_SEED: u64 = 0;

/// The world, behaviour and passes of `script`, driven by `director`,
/// writing to `trace`. Call it inside the paused runtime (the world reads
/// the clock).
pub fn script_setup(script: &Script, director: Box<dyn Director>, trace: Tracer) -> Setup {
    script_setup_timed(script, director, Timing::default(), trace)
}

/// [`script_setup`] with the cloud's and platform's durations given, for a
/// backend that runs the script on another time scale (Postgres).
pub fn script_setup_timed(
    script: &Script,
    director: Box<dyn Director>,
    timing: Timing,
    trace: Tracer,
) -> Setup {
    let mut world = World::new(
        timing,
        child_rng(SCRIPT_SEED, "timing"),
        script.world,
        trace,
    );
    let mut flows = Vec::new();
    for (at, action) in &script.timed {
        if crate::actors::starts_flow(action) {
            flows.push((*at, action.clone()));
        } else {
            world.schedule(*at, Cause::Timed, action.clone());
        }
    }
    for (row, state) in &script.fleet {
        world.seed_row(row.clone(), *state);
    }
    Setup {
        world,
        director,
        behaviour: Behaviour {
            cp_latency_ms: script.cp_latency_ms,
            cp_error_permille: 0,
            store_latency_ms: script.store_latency_ms,
            db_error_permille: 0,
            cp_instances: script.cp_instances.clone(),
            wire_faults: false,
        },
        seed: SCRIPT_SEED,
        passes: script.passes,
        phases: script.phases.clone(),
        flows,
        net: script.net,
        net_faults: crate::net::NetFaults::default(),
    }
}

/// The oracle's rules for `script`: the worst control-plane latency any
/// part of it can cause, and its own `missed_dead` bound if it sets one.
pub fn script_rules(script: &Script) -> Rules {
    let mut cp_max = script.cp_latency_ms.1;
    for o in script.cp_instances.values() {
        if let CpOverride::Latency((_, hi)) = o {
            cp_max = cp_max.max(*hi);
        }
    }
    let actions = script
        .timed
        .iter()
        .map(|(_, a)| a)
        .chain(script.hooked.iter().flat_map(|s| &s.actions));
    for a in actions {
        if let Action::CpSlow { latency_ms, .. } = a {
            cp_max = cp_max.max(*latency_ms);
        }
    }
    let mut rules = rules_for(&script.config, cp_max, script.store_latency_ms.1);
    rules.fixed_liveness_bound = script.missed_dead_bound;
    rules
}

/// Workspaces flipped (the offline handler called for them), sorted
/// (repeats kept: the merged platform writes no status, so a row can be
/// flipped again), read from a whole trace.
///
/// # Panics
///
/// When `trace` kept only a tail: the flips before it would be missing
/// without a word. A run that keeps a tail counts its flips as it goes
/// ([`FlipLog`]).
pub fn flips(trace: &Trace) -> Vec<WorkspaceId> {
    assert!(
        trace.is_whole(),
        "flips() needs the whole trace; this one kept {} of {} entries",
        trace.entries().len(),
        trace.len()
    );
    let mut log = FlipLog::default();
    for e in trace.entries() {
        log.observe(e);
    }
    log.sorted()
}

/// Collects a run's flips as the trace is written, so that a run keeping
/// no trace still knows them.
#[derive(Debug, Default)]
pub struct FlipLog(Vec<WorkspaceId>);

impl FlipLog {
    /// The flips, sorted (repeats kept).
    pub fn sorted(mut self) -> Vec<WorkspaceId> {
        self.0.sort();
        self.0
    }
}

impl Observer for FlipLog {
    fn observe(&mut self, entry: &Entry) {
        if let Event::Flip { ws, .. } = &entry.event {
            self.0.push(ws.clone());
        }
    }
}

/// The distinct `kind/sub` labels of `violations`, sorted.
pub fn labels(violations: &[Violation]) -> Vec<String> {
    let mut out: Vec<String> = violations.iter().map(Violation::label).collect();
    out.sort();
    out.dedup();
    out
}

/// How a run compares with its expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The variant.
    pub variant: Variant,
    /// Workspaces whose flip wrote a row, sorted.
    pub flips: Vec<WorkspaceId>,
    /// Distinct violation labels, sorted.
    pub labels: Vec<String>,
    /// What differed from the expectation; empty when it was met.
    pub differences: Vec<String>,
}

impl Verdict {
    /// True when the run did what the script expected.
    pub fn met(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Compares a run that kept its whole trace with `expected` (see
/// [`judge_flips`]).
pub fn judge(variant: Variant, expected: &Expected, outcome: &Outcome) -> Verdict {
    judge_flips(variant, expected, flips(&outcome.trace), outcome)
}

/// Compares a run's `flips` (sorted) and violations with `expected`. Met
/// iff the flips are equal, every expected label is shown by some
/// violation, and every violation is covered by some expected label (a bare
/// kind covers all its sub-reasons).
pub fn judge_flips(
    variant: Variant,
    expected: &Expected,
    flips: Vec<WorkspaceId>,
    outcome: &Outcome,
) -> Verdict {
    let labels = labels(&outcome.violations);
    let mut differences = Vec::new();
    if flips != expected.flips {
        differences.push(format!(
            "flips: expected {}, got {}",
            ids(&expected.flips),
            ids(&flips)
        ));
    }
    for l in &expected.violations {
        if !outcome.violations.iter().any(|v| l.matches(v)) {
            differences.push(format!("expected violation {l} did not happen"));
        }
    }
    let mut unexpected: Vec<String> = outcome
        .violations
        .iter()
        .filter(|v| !expected.violations.iter().any(|l| l.matches(v)))
        .map(ToString::to_string)
        .collect();
    unexpected.dedup();
    for v in unexpected {
        differences.push(format!("unexpected violation {v}"));
    }
    Verdict {
        variant,
        flips,
        labels,
        differences,
    }
}

fn ids(list: &[WorkspaceId]) -> String {
    let mut s = String::from("[");
    for (i, w) in list.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{w}");
    }
    s.push(']');
    s
}

/// One run of a script: what happened, every hook firing, and the verdict.
#[derive(Clone, Debug)]
pub struct ScriptRun {
    /// Trace and violations.
    pub outcome: Outcome,
    /// Every hook firing, in order.
    pub firings: Vec<Firing>,
    /// The comparison with the expectation (an empty expectation when the
    /// script has none for this variant).
    pub verdict: Verdict,
}

/// Runs `script` against `variant` on `rt` (a [`crate::run::sim_runtime`])
/// and judges it, keeping the whole trace and every hook firing (tests,
/// snapshots, shrinking and exhaustive baselines read them).
pub fn run_script(rt: &Runtime, script: &Script, variant: Variant) -> ScriptRun {
    run_script_keeping(rt, script, variant, Keep::All)
}

/// [`run_script`] keeping `keep` of the trace, and the firing log only with
/// the whole trace: with `Keep::Tail`, memory depends on the fleet, not on
/// how many passes the script runs (`sim run` without `--trace`).
pub fn run_script_keeping(
    rt: &Runtime,
    script: &Script,
    variant: Variant,
    keep: Keep,
) -> ScriptRun {
    let steps = script.hooked.clone();
    let director = if keep == Keep::All {
        ScriptDirector::new(steps)
    } else {
        ScriptDirector::unlogged(steps)
    };
    let log = director.firings();
    run_directed_keeping(rt, script, variant, Box::new(director), log, keep)
}

/// Runs `script`'s world against `variant` with `director` at the hook
/// points instead of the script's own (exhaustive placements, random
/// strikes); `log` is the firing log of the [`ScriptDirector`] inside it.
/// Keeps the whole trace.
pub fn run_directed(
    rt: &Runtime,
    script: &Script,
    variant: Variant,
    director: Box<dyn Director>,
    log: Rc<RefCell<Vec<Firing>>>,
) -> ScriptRun {
    run_directed_keeping(rt, script, variant, director, log, Keep::All)
}

/// [`run_directed`] keeping `keep` of the trace; the flips are counted as
/// the run goes, so the verdict does not depend on what is kept.
pub fn run_directed_keeping(
    rt: &Runtime,
    script: &Script,
    variant: Variant,
    director: Box<dyn Director>,
    log: Rc<RefCell<Vec<Firing>>>,
    keep: Keep,
) -> ScriptRun {
    let flips = Rc::new(RefCell::new(FlipLog::default()));
    let judged = Judged {
        variant,
        config: script.config.clone(),
        rules: script_rules(script),
        keep,
        observers: vec![Box::new(Rc::clone(&flips))],
    };
    let outcome = execute(rt, judged, |trace| script_setup(script, director, trace));
    let flips = Rc::try_unwrap(flips)
        .expect("the run dropped its observers")
        .into_inner()
        .sorted();
    let expected = script.expect.get(&variant).cloned().unwrap_or_default();
    let verdict = judge_flips(variant, &expected, flips, &outcome);
    let firings = Rc::try_unwrap(log)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| rc.borrow().clone());
    ScriptRun {
        outcome,
        firings,
        verdict,
    }
}
