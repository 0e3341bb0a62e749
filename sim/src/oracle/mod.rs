//! The oracle: judges a run from its trace alone.
//!
//! It depends on the trace and nothing else in the harness — not on the
//! reconciler, not on the world. Every fact it uses was written into the
//! trace by the world at the instant it was true (rows as they were, the
//! instance's real state when an answer arrived); nothing it uses is the
//! reconciler's own belief. Each check lives in its own file and documents
//! its exact definition.

mod history;
mod liveness;
mod safety;
mod timeliness;

use std::fmt;
use std::time::Duration;

use reconciler_core::WorkspaceId;

use crate::row::fmt_time;
use crate::trace::Trace;

/// The kinds of violation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A flip not proven by a clean, true, terminal answer about the row's
    /// current instance (safety).
    UnprovenFlip,
    /// A flip of a row whose probe or re-confirm errored in the same pass
    /// (safety).
    FlipAfterError,
    /// A probe or flip of a row outside the candidate scope (safety).
    OutOfScope,
    /// A dead workspace left in scope too long (liveness).
    MissedDead,
    /// A pass that ran past its deadline (timeliness).
    CycleOverrun,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 5] = [
        Kind::UnprovenFlip,
        Kind::FlipAfterError,
        Kind::OutOfScope,
        Kind::MissedDead,
        Kind::CycleOverrun,
    ];

    /// The name used in reports, scenario files and `--find`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UnprovenFlip => "unproven_flip",
            Kind::FlipAfterError => "flip_after_error",
            Kind::OutOfScope => "out_of_scope",
            Kind::MissedDead => "missed_dead",
            Kind::CycleOverrun => "cycle_overrun",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Self> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The sub-reasons the checks report for this kind (the `sub` of a
    /// [`Violation`]), so that scenario files can be checked for typos.
    pub fn subs(self) -> &'static [&'static str] {
        match self {
            Kind::UnprovenFlip => &[
                "row_gone",
                "status_moved",
                "runtime_external",
                "instance_cleared",
                "instance_changed",
                "no_answer",
                "non_terminal_answer",
                "stale_answer",
                "changed_after_reconfirm",
            ],
            Kind::FlipAfterError => &["probe_error", "read_error"],
            Kind::OutOfScope => &["probed_out_of_scope", "flip_not_selected"],
            Kind::MissedDead => &["degraded_row", "online_row"],
            Kind::CycleOverrun => &["past_deadline"],
        }
    }

    /// True for liveness and timeliness failures (as opposed to safety).
    pub fn is_liveness(self) -> bool {
        matches!(self, Kind::MissedDead | Kind::CycleOverrun)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One violation found in a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// What rule was broken.
    pub kind: Kind,
    /// The finer reason (for `unproven_flip`: `row_gone`, `instance_changed`,
    /// `non_terminal_answer`, …).
    pub sub: &'static str,
    /// When.
    pub at: Duration,
    /// The pass it happened in.
    pub pass: Option<u64>,
    /// The workspace concerned.
    pub ws: Option<WorkspaceId>,
    /// A sentence for humans.
    pub detail: String,
}

impl Violation {
    /// `kind/sub`, the label `--find` matches.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.sub)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.label(), fmt_time(self.at))?;
        if let Some(p) = self.pass {
            write!(f, " in pass #{p}")?;
        }
        if let Some(ws) = &self.ws {
            write!(f, " on {ws}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

/// What the oracle needs to know about the run's rules.
#[derive(Clone, Debug)]
pub struct Rules {
    /// The pass deadline every variant is held to.
    pub pass_deadline: Duration,
    /// Slack on the deadline for the last write of a pass.
    pub overrun_tolerance: Duration,
    /// Worst-case time to process one row (probe plus writes), used to
    /// bound how many rows a pass can be expected to reach.
    pub per_row_cost: Duration,
    /// The candidate query's `LIMIT`.
    pub limit: u32,
    /// Extra passes granted beyond the capacity bound before a dead row
    /// counts as missed.
    pub liveness_slack: u64,
    /// A bound set by hand (a scenario's `missed_dead_bound`), replacing
    /// the computed one.
    pub fixed_liveness_bound: Option<u64>,
}

impl Rules {
    /// How many rows one pass can be relied on to process.
    pub fn pass_capacity(&self) -> u64 {
        let per_row = self.per_row_cost.as_millis().max(1);
        let by_time = (self.pass_deadline.as_millis() / per_row).max(1);
        u64::try_from(by_time)
            .unwrap_or(u64::MAX)
            .min(u64::from(self.limit))
    }

    /// Passes within which a dead, undisturbed row among `in_scope` rows
    /// must be flipped.
    pub fn liveness_bound(&self, in_scope: usize) -> u64 {
        if let Some(b) = self.fixed_liveness_bound {
            return b;
        }
        (in_scope as u64).div_ceil(self.pass_capacity()) + self.liveness_slack
    }
}

/// Runs every check over `trace`; violations in time order.
pub fn check(trace: &Trace, rules: &Rules) -> Vec<Violation> {
    let history = history::History::build(trace);
    let mut out = Vec::new();
    safety::check(&history, &mut out);
    liveness::check(&history, rules, &mut out);
    timeliness::check(&history, rules, &mut out);
    out.sort_by_key(|v| v.at);
    out
}
