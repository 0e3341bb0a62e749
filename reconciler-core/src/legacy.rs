//! The pass as it was before PR #2283.
//!
//! `status = 'online'` only, the id alone selected, no re-confirm, no cycle
//! deadline: `IsRunning`'s `(false, nil)` flips at once.

use tracing::info;

use crate::config::Config;
use crate::deadline::PassDeadline;
use crate::is_running::is_running;
use crate::model::WorkspaceId;
use crate::ports::{ControlPlane, OfflineHandler, Store};
use crate::query::{CandidateQuery, LEGACY_STATUSES, Order};
use crate::report::{PassReport, SkipReason};

/// One `legacy` pass.
pub(crate) async fn pass<S: Store, C: ControlPlane, H: OfflineHandler>(
    config: &Config,
    store: &S,
    cp: &C,
    handler: &H,
) -> PassReport {
    let query = CandidateQuery {
        statuses: LEGACY_STATUSES,
        capture_instance: false,
        order: Order::UpdatedAtDesc,
        limit: config.limit,
    };
    let mut report = PassReport::default();
    let no_deadline = PassDeadline::none();
    let Some(candidates) =
        crate::pass::read_candidates(store, &query, &no_deadline, &mut report).await
    else {
        return report;
    };
    for candidate in candidates {
        report.processed += 1;
        let id = candidate.id;
        let probe = no_deadline
            .run(config.probe_timeout, is_running(store, cp, &id))
            .await;
        match crate::pass::classify_probe(&id, probe) {
            Ok(true) => report.skipped.push((id, SkipReason::Running)),
            Err(reason) => report.skipped.push((id, reason)),
            Ok(false) => flip(handler, id, &mut report).await,
        }
    }
    report
}

/// The merged flip: `onOffline(ctx, workspace_id)` and nothing else. The
/// platform's handler records the event and starts the restart; no status is
/// written, so the row stays in scope until the restart writes
/// `provisioning`.
pub(crate) async fn flip<H: OfflineHandler>(handler: &H, id: WorkspaceId, report: &mut PassReport) {
    info!(workspace = %id, "flip: calling the offline handler");
    handler.on_offline(&id, None).await;
    report.flipped.push(id);
}
