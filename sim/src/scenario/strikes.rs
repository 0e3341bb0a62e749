//! A script's `explore:` block: the script as written, plus random strikes
//! of the block's adversaries at every hook point, one seed at a time.
//!
//! Only the strikes are random: the world keeps the script's own seed
//! ([`super::verdict::SCRIPT_SEED`]), so seed `S` means "these strikes
//! around this script" and `sim run FILE --explore-seed S` replays it. A
//! strike picks its target and action the way the swarm director does
//! ([`row_action`]; usually the row the operation is about; the orphan
//! sweeper only reaps rows whose instance is really gone), so scripted and
//! random exploration cannot drift apart.

use std::fmt;
use std::path::Path;

use rand::RngExt;
use reconciler_core::{Variant, WorkspaceId};
use tokio::runtime::Runtime;

use super::director::ScriptDirector;
use super::script::{Explore, Script};
use super::verdict::{ScriptRun, labels, run_directed};
use crate::action::Action;
use crate::director::{Adversary, Director, row_action};
use crate::hook::Hook;
use crate::seed::{SimRng, child_rng};
use crate::world::World;

/// The script's director plus random strikes drawn from one seed.
pub struct StrikeDirector {
    script: ScriptDirector,
    rng: SimRng,
    odds: Vec<(Adversary, f64)>,
}

impl StrikeDirector {
    /// Strikes of `explore`'s adversaries around `script`'s steps, drawn
    /// from `seed`.
    pub fn new(script: &Script, explore: &Explore, seed: u64) -> Self {
        Self {
            script: ScriptDirector::new(script.hooked.clone()),
            rng: child_rng(seed, "strikes"),
            odds: explore.adversaries.clone(),
        }
    }
}

impl Director for StrikeDirector {
    fn at_hook(&mut self, hook: Hook, ws: Option<&WorkspaceId>, world: &World) -> Vec<Action> {
        let mut out = self.script.at_hook(hook, ws, world);
        for &(adv, p) in &self.odds {
            if self.rng.random_bool(p)
                && let Some(a) = strike(adv, ws, world, &mut self.rng)
            {
                out.push(a);
            }
        }
        out
    }
}

/// What `adv` does when it strikes at a hook about `ws`.
fn strike(
    adv: Adversary,
    ws: Option<&WorkspaceId>,
    world: &World,
    rng: &mut SimRng,
) -> Option<Action> {
    let target = match ws.and_then(|w| world.table.get(w)) {
        Some(row) if rng.random_bool(0.8) => row,
        _ => {
            if world.table.is_empty() {
                return None;
            }
            let n = rng.random_range(0..world.table.len());
            world.table.rows().nth(n)?
        }
    };
    if adv == Adversary::OrphanSweep
        && target
            .live_instance()
            .is_some_and(|i| !world.cloud.state(i).is_terminal())
    {
        return None;
    }
    let target = target.clone();
    row_action(adv, &target, rng)
}

/// Runs `script` against `variant` with the strikes of `seed`.
pub fn run_strikes(
    rt: &Runtime,
    script: &Script,
    explore: &Explore,
    variant: Variant,
    seed: u64,
) -> ScriptRun {
    let director = StrikeDirector::new(script, explore, seed);
    let log = director.script.firings();
    run_directed(rt, script, variant, Box::new(director), log)
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

/// Runs the `explore:` block's seeds of `script` against `variant`.
pub fn explore_script(
    rt: &Runtime,
    script: &Script,
    explore: &Explore,
    variant: Variant,
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
    for seed in 0..explore.seeds {
        let run = run_strikes(rt, script, explore, variant, seed);
        report.seeds += 1;
        if !run.outcome.violations.is_empty() {
            report.violated += 1;
            if report.first_violating.is_none() {
                report.first_violating = Some((seed, labels(&run.outcome.violations)));
            }
        }
    }
    report
}
