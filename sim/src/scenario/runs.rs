//! The ordinary runs of `sim run` on the simulated backend — every script ×
//! variant it names, one row of the verdict table each — on several
//! workers. Scripts are plain data shared by every worker; each worker
//! builds its own runtime, and the runs come back in file order (then the
//! file's variant order) for any number of workers.

use std::num::NonZeroUsize;

use reconciler_core::Variant;
use tokio::runtime::Runtime;

use super::script::Script;
use super::strikes::run_strikes;
use super::verdict::{ScriptRun, run_script_keeping};
use crate::parallel::{self, Flow, Workers};
use crate::run::sim_runtime;
use crate::trace::Keep;

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Rows {
    /// Only this variant, when set (of those each file names).
    pub variant: Option<Variant>,
    /// Run each file with the random strikes of this seed of its
    /// `explore:` block (a file without one runs as written).
    pub explore_seed: Option<u64>,
    /// Worker threads.
    pub jobs: NonZeroUsize,
    /// How much of each run's trace to keep: all of it to print it
    /// (`--trace`), none for the verdict alone, so that a long script's
    /// memory does not grow with its passes.
    pub keep: Keep,
}

/// Runs every script × variant of `scripts` that `rows` selects and hands
/// each run to `each` in order, as soon as its turn comes.
pub fn run_rows<'a>(
    scripts: &'a [Script],
    rows: Rows,
    each: &mut dyn FnMut(&'a Script, ScriptRun),
) {
    let pairs: Vec<(&Script, Variant)> = scripts
        .iter()
        .flat_map(|s| s.variants.iter().map(move |&v| (s, v)))
        .filter(|(_, v)| rows.variant.is_none_or(|o| o == *v))
        .collect();
    let run_one = |rt: &mut Runtime, i: u64| {
        let (script, variant) = pairs[i as usize];
        let run = match (rows.explore_seed, &script.explore) {
            (Some(seed), Some(ex)) => run_strikes(rt, script, ex, variant, seed, rows.keep),
            _ => run_script_keeping(rt, script, variant, rows.keep),
        };
        (run, Flow::Go)
    };
    parallel::ordered(
        Workers {
            jobs: rows.jobs,
            chunk: 1,
        },
        Some(pairs.len() as u64),
        sim_runtime,
        run_one,
        |i, run| {
            each(pairs[i as usize].0, run);
            true
        },
    );
}
