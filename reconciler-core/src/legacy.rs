//! The pass as it was before PR #2283.
//!
//! `status = 'online'` only, the id alone selected, no re-confirm, no cycle
//! deadline: `IsRunning`'s `(false, nil)` flips at once.

use tracing::{info, warn};

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
    let Some(candidates) = crate::pass::read_candidates(store, &query, &mut report).await else {
        return report;
    };
    let no_deadline = PassDeadline::none();
    for candidate in candidates {
        report.processed += 1;
        let id = candidate.id;
        let probe = no_deadline
            .run(config.probe_timeout, is_running(store, cp, &id))
            .await;
        match crate::pass::classify_probe(&id, probe) {
            Ok(true) => report.skipped.push((id, SkipReason::Running)),
            Err(reason) => report.skipped.push((id, reason)),
            Ok(false) => flip(store, handler, id, &mut report).await,
        }
    }
    report
}

/// The reference flip: `onOffline`'s unconditional write, then the restart.
pub(crate) async fn flip<S: Store, H: OfflineHandler>(
    store: &S,
    handler: &H,
    id: WorkspaceId,
    report: &mut PassReport,
) {
    match store.mark_offline(&id).await {
        Ok(()) => {
            info!(workspace = %id, "flip: marked offline, restart requested");
            handler.on_offline(&id).await;
            report.flipped.push(id);
        }
        Err(e) => {
            warn!(workspace = %id, error = %e, "flip: write failed");
            report
                .skipped
                .push((id, SkipReason::FlipError(e.to_string())));
        }
    }
}
