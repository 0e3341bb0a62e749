//! This project's pass.
//!
//! It differs from the merged one in what it trusts, not in a guard added on
//! top:
//!
//! * it asks the control plane about the instance id the candidate query
//!   captured — never a re-resolved one — so the answer is about the row it
//!   would flip;
//! * only terminal states (`shutting-down`, `terminated`, not found) prove
//!   death; `pending`, `stopping` and `stopped` belong to a restart or a
//!   pause that is still in flight, and an empty or unknown state proves
//!   nothing;
//! * a "not found" answer may be the control plane not having seen a
//!   just-launched instance yet (cloud APIs are eventually consistent), so
//!   it proves death only for a row that nothing has written for
//!   `Config::not_found_quiet`; `shutting-down` and `terminated` are
//!   irreversible and cannot be stale in that direction, so they need no
//!   such wait;
//! * before the flip it claims the row with one compare-and-set write on
//!   (id, instance, live status, non-external runtime[, quiet]) — the
//!   platform's own Hibernate pattern — and only a claim that matched calls
//!   the offline handler, so no actor can slip in between a check and the
//!   flip, and the claimed row (now `offline`) is out of every later pass's
//!   and every other replica's scope while its restart runs;
//! * candidates are read in keyset pages by id, resuming after the last row
//!   processed (or at the row whose call the deadline cut short), so a slow
//!   control plane that lets a pass reach only part of the fleet delays
//!   every row by a bounded number of passes instead of starving the tail of
//!   `ORDER BY updated_at DESC` forever.

use tracing::{info, warn};

use crate::config::Config;
use crate::deadline::{Elapsed, PassDeadline};
use crate::model::{Candidate, Claim, InstanceState, WorkspaceId};
use crate::ports::{ControlPlane, OfflineHandler, Store};
use crate::query::{CandidateQuery, LIVE_STATUSES, Order};
use crate::report::{PassReport, SkipReason};

/// Where the next `hardened` pass resumes: after this workspace id, or from
/// the start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cursor(pub Option<WorkspaceId>);

/// One `hardened` pass; advances `cursor`.
pub(crate) async fn pass<S: Store, C: ControlPlane, H: OfflineHandler>(
    config: &Config,
    cursor: &mut Cursor,
    store: &S,
    cp: &C,
    handler: &H,
) -> PassReport {
    let mut report = PassReport::default();
    let deadline = PassDeadline::after(config.pass_deadline);
    let mut candidates = match read_page(config, cursor, store, &deadline, &mut report).await {
        Some(rows) => rows,
        None => return report,
    };
    if candidates.is_empty() && cursor.0.is_some() {
        info!("cursor past the last candidate; wrapping to the start");
        cursor.0 = None;
        candidates = match read_page(config, cursor, store, &deadline, &mut report).await {
            Some(rows) => rows,
            None => return report,
        };
    }
    let full_page = candidates.len() >= config.limit as usize;
    let total = candidates.len();
    for Candidate { id, instance } in candidates {
        if deadline.passed() {
            crate::pass::deadline_hit(&mut report, total);
            return report;
        }
        report.processed += 1;
        let resume_before = cursor.0.replace(id.clone());
        let Some(instance) = instance.filter(|i| !i.0.is_empty()) else {
            report.skipped.push((id, SkipReason::InstanceCleared));
            continue;
        };
        let answer = deadline
            .run(config.probe_timeout, cp.instance_state(&instance))
            .await;
        let quiet_for = match answer {
            Ok(Ok(InstanceState::NotFound)) => {
                info!(workspace = %id, instance = %instance, "probe answered: not found; dead if the row has been quiet");
                Some(config.not_found_quiet)
            }
            Ok(Ok(state)) if state.is_terminal() => {
                info!(workspace = %id, instance = %instance, %state, "probe answered: dead");
                None
            }
            Ok(Ok(InstanceState::Running)) => {
                info!(workspace = %id, instance = %instance, "probe answered: running");
                report.skipped.push((id, SkipReason::Running));
                continue;
            }
            Ok(Ok(state)) => {
                info!(workspace = %id, instance = %instance, %state, "probe answered: not terminal; skip");
                report.skipped.push((id, SkipReason::NotTerminal));
                continue;
            }
            Ok(Err(e)) => {
                warn!(workspace = %id, error = %e, "probe failed; fail-safe skip");
                report
                    .skipped
                    .push((id, SkipReason::ProbeError(e.to_string())));
                continue;
            }
            Err(Elapsed) => {
                warn!(workspace = %id, "probe timed out; fail-safe skip");
                report.skipped.push((id, SkipReason::ProbeTimeout));
                if retry_if_cut(&deadline, cursor, resume_before, &mut report, total) {
                    return report;
                }
                continue;
            }
        };
        let claim = Claim {
            id: id.clone(),
            instance,
            quiet_for,
        };
        match deadline
            .run(config.reconfirm_timeout, store.claim(&claim))
            .await
        {
            Ok(Ok(true)) => {
                info!(workspace = %id, instance = %claim.instance, "flip: claim matched; calling the offline handler");
                handler.on_offline(&id, Some(&claim.instance)).await;
                report.flipped.push(id);
            }
            Ok(Ok(false)) => {
                info!(workspace = %id, "flip: claim matched no row (row changed or not quiet); skip");
                report.skipped.push((id, SkipReason::GuardRejected));
            }
            Ok(Err(e)) => {
                warn!(workspace = %id, error = %e, "flip: claim failed; skip");
                report
                    .skipped
                    .push((id, SkipReason::FlipError(e.to_string())));
            }
            Err(Elapsed) => {
                warn!(workspace = %id, "flip: claim timed out; skip");
                report
                    .skipped
                    .push((id, SkipReason::FlipError("timed out".to_owned())));
                if retry_if_cut(&deadline, cursor, resume_before, &mut report, total) {
                    return report;
                }
            }
        }
    }
    if !full_page {
        cursor.0 = None;
    }
    report
}

/// After a call timed out: if it was the pass deadline (not the call's own
/// limit) that cut it short, the row is undecided, so the next pass resumes
/// *at* it rather than after it, and this pass ends. Without this, a control
/// plane with steady latency puts the same rows at the deadline every cycle
/// (the passes line up the same way each time round the fleet) and they
/// never get an answer. The first row of a pass always advances the cursor,
/// so every pass makes progress even if a single call cannot fit in it.
fn retry_if_cut(
    deadline: &PassDeadline,
    cursor: &mut Cursor,
    resume_before: Option<WorkspaceId>,
    report: &mut PassReport,
    total: usize,
) -> bool {
    if !deadline.passed() || report.processed < 2 {
        return false;
    }
    info!("the pass deadline cut the last row short; the next pass resumes at it");
    cursor.0 = resume_before;
    crate::pass::deadline_hit(report, total);
    true
}

async fn read_page<S: Store>(
    config: &Config,
    cursor: &Cursor,
    store: &S,
    deadline: &PassDeadline,
    report: &mut PassReport,
) -> Option<Vec<Candidate>> {
    let query = CandidateQuery {
        statuses: LIVE_STATUSES,
        capture_instance: true,
        order: Order::IdAfter(cursor.0.clone()),
        limit: config.limit,
    };
    crate::pass::read_candidates(store, &query, deadline, report).await
}
