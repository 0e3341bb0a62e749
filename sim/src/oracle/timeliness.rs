//! Timeliness: passes end by their deadline.

use super::history::History;
use super::{Kind, Rules, Violation};
use crate::row::fmt_time;

/// `cycle_overrun` — a pass that returned more than `pass_deadline +
/// overrun_tolerance` after it started. The tolerance covers the last
/// write, which the merged reconciler issues without a deadline.
pub fn check(history: &History, rules: &Rules, out: &mut Vec<Violation>) {
    let limit = rules.pass_deadline + rules.overrun_tolerance;
    for pass in &history.passes {
        let Some(end) = pass.end else { continue };
        let took = end - pass.start;
        if took > limit {
            out.push(Violation {
                kind: Kind::CycleOverrun,
                sub: "past_deadline",
                at: end,
                pass: Some(pass.n),
                ws: None,
                detail: format!(
                    "the pass took {} (deadline {})",
                    fmt_time(took),
                    fmt_time(rules.pass_deadline)
                ),
            });
        }
    }
}
