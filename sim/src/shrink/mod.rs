//! `sim shrink`: a failing random run, turned into the smallest scenario
//! file that still shows the same violation.
//!
//! 1. The seed's swarm run is recorded and made explicit ([`record`]): its
//!    fleet, and every action of the run placed at a hook firing.
//! 2. That script is run with `sim run` semantics; it must show the
//!    violation (the label given with `--find`, or the run's first).
//! 3. It is minimised, keeping a candidate only if it still shows that
//!    violation under `sim run` semantics: fewest passes first, then delta
//!    debugging over the actions and over the rows, until nothing more can
//!    go.
//! 4. The result is written with the observed flips and violation labels as
//!    its expectation, parsed back with the real parser, and run once more.

mod ddmin;
mod emit;
mod record;

use std::path::Path;

use indexmap::IndexMap;
use reconciler_core::{Config, Variant, WorkspaceId};
use tokio::runtime::Runtime;

use crate::action::Action;
use crate::director::{Overrides, Swarm};
use crate::explore::Find;
use crate::oracle::{Label, Violation};
use crate::run::run_seed;
use crate::scenario::model::Pos;
use crate::scenario::verdict::flips;
use crate::scenario::{Expected, Script, load_str, run_script};

pub use record::Anchor;

/// What to shrink.
#[derive(Clone, Debug)]
pub struct Request {
    /// The swarm seed.
    pub seed: u64,
    /// The variant that fails.
    pub variant: Variant,
    /// What the exploring run fixed (passes, platform).
    pub overrides: Overrides,
    /// The violation to keep; default: the run's first.
    pub find: Find,
}

/// How big a script is, in the dimensions shrinking reduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Fleet rows.
    pub rows: usize,
    /// Steps (hook steps and timed steps).
    pub steps: usize,
    /// Actions over all steps.
    pub actions: usize,
    /// Passes.
    pub passes: u64,
}

impl Size {
    /// The size of `s`.
    pub fn of(s: &Script) -> Self {
        Size {
            rows: s.fleet.len(),
            steps: s.hooked.len() + s.timed.len(),
            actions: s.hooked.iter().map(|h| h.actions.len()).sum::<usize>() + s.timed.len(),
            passes: s.passes,
        }
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows, {} steps ({} actions), {} passes",
            self.rows, self.steps, self.actions, self.passes
        )
    }
}

/// A shrunk scenario.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The scenario file's text.
    pub yaml: String,
    /// The violation label it keeps.
    pub target: String,
    /// Where the run's timed actions were placed.
    pub anchor: Anchor,
    /// The explicit script before minimisation.
    pub before: Size,
    /// The written scenario.
    pub after: Size,
    /// Scripted runs the minimisation took.
    pub runs: u64,
    /// The scenario's violations.
    pub violations: Vec<Violation>,
}

/// Why nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    /// The seed's run shows no matching violation.
    #[error("seed {seed} on {variant} shows no violation matching {target}")]
    NoViolation {
        /// The seed.
        seed: u64,
        /// The variant.
        variant: Variant,
        /// What was looked for.
        target: String,
    },
    /// The explicit script does not show the violation under `sim run`
    /// semantics (its latencies and cloud timings come from another stream).
    #[error(
        "the script of seed {seed} does not reproduce {target} under `sim run` (timing-dependent); try another seed"
    )]
    NotReproduced {
        /// The seed.
        seed: u64,
        /// What was looked for.
        target: String,
    },
    /// A bug: the recording or the written file is inconsistent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The scenario name and file stem for a variant and label:
/// `legacy-unproven-flip-row-gone`.
pub fn stem(variant: Variant, label: &str) -> String {
    format!("{variant}-{}", label.replace(['/', '_'], "-"))
}

/// Shrinks `req` into a scenario that will live at `file`.
pub fn shrink(rt: &Runtime, req: &Request, file: &Path) -> Result<Shrunk, ShrinkError> {
    let swarm = Swarm::from_seed(req.seed, req.overrides);
    let original = run_seed(rt, req.variant, &swarm);
    // The violation to keep, with its sub-reason: `--find missed_dead`
    // keeps the sub-reason the seed showed, not any missed_dead.
    let sub = original
        .violations
        .iter()
        .find(|v| req.find.matches(v))
        .map(|v| v.sub)
        .ok_or_else(|| ShrinkError::NoViolation {
            seed: req.seed,
            variant: req.variant,
            target: req
                .find
                .0
                .map_or_else(|| "any".to_owned(), |l| l.to_string()),
        })?;
    let target = sub.to_string();
    let want = Find(Some(Label {
        kind: sub.kind(),
        sub: Some(sub),
    }));
    let recorded = record::record(rt, &swarm, req.variant).map_err(ShrinkError::Internal)?;
    let name = format!("found-{}", stem(req.variant, &target));
    let base = Script {
        file: file.to_path_buf(),
        name,
        name_at: Pos::default(),
        about: String::new(),
        variants: vec![req.variant],
        sim_only: Some(
            "shrunk from a random swarm run: it reproduces with the simulator's seeded latencies and cloud timings"
                .to_owned(),
        ),
        net: crate::net::Net::InProcess,
        config: Config::default(),
        phases: swarm.phases.clone(),
        world: swarm.world,
        fleet: Vec::new(),
        cp_latency_ms: (0, 0),
        cp_instances: IndexMap::new(),
        store_latency_ms: (0, 0),
        passes: 1,
        missed_dead_bound: None,
        timed: Vec::new(),
        hooked: Vec::new(),
        expect: IndexMap::new(),
        exhaustive: false,
        explore: None,
    };
    let mut m = Minimiser {
        rt,
        variant: req.variant,
        want,
        runs: 0,
    };
    let mut start = None;
    for anchor in [Anchor::Hooks, Anchor::Instants] {
        let s = recorded
            .script(anchor, &base)
            .map_err(ShrinkError::Internal)?;
        if m.fails(&s) {
            start = Some((s, anchor));
            break;
        }
    }
    let (start, anchor) = start.ok_or(ShrinkError::NotReproduced {
        seed: req.seed,
        target: target.clone(),
    })?;
    let before = Size::of(&start);
    let mut cur = start;
    loop {
        let was = Size::of(&cur);
        cur = m.fewest_passes(cur);
        cur = m.fewest_actions(cur);
        cur = m.fewest_rows(cur);
        if Size::of(&cur) == was {
            break;
        }
    }
    cur = m.default_updated_at(cur);
    finish(rt, req, cur, before, (m.want, anchor), m.runs)
}

/// Writes the expectation and the text, and checks both by parsing the
/// text back and running it.
fn finish(
    rt: &Runtime,
    req: &Request,
    mut script: Script,
    before: Size,
    (want, anchor): (Find, Anchor),
    runs: u64,
) -> Result<Shrunk, ShrinkError> {
    let run = run_script(rt, &script, req.variant);
    let violations = run.outcome.violations.clone();
    let expected = Expected {
        flips: flips(&run.outcome.trace),
        violations: {
            let mut subs: Vec<Label> = violations
                .iter()
                .map(|v| Label {
                    kind: v.kind(),
                    sub: Some(v.sub),
                })
                .collect();
            subs.sort();
            subs.dedup();
            subs
        },
    };
    script.expect = IndexMap::from([(req.variant, expected)]);
    let headline = violations
        .iter()
        .find(|v| want.matches(v))
        .map(ToString::to_string)
        .unwrap_or_default();
    script.about = format!(
        "Found by the swarm explorer (seed {}, variant {}) and shrunk by `sim shrink`: {}",
        req.seed, req.variant, headline
    )
    .replace('\n', " ");
    let after = Size::of(&script);
    let target = want.0.map(|l| l.to_string()).unwrap_or_default();
    let mut command = format!(
        "sim shrink --seed {} --variant {} --find {target}",
        req.seed, req.variant
    );
    if let Some(p) = req.overrides.passes {
        command.push_str(&format!(" --passes {p}"));
    }
    if req.overrides.platform != crate::world::PlatformMode::AsMerged {
        command.push_str(&format!(" --platform {}", req.overrides.platform.as_str()));
    }
    command.push_str(" -o <this file>");
    let header = vec![
        format!(
            "Origin: swarm seed {}, variant {} (replay: sim replay --seed {} --variant {}).",
            req.seed, req.variant, req.seed, req.variant
        ),
        format!("Written by: {command}"),
        format!("Shrunk from {before} to {after}."),
        "Regenerate rather than edit by hand (see scenarios/README.md, `found/`).".to_owned(),
    ];
    let yaml = emit::emit(&script, &header);
    let reloaded = load_str(&script.file, &yaml).map_err(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        ShrinkError::Internal(format!(
            "the written scenario does not parse:\n{}\n{yaml}",
            text.join("\n")
        ))
    })?;
    let same = reloaded.fleet == script.fleet
        && reloaded.hooked == script.hooked
        && reloaded.timed == script.timed
        && reloaded.passes == script.passes
        && reloaded.phases == script.phases
        && reloaded.world == script.world
        && reloaded.cp_latency_ms == script.cp_latency_ms
        && reloaded.store_latency_ms == script.store_latency_ms
        && reloaded.expect == script.expect;
    if !same {
        return Err(ShrinkError::Internal(format!(
            "the written scenario reads back differently:\n{yaml}"
        )));
    }
    let check = run_script(rt, &reloaded, req.variant);
    if !check.verdict.met() {
        return Err(ShrinkError::Internal(format!(
            "the written scenario does not meet its expectation: {:?}",
            check.verdict.differences
        )));
    }
    Ok(Shrunk {
        yaml,
        target,
        anchor,
        before,
        after,
        runs,
        violations,
    })
}

/// Candidate scripts and the test that keeps them.
struct Minimiser<'a> {
    rt: &'a Runtime,
    variant: Variant,
    want: Find,
    runs: u64,
}

impl Minimiser<'_> {
    /// True when `s` still shows the wanted violation under `sim run`.
    fn fails(&mut self, s: &Script) -> bool {
        self.runs += 1;
        run_script(self.rt, s, self.variant)
            .outcome
            .violations
            .iter()
            .any(|v| self.want.matches(v))
    }

    fn fewest_passes(&mut self, cur: Script) -> Script {
        for p in 1..cur.passes {
            let mut c = cur.clone();
            c.passes = p;
            if self.fails(&c) {
                return c;
            }
        }
        cur
    }

    fn fewest_actions(&mut self, cur: Script) -> Script {
        let hooked_units: usize = cur.hooked.iter().map(|h| h.actions.len()).sum();
        let total = hooked_units + cur.timed.len();
        let build = |keep: &[usize]| {
            let mut mask = vec![false; total];
            for &k in keep {
                mask[k] = true;
            }
            let mut unit = 0;
            let mut c = cur.clone();
            c.hooked = cur
                .hooked
                .iter()
                .filter_map(|step| {
                    let mut step = step.clone();
                    step.actions.retain(|_| {
                        unit += 1;
                        mask[unit - 1]
                    });
                    (!step.actions.is_empty()).then_some(step)
                })
                .collect();
            c.timed = cur
                .timed
                .iter()
                .zip(&mask[hooked_units..])
                .filter(|(_, kept)| **kept)
                .map(|(x, _)| x.clone())
                .collect();
            c
        };
        let keep = ddmin::ddmin(total, true, |keep| self.fails(&build(keep)));
        build(&keep)
    }

    fn fewest_rows(&mut self, cur: Script) -> Script {
        let build = |keep: &[usize]| {
            let mut c = cur.clone();
            c.fleet = keep.iter().map(|&i| cur.fleet[i].clone()).collect();
            let ids: Vec<&WorkspaceId> = c.fleet.iter().map(|(r, _)| &r.id).collect();
            let instances: Vec<_> = c
                .fleet
                .iter()
                .filter_map(|(r, _)| r.live_instance())
                .collect();
            let refers = |a: &Action| match a {
                Action::Terminate(i) | Action::Stop(i) | Action::Start(i) => instances.contains(&i),
                other => other.workspace().is_none_or(|w| ids.contains(&w)),
            };
            c.hooked = cur
                .hooked
                .iter()
                .filter(|s| s.ws.as_ref().is_none_or(|w| ids.contains(&w)))
                .filter_map(|s| {
                    let mut s = s.clone();
                    s.actions.retain(|a| refers(a));
                    (!s.actions.is_empty()).then_some(s)
                })
                .collect();
            c.timed = cur
                .timed
                .iter()
                .filter(|(_, a)| refers(a))
                .cloned()
                .collect();
            c
        };
        let keep = ddmin::ddmin(cur.fleet.len(), false, |keep| self.fails(&build(keep)));
        build(&keep)
    }

    /// Drops the rows' explicit `updated_at` when the language's default
    /// (file order = `updated_at DESC`) keeps the violation: rows are sorted
    /// newest first and the values left out.
    fn default_updated_at(&mut self, cur: Script) -> Script {
        let mut c = cur.clone();
        c.fleet
            .sort_by_key(|(r, _)| std::cmp::Reverse(r.updated_at));
        for (k, (r, _)) in c.fleet.iter_mut().enumerate() {
            r.updated_at = -1000 * (i64::try_from(k).unwrap_or(i64::MAX / 1000 - 1) + 1);
        }
        if self.fails(&c) { c } else { cur }
    }
}
