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
use crate::oracle::{self, Rules, Violation};
use crate::run::{Outcome, Setup, rules_for, run_world};
use crate::seed::child_rng;
use crate::shared::{Behaviour, CpOverride};
use crate::trace::{Cause, Event, Trace};
use crate::world::{Timing, World};

/// The seed of scripted runs: a script fixes everything that matters, and
/// this fixes the rest (latency draws within ranges, cloud timings).
pub const SCRIPT_SEED: u64 = 0;

/// The world, behaviour and passes of `script`, driven by `director`.
/// Call it inside the paused runtime (the world reads the clock).
pub fn script_setup(script: &Script, director: Box<dyn Director>) -> Setup {
    script_setup_timed(script, director, Timing::default())
}

/// [`script_setup`] with the cloud's and platform's durations given, for a
/// backend that runs the script on another time scale (Postgres).
pub fn script_setup_timed(script: &Script, director: Box<dyn Director>, timing: Timing) -> Setup {
    let mut world = World::new(timing, child_rng(SCRIPT_SEED, "timing"));
    for (at, action) in &script.timed {
        world.schedule(*at, Cause::Timed, action.clone());
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
        },
        seed: SCRIPT_SEED,
        passes: script.passes,
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

/// Workspaces whose flip wrote a row, sorted (repeats kept).
pub fn flips(trace: &Trace) -> Vec<WorkspaceId> {
    let mut out: Vec<WorkspaceId> = trace
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Flip {
                ws, wrote: true, ..
            } => Some(ws.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out
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

/// Compares a run's flips and violations with `expected`. Met iff the
/// flips are equal, every expected label is shown by some violation, and
/// every violation is covered by some expected label (a bare kind covers
/// all its sub-reasons).
pub fn judge(variant: Variant, expected: &Expected, outcome: &Outcome) -> Verdict {
    let flips = flips(&outcome.trace);
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
/// and judges it.
pub fn run_script(rt: &Runtime, script: &Script, variant: Variant) -> ScriptRun {
    let director = ScriptDirector::new(script.hooked.clone());
    let log = director.firings();
    run_directed(rt, script, variant, Box::new(director), log)
}

/// Runs `script`'s world against `variant` with `director` at the hook
/// points instead of the script's own (exhaustive placements, random
/// strikes); `log` is the firing log of the [`ScriptDirector`] inside it.
pub fn run_directed(
    rt: &Runtime,
    script: &Script,
    variant: Variant,
    director: Box<dyn Director>,
    log: Rc<RefCell<Vec<Firing>>>,
) -> ScriptRun {
    let rules = script_rules(script);
    let config = script.config.clone();
    let trace =
        rt.block_on(async { run_world(variant, config, script_setup(script, director)).await });
    let violations = oracle::check(&trace, &rules);
    let sim_time = trace
        .entries
        .last()
        .map_or(std::time::Duration::ZERO, |e| e.at);
    let outcome = Outcome {
        trace,
        violations,
        sim_time,
    };
    let expected = script.expect.get(&variant).cloned().unwrap_or_default();
    let verdict = judge(variant, &expected, &outcome);
    let firings = Rc::try_unwrap(log)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| rc.borrow().clone());
    ScriptRun {
        outcome,
        firings,
        verdict,
    }
}
