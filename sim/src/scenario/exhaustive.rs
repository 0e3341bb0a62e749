//! Exhaustive mode: every placement of a script's hook steps over the hook
//! firings of a bounded run, instead of the one placement the file names.
//!
//! A baseline run (the script without its hook steps, timed steps kept)
//! logs every hook firing. A hook step can then be placed at any firing
//! that matches its hook and workspace filter; `nth` is ignored. A
//! placement is written the way the file writes it — the step's `nth`
//! among its matching firings, from 1 to the count in the baseline — so a
//! schedule is a list of `nth`s that can be pasted back into the file, and
//! a step's placement stays meaningful when an earlier step's action
//! removes firings (a deleted row is probed no more): it then lands on the
//! next matching firing that does happen, or, if there are fewer than
//! `nth`, not at all, which the report counts. Firings an earlier step
//! adds (a resumed row probed in the next pass) are counted too, but not
//! enumerated. Schedules are the cartesian
//! product, enumerated like an odometer (the last step turns fastest), the
//! first `max` of them when the product is larger. Schedule `i` of that
//! order is computed from `i` alone, so schedules run on several workers
//! ([`crate::parallel`]) and are still taken, and reported, in that order.

use std::collections::BTreeSet;
use std::fmt;
use std::num::NonZeroUsize;

use reconciler_core::Variant;
use tokio::runtime::Runtime;

use super::script::Script;
use super::verdict::{labels, run_script};
use crate::oracle::Label;
use crate::parallel::{self, Flow, Workers};
use crate::run::sim_runtime;

/// The cap on schedules per scenario and variant unless told otherwise.
pub const DEFAULT_MAX_SCHEDULES: u64 = 10_000;

/// What the schedules of one scenario × variant showed.
#[derive(Clone, Debug)]
pub struct ScheduleReport {
    /// The scenario's name.
    pub scenario: String,
    /// The variant.
    pub variant: Variant,
    /// Each hook step's hook, as the file writes it (`after select ws-1`).
    pub steps: Vec<String>,
    /// Per hook step, its matching firings in the baseline run.
    pub baseline_firings: Vec<u64>,
    /// Schedules in the full product.
    pub total: u128,
    /// Schedules run (less than `total` only when capped).
    pub explored: u64,
    /// Schedules with at least one violation.
    pub violated: u64,
    /// Schedules in which some step found fewer matching firings than its
    /// `nth` (an earlier step removed them) and so never fired.
    pub unfired: u64,
    /// Schedules in which some step had more matching firings than in the
    /// baseline (an earlier step added them): placements at those extra
    /// firings exist but are not enumerated.
    pub grown: u64,
    /// The expected violation labels; empty means clean in every schedule.
    pub expected: Vec<Label>,
    /// Every violation label seen in some schedule, sorted.
    pub seen: Vec<String>,
    /// The first violating schedule and its labels.
    pub first_violating: Option<(Vec<u64>, Vec<String>)>,
    /// The first schedule showing every expected label.
    pub first_showing: Option<Vec<u64>>,
}

impl ScheduleReport {
    /// True when the expectation holds: a variant expected clean was clean
    /// in every schedule run; one expected to violate showed every
    /// expected label in at least one schedule.
    pub fn met(&self) -> bool {
        if self.expected.is_empty() {
            self.violated == 0
        } else {
            self.first_showing.is_some()
        }
    }

    /// True when the product was larger than the cap.
    pub fn capped(&self) -> bool {
        u128::from(self.explored) < self.total
    }

    /// The schedules count as printed: `N schedules` or `capped at N of M
    /// schedules`.
    pub fn count(&self) -> String {
        let noun = if self.total == 1 {
            "schedule"
        } else {
            "schedules"
        };
        if self.capped() {
            format!("capped at {} of {} {noun}", self.explored, self.total)
        } else {
            format!("{} {noun}", self.explored)
        }
    }

    /// `step 1 (after select) -> nth 2, …`: a placement as the file would
    /// write it.
    pub fn placement(&self, nths: &[u64]) -> String {
        if nths.is_empty() {
            return "no hook steps".to_owned();
        }
        let parts: Vec<String> = self
            .steps
            .iter()
            .zip(nths)
            .enumerate()
            .map(|(i, (hook, n))| format!("step {} (on: {hook}) -> nth: {n}", i + 1))
            .collect();
        parts.join(", ")
    }
}

impl fmt::Display for ScheduleReport {
    /// One line: scenario, variant, schedules, violated, verdict and the
    /// placement that explains it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} / {}: {}, {} violated",
            self.scenario,
            self.variant,
            self.count(),
            self.violated
        )?;
        if self.unfired > 0 {
            write!(f, " ({} with a step that never fired)", self.unfired)?;
        }
        if self.grown > 0 {
            write!(
                f,
                " ({} with more firings than the baseline, not enumerated)",
                self.grown
            )?;
        }
        let expected: Vec<String> = self.expected.iter().map(ToString::to_string).collect();
        match (self.met(), &self.first_violating, &self.first_showing) {
            (true, _, None) => write!(f, "; met (clean in every schedule)"),
            (true, _, Some(p)) => write!(
                f,
                "; met ({} shown, e.g. at {})",
                expected.join(" "),
                self.placement(p)
            ),
            (false, Some((p, l)), _) if self.expected.is_empty() => write!(
                f,
                "; NOT MET: expected clean, first violating schedule {} shows {}",
                self.placement(p),
                l.join(" ")
            ),
            (false, _, _) => write!(
                f,
                "; NOT MET: no schedule shows {} (seen: {})",
                expected.join(" "),
                if self.seen.is_empty() {
                    "none".to_owned()
                } else {
                    self.seen.join(" ")
                }
            ),
        }
    }
}

/// What one schedule showed, as it travels from its worker.
struct Placed {
    /// Some step found fewer matching firings than its `nth`.
    unfired: bool,
    /// Some step found more matching firings than in the baseline.
    grown: bool,
    /// The labels of its violations, if it had any.
    labels: Option<Vec<String>>,
    /// It showed every expected label.
    shows_expected: bool,
}

/// Schedules a worker claims at a time (a scripted run is a few hundred
/// microseconds).
const CHUNK: u64 = 4;

/// Runs every placement of `script`'s hook steps against `variant` (at
/// most `max` schedules) on `jobs` workers and reports what they showed.
/// The baseline runs on `rt`; the report does not depend on `jobs`.
pub fn enumerate(
    rt: &Runtime,
    script: &Script,
    variant: Variant,
    max: u64,
    jobs: NonZeroUsize,
) -> ScheduleReport {
    let baseline = Script {
        hooked: Vec::new(),
        ..script.clone()
    };
    let base = run_script(rt, &baseline, variant);
    let matching = |firings: &[super::Firing], step: &super::HookStep| {
        firings
            .iter()
            .filter(|f| step.matches(f.hook, f.ws.as_ref()))
            .count() as u64
    };
    let baseline_firings: Vec<u64> = script
        .hooked
        .iter()
        .map(|s| matching(&base.firings, s))
        .collect();
    // A step whose hook never fires keeps one placement (which never
    // fires either) so that the other steps are still enumerated.
    let ranges: Vec<u64> = baseline_firings.iter().map(|&c| c.max(1)).collect();
    let total = ranges
        .iter()
        .fold(1u128, |acc, &r| acc.saturating_mul(u128::from(r)));
    let expected = script
        .expect
        .get(&variant)
        .map(|e| e.violations.clone())
        .unwrap_or_default();
    let mut report = ScheduleReport {
        scenario: script.name.clone(),
        variant,
        steps: script.hooked.iter().map(step_hook).collect(),
        baseline_firings,
        total,
        explored: 0,
        violated: 0,
        unfired: 0,
        grown: 0,
        expected,
        seen: Vec::new(),
        first_violating: None,
        first_showing: None,
    };
    let (base_counts, expected) = (report.baseline_firings.clone(), report.expected.clone());
    let run_one = |rt: &mut Runtime, i: u64| -> (Placed, Flow) {
        let mut placed = script.clone();
        for (step, n) in placed.hooked.iter_mut().zip(schedule(i, &ranges)) {
            step.nth = n;
        }
        let run = run_script(rt, &placed, variant);
        let counts: Vec<u64> = placed
            .hooked
            .iter()
            .map(|s| matching(&run.firings, s))
            .collect();
        let violations = &run.outcome.violations;
        let result = Placed {
            unfired: placed.hooked.iter().zip(&counts).any(|(s, &c)| c < s.nth),
            grown: counts.iter().zip(&base_counts).any(|(c, b)| c > b),
            labels: (!violations.is_empty()).then(|| labels(violations)),
            shows_expected: !expected.is_empty()
                && expected
                    .iter()
                    .all(|e| violations.iter().any(|v| e.matches(v))),
        };
        (result, Flow::Go)
    };
    let schedules = u64::try_from(total).unwrap_or(u64::MAX).min(max);
    let mut seen = BTreeSet::new();
    parallel::ordered(
        Workers { jobs, chunk: CHUNK },
        Some(schedules),
        sim_runtime,
        run_one,
        |i, placed: Placed| {
            report.explored += 1;
            report.unfired += u64::from(placed.unfired);
            report.grown += u64::from(placed.grown);
            if let Some(l) = placed.labels {
                report.violated += 1;
                seen.extend(l.iter().cloned());
                if report.first_violating.is_none() {
                    report.first_violating = Some((schedule(i, &ranges), l));
                }
                if report.first_showing.is_none() && placed.shows_expected {
                    report.first_showing = Some(schedule(i, &ranges));
                }
            }
            true
        },
    );
    report.seen = seen.into_iter().collect();
    report
}

/// Schedule `i` of the odometer order over `ranges` (the last step turns
/// fastest): each step's `nth`, from 1.
fn schedule(i: u64, ranges: &[u64]) -> Vec<u64> {
    let mut rest = i;
    let mut nths = vec![1; ranges.len()];
    for (n, &r) in nths.iter_mut().zip(ranges).rev() {
        *n = 1 + rest % r;
        rest /= r;
    }
    nths
}

fn step_hook(step: &super::HookStep) -> String {
    match &step.ws {
        Some(ws) => format!("{} {ws}", step.hook),
        None => step.hook.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::schedule;

    #[test]
    fn the_odometer_visits_every_schedule_once_in_order() {
        let ranges = [2, 1, 3];
        let seen: Vec<Vec<u64>> = (0..6).map(|i| schedule(i, &ranges)).collect();
        assert_eq!(seen[0], vec![1, 1, 1]);
        assert_eq!(seen[1], vec![1, 1, 2]);
        assert_eq!(seen[3], vec![2, 1, 1]);
        assert_eq!(seen[5], vec![2, 1, 3]);
        let distinct: BTreeSet<&Vec<u64>> = seen.iter().collect();
        assert_eq!(distinct.len(), 6, "every schedule once");
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "in odometer (lexicographic) order"
        );
    }
}
