//! The pass as merged in PR #2283, faithfully.
//!
//! Online and degraded rows, the instance id captured by the query, a 45 s
//! cycle deadline that covers the candidate query and from which the
//! per-call timeouts derive, `IsRunning` (which still re-resolves the
//! instance by workspace id), and a re-confirm read before `onOffline`,
//! which writes no status.

use tracing::info;

use crate::config::Config;
use crate::deadline::PassDeadline;
use crate::is_running::is_running;
use crate::model::{Candidate, InstanceId};
use crate::ports::{ControlPlane, OfflineHandler, Store};
use crate::query::{CandidateQuery, LIVE_STATUSES, Order};
use crate::report::{PassReport, SkipReason};

/// One `pr2283` pass.
pub(crate) async fn pass<S: Store, C: ControlPlane, H: OfflineHandler>(
    config: &Config,
    store: &S,
    cp: &C,
    handler: &H,
) -> PassReport {
    let query = CandidateQuery {
        statuses: LIVE_STATUSES,
        capture_instance: true,
        order: Order::UpdatedAtDesc,
        limit: config.limit,
    };
    let mut report = PassReport::default();
    let deadline = PassDeadline::after(config.pass_deadline);
    let Some(candidates) =
        crate::pass::read_candidates(store, &query, &deadline, &mut report).await
    else {
        return report;
    };
    let total = candidates.len();
    for Candidate { id, instance } in candidates {
        if deadline.passed() {
            crate::pass::deadline_hit(&mut report, total);
            break;
        }
        report.processed += 1;
        let probe = deadline
            .run(config.probe_timeout, is_running(store, cp, &id))
            .await;
        match crate::pass::classify_probe(&id, probe) {
            Ok(true) => {
                report.skipped.push((id, SkipReason::Running));
                continue;
            }
            Err(reason) => {
                report.skipped.push((id, reason));
                continue;
            }
            Ok(false) => {}
        }
        let captured = instance.unwrap_or_else(|| InstanceId(String::new()));
        let reconfirm = deadline
            .run(config.reconfirm_timeout, store.reconfirm(&id))
            .await;
        let verdict = match reconfirm {
            Err(_) => Err(SkipReason::ReconfirmError("timed out".to_owned())),
            Ok(Err(e)) => Err(SkipReason::ReconfirmError(e.to_string())),
            Ok(Ok(None)) => Err(SkipReason::RowGone),
            Ok(Ok(Some(row))) if !row.status.is_live() => {
                Err(SkipReason::StatusMoved(row.status.to_string()))
            }
            Ok(Ok(Some(row))) if row.instance.0.is_empty() => Err(SkipReason::InstanceCleared),
            Ok(Ok(Some(row))) if row.instance != captured => {
                Err(SkipReason::InstanceChanged(row.instance.0))
            }
            Ok(Ok(Some(_))) => Ok(()),
        };
        match verdict {
            Ok(()) => {
                info!(workspace = %id, instance = %captured, "re-confirm: unchanged");
                crate::legacy::flip(handler, id, &mut report).await;
            }
            Err(reason) => {
                info!(workspace = %id, ?reason, "re-confirm: skip");
                report.skipped.push((id, reason));
            }
        }
    }
    report
}
