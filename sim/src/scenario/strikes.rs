//! A script's `explore:` block: the script as written, plus random strikes
//! of the block's adversaries at every hook point, one seed at a time.
//!
//! Only the strikes are random: the world keeps the script's own seed
//! ([`super::verdict::SCRIPT_SEED`]), so seed `S` means "these strikes
//! around this script" and `sim run FILE --explore-seed S` replays it. A
//! strike picks its target and action the way the swarm director does (the
//! actor's own `strike`, from its home in `crate::actors`), at the same hook
//! points, so scripted and random exploration cannot drift apart.

use std::fmt;
use std::num::NonZeroUsize;
use std::path::Path;

use rand::RngExt;
use reconciler_core::{Variant, WorkspaceId};
use tokio::runtime::Runtime;

use super::director::ScriptDirector;
use super::script::{Explore, Script};
use super::verdict::{ScriptRun, labels, run_directed_keeping};
use crate::action::Action;
use crate::actors::Actor;
use crate::director::{Director, strikes_at};
use crate::hook::Hook;
use crate::parallel::{self, Flow, Workers};
use crate::run::sim_runtime;
use crate::seed::{SimRng, child_rng};
use crate::trace::Keep;

use crate::world::World;

/// The script's director plus random strikes drawn from one seed.
pub struct StrikeDirector {
    script: ScriptDirector,
    rng: SimRng,
    odds: Vec<(&'static Actor, f64)>,
}

impl StrikeDirector {
    /// Strikes of `explore`'s adversaries around `script`'s steps, drawn
    /// from `seed`; the firing log is kept when the trace is.
    pub fn new(script: &Script, explore: &Explore, seed: u64, keep: Keep) -> Self {
        let steps = script.hooked.clone();
        Self {
            script: if keep == Keep::All {
                ScriptDirector::new(steps)
            } else {
                ScriptDirector::unlogged(steps)
            },
            rng: child_rng(seed, "strikes"),
            odds: explore.actors.clone(),
        }
    }
}

impl Director for StrikeDirector {
    fn at_hook(&mut self, hook: Hook, ws: Option<&WorkspaceId>, world: &World) -> Vec<Action> {
        let mut out = self.script.at_hook(hook, ws, world);
        if !strikes_at(hook) {
            return out;
        }
        for &(actor, p) in &self.odds {
            if self.rng.random_bool(p)
                && let Some(a) = actor.strike(world, ws, &mut self.rng)
            {
                out.push(a);
            }
        }
        out
    }
}

/// Runs `script` against `variant` with the strikes of `seed`, keeping
/// `keep` of the trace.
pub fn run_strikes(
    rt: &Runtime,
    script: &Script,
    explore: &Explore,
    variant: Variant,
    seed: u64,
    keep: Keep,
) -> ScriptRun {
    let director = StrikeDirector::new(script, explore, seed, keep);
    let log = director.script.firings();
    run_directed_keeping(rt, script, variant, Box::new(director), log, keep)
}

/// What the seeds of one scenario × variant showed.
#[derive(Clone, Debug)]
pub struct StrikeReport {
    /// The scenario's name.
    pub scenario: String,
    /// The file it came from (for the replay command).
    pub file: std::path::PathBuf,
    /// The variant.
    pub variant: Variant,
    /// Seeds run (0..seeds).
    pub seeds: u64,
    /// Seeds with at least one violation.
    pub violated: u64,
    /// True when the script expects this variant to stay clean.
    pub expected_clean: bool,
    /// The first violating seed and its labels.
    pub first_violating: Option<(u64, Vec<String>)>,
}

impl StrikeReport {
    /// True unless a variant expected clean violated under some seed.
    pub fn met(&self) -> bool {
        !self.expected_clean || self.violated == 0
    }

    /// The command that replays `seed` with its trace.
    pub fn replay(&self, seed: u64) -> String {
        replay_command(&self.file, self.variant, seed)
    }
}

/// `sim run FILE --variant V --explore-seed S --trace`.
pub fn replay_command(file: &Path, variant: Variant, seed: u64) -> String {
    format!(
        "sim run {} --variant {variant} --explore-seed {seed} --trace",
        file.display()
    )
}

impl fmt::Display for StrikeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} / {}: {} seeds, {} violated",
            self.scenario, self.variant, self.seeds, self.violated
        )?;
        match (&self.first_violating, self.met()) {
            (None, _) => write!(f, "; met (clean in every seed)"),
            (Some((seed, l)), met) => {
                let verdict = if met {
                    "met (violations allowed)"
                } else {
                    "NOT MET: expected clean"
                };
                write!(
                    f,
                    "; {verdict}; first violating seed {seed} shows {}\n    replay: {}",
                    l.join(" "),
                    self.replay(*seed)
                )
            }
        }
    }
}

/// Runs the `explore:` block's seeds of `script` against `variant` on
/// `jobs` workers; seeds are taken in order, so the report (the first
/// violating seed above all) does not depend on `jobs`.
pub fn explore_script(
    script: &Script,
    explore: &Explore,
    variant: Variant,
    jobs: NonZeroUsize,
) -> StrikeReport {
    let expected_clean = script
        .expect
        .get(&variant)
        .is_none_or(|e| e.violations.is_empty());
    let mut report = StrikeReport {
        scenario: script.name.clone(),
        file: script.file.clone(),
        variant,
        seeds: 0,
        violated: 0,
        expected_clean,
        first_violating: None,
    };
    // The labels of a seed's violations, if it had any.
    let run_one = |rt: &mut Runtime, seed: u64| {
        // Only the verdict is read: no trace, no firing log.
        let run = run_strikes(rt, script, explore, variant, seed, Keep::Tail(0));
        let violations = &run.outcome.violations;
        (
            (!violations.is_empty()).then(|| labels(violations)),
            Flow::Go,
        )
    };
    parallel::ordered(
        Workers { jobs, chunk: 4 },
        Some(explore.seeds),
        sim_runtime,
        run_one,
        |seed, violated: Option<Vec<String>>| {
            report.seeds += 1;
            if let Some(l) = violated {
                report.violated += 1;
                if report.first_violating.is_none() {
                    report.first_violating = Some((seed, l));
                }
            }
            true
        },
    );
    report
}
