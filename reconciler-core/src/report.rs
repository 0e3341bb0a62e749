//! What one pass did, in the reconciler's own words.
//!
//! This is the reconciler's *belief*. The harness's oracle never reads it; it
//! exists for logs, for the loop's observer, and for unit tests of the core.

use crate::model::WorkspaceId;

/// Why a candidate was not flipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The probe said the instance runs.
    Running,
    /// `hardened`: the instance is in a state it can leave (pending,
    /// stopping, stopped), so it is not proven dead.
    NotTerminal,
    /// The probe failed (store lookup, transport, non-2xx, decode).
    ProbeError(String),
    /// The probe did not answer within its timeout.
    ProbeTimeout,
    /// Re-confirm: the row is gone.
    RowGone,
    /// Re-confirm: the status left online/degraded.
    StatusMoved(String),
    /// Re-confirm: the instance id is now NULL or empty.
    InstanceCleared,
    /// Re-confirm: the instance id differs from the captured one.
    InstanceChanged(String),
    /// Re-confirm failed or timed out.
    ReconfirmError(String),
    /// `hardened`: the guarded write matched no row.
    GuardRejected,
    /// The flip's write failed or timed out.
    FlipError(String),
}

/// The outcome of one pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Rows the candidate query returned.
    pub candidates: usize,
    /// Rows processed before the pass ended.
    pub processed: usize,
    /// Rows flipped offline, in order.
    pub flipped: Vec<WorkspaceId>,
    /// Rows left alone, with the reason, in order.
    pub skipped: Vec<(WorkspaceId, SkipReason)>,
    /// The pass stopped at its deadline with rows left.
    pub deadline_hit: bool,
    /// The candidate query failed, so nothing was done.
    pub query_failed: bool,
}
