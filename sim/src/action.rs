//! What the world's actors can do: every adversary and fault.
//!
//! An [`Action`] is a value so that the same vocabulary serves the random
//! scheduler, the YAML scripts and the shrinker, and so that a trace line can
//! name exactly what happened.

use std::fmt;

use reconciler_core::{InstanceId, Status, WorkspaceId};

/// How an injected control-plane failure shows up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CpFailure {
    /// Connection refused or reset.
    Transport,
    /// HTTP 5xx.
    Status5xx,
    /// A 2xx body that does not decode.
    Garbage,
}

impl fmt::Display for CpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CpFailure::Transport => "transport",
            CpFailure::Status5xx => "5xx",
            CpFailure::Garbage => "garbage",
        })
    }
}

/// One thing an actor does to the world, at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A concurrent `DELETE` of the row.
    Delete(WorkspaceId),
    /// The orphan sweeper sets `instance_id` to NULL.
    OrphanSweep(WorkspaceId),
    /// Some writer sets `instance_id` to the empty string.
    ClearInstance(WorkspaceId),
    /// A restart: the old instance is terminated, a new one launched
    /// (booting through `pending`), the status moves to `provisioning`, and
    /// back to `online` when the new instance runs.
    Reprovision(WorkspaceId),
    /// The heartbeat handler marks the workspace degraded (bumps
    /// `updated_at`).
    Degrade(WorkspaceId),
    /// The heartbeat handler marks the workspace online again (bumps
    /// `updated_at`).
    Recover(WorkspaceId),
    /// Pause/hibernate: status `paused`, the instance is stopped (same id).
    Pause(WorkspaceId),
    /// Resume: the same instance is started and the status returns to
    /// `online` at once, while the instance is still `pending`.
    Resume(WorkspaceId),
    /// Any writer sets the status.
    SetStatus(WorkspaceId, Status),
    /// The cloud terminates the instance (spot reclaim, manual action).
    Terminate(InstanceId),
    /// The cloud stops the instance.
    Stop(InstanceId),
    /// The cloud starts a stopped instance (same id).
    Start(InstanceId),
    /// The control plane answers every request with this latency (ms) for
    /// a while.
    CpSlow {
        /// Latency of each request, in milliseconds.
        latency_ms: u64,
        /// How long the slowness lasts, in milliseconds.
        for_ms: u64,
    },
    /// The next `count` control-plane requests fail.
    CpError {
        /// How many requests fail.
        count: u32,
        /// How they fail.
        kind: CpFailure,
    },
    /// The control plane is unreachable (requests hang) for a while.
    CpPartition {
        /// How long, in milliseconds.
        for_ms: u64,
    },
    /// The next `count` store calls fail.
    DbError {
        /// How many calls fail.
        count: u32,
    },
}

impl Action {
    /// The workspace this action is about, if any (for "interference"
    /// accounting and for shrinking).
    pub fn workspace(&self) -> Option<&WorkspaceId> {
        match self {
            Action::Delete(w)
            | Action::OrphanSweep(w)
            | Action::ClearInstance(w)
            | Action::Reprovision(w)
            | Action::Degrade(w)
            | Action::Recover(w)
            | Action::Pause(w)
            | Action::Resume(w)
            | Action::SetStatus(w, _) => Some(w),
            _ => None,
        }
    }

    /// True for faults of the system itself (control plane, store), as
    /// opposed to actors changing rows or instances.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            Action::CpSlow { .. }
                | Action::CpError { .. }
                | Action::CpPartition { .. }
                | Action::DbError { .. }
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Delete(w) => write!(f, "delete {w}"),
            Action::OrphanSweep(w) => write!(f, "orphan_sweep {w}"),
            Action::ClearInstance(w) => write!(f, "clear_instance {w}"),
            Action::Reprovision(w) => write!(f, "reprovision {w}"),
            Action::Degrade(w) => write!(f, "degrade {w}"),
            Action::Recover(w) => write!(f, "recover {w}"),
            Action::Pause(w) => write!(f, "pause {w}"),
            Action::Resume(w) => write!(f, "resume {w}"),
            Action::SetStatus(w, s) => write!(f, "set_status {w} {s}"),
            Action::Terminate(i) => write!(f, "terminate {i}"),
            Action::Stop(i) => write!(f, "stop {i}"),
            Action::Start(i) => write!(f, "start {i}"),
            Action::CpSlow { latency_ms, for_ms } => {
                write!(f, "cp_slow {latency_ms}ms for {for_ms}ms")
            }
            Action::CpError { count, kind } => write!(f, "cp_error {count} {kind}"),
            Action::CpPartition { for_ms } => write!(f, "cp_partition for {for_ms}ms"),
            Action::DbError { count } => write!(f, "db_error {count}"),
        }
    }
}
