//! Liveness: dead workspaces do not stay online forever.

use indexmap::IndexMap;
use reconciler_core::WorkspaceId;

use super::history::History;
use super::{Kind, Rules, Violation};

/// `missed_dead` — a workspace that, at the start of each of more than
/// `bound` consecutive passes, was in scope with a terminal instance, and
/// that no actor touched, whose probe and reads did not fail, and which no
/// flip reached in any of those passes. `bound` is
/// `ceil(in_scope / capacity) + slack`, where `in_scope` is the most rows in
/// scope at the start of any of those passes, `capacity` is how many rows
/// a pass can process before its deadline at the run's worst per-row cost
/// (capped by `LIMIT`): a fair reconciler reaches every row within it.
/// A pass whose candidate query failed does not count. The sub-reason says
/// whether the row was `degraded_row` (MED-3's case) or `online_row`.
pub fn check(history: &History, rules: &Rules, out: &mut Vec<Violation>) {
    // Per dead row: undisturbed passes so far, and the most rows in scope
    // at any of their starts (the fleet a fair reconciler had to get
    // through).
    let mut streak: IndexMap<&WorkspaceId, (u64, usize)> = IndexMap::new();
    let mut reported: Vec<&WorkspaceId> = Vec::new();
    for pass in &history.passes {
        let flipped: Vec<&WorkspaceId> = pass.flips.iter().map(|f| f.ws).collect();
        let mut next: IndexMap<&WorkspaceId, (u64, usize)> = IndexMap::new();
        for &ws in &pass.at_start.dead {
            let undisturbed = !pass.disturbed.contains(ws)
                && !pass.read_failed(ws)
                && !pass.select_failed
                && pass
                    .probed_instance(ws)
                    .is_none_or(|i| !pass.probe_failed(i));
            if !undisturbed || flipped.contains(&ws) || pass.end.is_none() {
                continue;
            }
            let (count, fleet) = streak.get(ws).copied().unwrap_or((0, 0));
            let (count, fleet) = (count + 1, fleet.max(pass.at_start.in_scope));
            let bound = rules.liveness_bound(fleet);
            if count > bound && !reported.contains(&ws) {
                reported.push(ws);
                out.push(Violation {
                    kind: Kind::MissedDead,
                    sub: if pass.at_start.degraded.contains(&ws) { "degraded_row" } else { "online_row" },
                    at: pass.end.unwrap_or(pass.start),
                    pass: Some(pass.n),
                    ws: Some(ws.clone()),
                    detail: format!(
                        "dead and in scope for {count} undisturbed passes (bound {bound}: up to {fleet} rows in scope, {} rows per pass)",
                        rules.pass_capacity()
                    ),
                });
            }
            next.insert(ws, (count, fleet));
        }
        streak = next;
    }
}
