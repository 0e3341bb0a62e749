//! Timeliness: passes end by their deadline.

use std::time::Duration;

use super::pass::Pass;
use super::{Rules, Sub, Violation};
use crate::row::fmt_time;

/// `cycle_overrun` — a pass that returned more than `pass_deadline +
/// overrun_tolerance` after it started. The tolerance covers the last
/// call, which may start just before the deadline.
pub fn check(pass: &Pass, end: Duration, rules: &Rules, out: &mut Vec<Violation>) {
    let took = end - pass.start;
    if took > rules.pass_deadline + rules.overrun_tolerance {
        out.push(Violation {
            sub: Sub::PastDeadline,
            at: end,
            pass: Some((pass.r, pass.n)),
            ws: None,
            detail: format!(
                "the pass took {} (deadline {})",
                fmt_time(took),
                fmt_time(rules.pass_deadline)
            ),
            evidence: Vec::new(),
        });
    }
}
