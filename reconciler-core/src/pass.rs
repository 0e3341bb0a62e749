//! Pieces every variant's pass shares: reading candidates and turning a
//! probe outcome into a decision, each with its tracing event.

use tracing::{info, warn};

use crate::deadline::{Elapsed, PassDeadline};
use crate::model::{Candidate, WorkspaceId};
use crate::ports::Store;
use crate::query::CandidateQuery;
use crate::report::{PassReport, SkipReason};

/// Runs the candidate query under the cycle's deadline (the merged code
/// issues it with the cycle context); on error or timeout records it and
/// returns `None` (the pass ends: nothing probed, nothing flipped).
pub(crate) async fn read_candidates<S: Store>(
    store: &S,
    query: &CandidateQuery,
    deadline: &PassDeadline,
    report: &mut PassReport,
) -> Option<Vec<Candidate>> {
    match deadline.bound(store.candidates(query)).await {
        Err(Elapsed) => {
            warn!("candidate query cut by the pass deadline; pass ends");
            report.query_failed = true;
            report.deadline_hit = true;
            None
        }
        Ok(Ok(rows)) => {
            info!(count = rows.len(), limit = query.limit, "candidates read");
            report.candidates = rows.len();
            Some(rows)
        }
        Ok(Err(e)) => {
            warn!(error = %e, "candidate query failed; pass ends");
            report.query_failed = true;
            None
        }
    }
}

/// Maps `IsRunning`'s result under a timeout to running / not running /
/// skip, logging the answer.
pub(crate) fn classify_probe(
    id: &WorkspaceId,
    probe: Result<Result<bool, String>, Elapsed>,
) -> Result<bool, SkipReason> {
    match probe {
        Ok(Ok(running)) => {
            info!(workspace = %id, running, "probe answered");
            Ok(running)
        }
        Ok(Err(e)) => {
            warn!(workspace = %id, error = %e, "probe failed; fail-safe skip");
            Err(SkipReason::ProbeError(e))
        }
        Err(Elapsed) => {
            warn!(workspace = %id, "probe timed out; fail-safe skip");
            Err(SkipReason::ProbeTimeout)
        }
    }
}

/// Logs a deadline hit with the counts the reference logs.
pub(crate) fn deadline_hit(report: &mut PassReport, total: usize) {
    report.deadline_hit = true;
    warn!(
        processed = report.processed,
        skipped = total - report.processed,
        "pass deadline hit; backlog deferred to the next pass"
    );
}
