//! The sections `sim run` prints after its verdict table: exhaustive
//! placements (files marked `exhaustive: true`, or all with
//! `--exhaustive`) and the `explore:` blocks' random strikes. Here rather
//! than in the binary so that the CLI stays a thin shell over the library.
//! The schedules of one enumeration and the seeds of one `explore:` block
//! run on several workers; lines come out in the same order for any
//! number of them.

use std::num::NonZeroUsize;

use reconciler_core::Variant;
use tokio::runtime::Runtime;

use super::script::Script;
use super::{exhaustive, strikes};

/// What the sections cover.
#[derive(Clone, Copy, Debug)]
pub struct Sections {
    /// Only this variant, when set (of those each file names).
    pub variant: Option<Variant>,
    /// Enumerate placements for every file, not only those marked so.
    pub exhaustive: bool,
    /// Schedules per scenario and variant before enumeration stops.
    pub max_schedules: u64,
    /// Worker threads for the schedules and seeds.
    pub jobs: NonZeroUsize,
}

/// Runs both sections over `scripts`, handing each printed line to `out`
/// as soon as it is known; returns how many verdicts were not met.
pub fn run_sections(
    rt: &Runtime,
    scripts: &[Script],
    sections: Sections,
    out: &mut dyn FnMut(&str),
) -> usize {
    let variants = |s: &Script| -> Vec<Variant> {
        s.variants
            .iter()
            .copied()
            .filter(|v| sections.variant.is_none_or(|o| o == *v))
            .collect()
    };
    let mut unmet = 0;
    let mut header = Some("\nexhaustive (every placement of the hook steps):");
    for script in scripts
        .iter()
        .filter(|s| sections.exhaustive || s.exhaustive)
    {
        for variant in variants(script) {
            if let Some(h) = header.take() {
                out(h);
            }
            let r =
                exhaustive::enumerate(rt, script, variant, sections.max_schedules, sections.jobs);
            out(&format!("  {r}"));
            unmet += usize::from(!r.met());
        }
    }
    let mut header = Some("\nexplore (random strikes around the script):");
    for script in scripts {
        let Some(ex) = &script.explore else { continue };
        for variant in variants(script) {
            if let Some(h) = header.take() {
                out(h);
            }
            let r = strikes::explore_script(script, ex, variant, sections.jobs);
            out(&format!("  {r}"));
            unmet += usize::from(!r.met());
        }
    }
    unmet
}
