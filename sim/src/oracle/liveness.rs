//! Liveness: dead workspaces do not stay online forever.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reconciler_core::WorkspaceId;

use super::pass::Pass;
use super::{Rules, Sub, Violation};
use crate::trace::Replica;

/// Per replica and dead row: the undisturbed passes that did not reach it
/// so far, and the most rows in scope at any of their starts.
#[derive(Default)]
pub struct Liveness {
    streaks: BTreeMap<(Replica, WorkspaceId), (u64, usize)>,
    reported: BTreeSet<WorkspaceId>,
}

impl Liveness {
    /// `missed_dead` — a workspace that, at the start of each of more than
    /// `bound` consecutive passes of one replica, was in scope with a
    /// terminal instance, that no actor touched from the start of the
    /// replica's previous pass to the end of this one, whose store reads and
    /// probe did not fail (an error, its own timeout, or an empty or unknown
    /// answer) in the pass, and that no flip (by any replica) reached during
    /// it. A probe the pass's *own deadline* cut short is not a failure: the
    /// row is simply still undecided, so a row the deadline keeps cutting is
    /// missed like one never reached. `bound` is `ceil(in_scope / capacity) +
    /// slack`, where `in_scope` is the most rows in scope at the start of
    /// any of those passes and `capacity` how many rows a pass can process
    /// before its deadline at the run's worst per-row cost (capped by
    /// `LIMIT`): a fair reconciler reaches every row within it. A pass whose
    /// candidate query failed does not count. The sub-reason says whether
    /// the row was `degraded_row` (MED-3's case) or `online_row`.
    pub fn pass_end(
        &mut self,
        pass: &Pass,
        end: Duration,
        rules: &Rules,
        touched_at: &BTreeMap<WorkspaceId, Duration>,
        flipped_at: &BTreeMap<WorkspaceId, Duration>,
        out: &mut Vec<Violation>,
    ) {
        let mut still: BTreeSet<&WorkspaceId> = BTreeSet::new();
        for (ws, degraded) in &pass.at_start.dead {
            let touched = touched_at.get(ws).is_some_and(|t| *t >= pass.since);
            let reached = flipped_at.get(ws).is_some_and(|t| *t >= pass.start);
            let failed = pass.select_failed
                || pass.failed_reads.contains(ws)
                || pass
                    .probed_instance(ws)
                    .is_some_and(|i| pass.failed_probes.contains(i));
            let key = (pass.r, ws.clone());
            if touched || reached || failed {
                self.streaks.remove(&key);
                continue;
            }
            still.insert(ws);
            let (count, fleet) = self.streaks.get(&key).copied().unwrap_or((0, 0));
            let (count, fleet) = (count + 1, fleet.max(pass.at_start.in_scope));
            self.streaks.insert(key, (count, fleet));
            let bound = rules.liveness_bound(fleet);
            if count > bound && self.reported.insert(ws.clone()) {
                out.push(Violation {
                    sub: if *degraded { Sub::DegradedRow } else { Sub::OnlineRow },
                    at: end,
                    pass: Some((pass.r, pass.n)),
                    ws: Some(ws.clone()),
                    detail: format!(
                        "dead and in scope for {count} undisturbed passes of {} (bound {bound}: up to {fleet} rows in scope, {} rows per pass)",
                        pass.r,
                        rules.pass_capacity()
                    ),
                    evidence: Vec::new(),
                });
            }
        }
        // Rows no longer dead and in scope at this replica's start lose
        // their streak.
        self.streaks
            .retain(|(r, ws), _| *r != pass.r || still.contains(ws));
    }
}
