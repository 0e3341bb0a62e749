//! What the world's actors can do: every owner and platform flow, every
//! single-step writer, the cloud's own moves and every fault.
//!
//! An [`Action`] is a value so that the same vocabulary serves the random
//! scheduler, the YAML scripts and the shrinker, and so that a trace line can
//! name exactly what happened. Each action belongs to one actor, whose
//! module under [`crate::actors`] says how it is written in a scenario, how
//! the swarm picks its target and what it does to the world.

use std::fmt;

use reconciler_core::{InstanceId, Status, WorkspaceId};

/// How an injected control-plane failure shows up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpFailure {
    /// Connection refused or reset.
    Transport,
    /// HTTP 5xx.
    Status5xx,
    /// A 2xx body that does not decode.
    Garbage,
    /// A 2xx body that decodes to an empty state (`{}`, `null`): the merged
    /// client reads it as "not running", without error.
    EmptyState,
    /// A 2xx body whose state is a word the client does not know.
    UnknownState,
    /// A 2xx whose body is JSON `null` (wire-level): decodes, like `{}`, to
    /// an empty state.
    NullBody,
    /// A 2xx whose body stops short of its `Content-Length`, the connection
    /// then closed (wire-level): a transport error.
    Truncated,
    /// The connection reset right after a 2xx's headers (wire-level): a
    /// transport error that, part of the answer having come, is not sent
    /// again on another connection.
    ResetAfterHeaders,
    /// A 2xx whose body comes [`SLOW_BODY`] after its headers
    /// (wire-level): past the client's 10 s cap.
    SlowBody,
}

/// How late a [`CpFailure::SlowBody`] body comes after its headers.
pub const SLOW_BODY: std::time::Duration = std::time::Duration::from_secs(11);

impl CpFailure {
    /// Every failure, in a stable order.
    pub const ALL: [CpFailure; 5] = [
        CpFailure::Transport,
        CpFailure::Status5xx,
        CpFailure::Garbage,
        CpFailure::EmptyState,
        CpFailure::UnknownState,
    ];

    /// The wire-level failures, which only the network mode draws at
    /// random (`--net turmoil`); a scenario may inject them in either mode,
    /// the in-process control plane answering what the client makes of
    /// them.
    pub const WIRE: [CpFailure; 4] = [
        CpFailure::NullBody,
        CpFailure::Truncated,
        CpFailure::ResetAfterHeaders,
        CpFailure::SlowBody,
    ];

    /// The word scenario files use.
    pub fn as_str(self) -> &'static str {
        match self {
            CpFailure::Transport => "transport",
            CpFailure::Status5xx => "5xx",
            CpFailure::Garbage => "garbage",
            CpFailure::EmptyState => "empty",
            CpFailure::UnknownState => "unknown",
            CpFailure::NullBody => "null",
            CpFailure::Truncated => "truncated",
            CpFailure::ResetAfterHeaders => "reset-after-headers",
            CpFailure::SlowBody => "slow-body",
        }
    }

    /// Parses the word scenario files use.
    pub fn parse(s: &str) -> Option<Self> {
        CpFailure::ALL
            .into_iter()
            .chain(CpFailure::WIRE)
            .find(|f| f.as_str() == s)
    }

    /// True for the 2xx answers that decode: the ones the merged client does
    /// not treat as an error.
    pub fn decodes(self) -> bool {
        matches!(
            self,
            CpFailure::EmptyState | CpFailure::UnknownState | CpFailure::NullBody
        )
    }
}

impl fmt::Display for CpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing an actor does to the world, at one instant. Multi-step flows
/// start here and go on as the platform runs them (`crate::platform`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// The owner's manual restart: Stop; `provisioning`; provision in the
    /// background (not coalesced with `RestartByID`).
    Restart(WorkspaceId),
    /// The owner pauses: Stop; `paused`.
    Pause(WorkspaceId),
    /// The owner resumes a paused workspace: `provisioning`; provision.
    Resume(WorkspaceId),
    /// The platform hibernates: the guarded claim `hibernating`; Stop;
    /// `hibernated`.
    Hibernate(WorkspaceId),
    /// The owner's soft delete: `removed`; Stop.
    Delete(WorkspaceId),
    /// A hard `DELETE` of the row (an admin purge): the re-confirm's "row
    /// gone".
    Purge(WorkspaceId),
    /// The control plane's orphan sweeper sets `instance_id` to NULL.
    OrphanSweep(WorkspaceId),
    /// Some writer sets `instance_id` to the empty string.
    ClearInstance(WorkspaceId),
    /// A heartbeat arrives, or fails to: the heartbeat handler decides from
    /// whether the workspace's agent (its instance) is running.
    Heartbeat(WorkspaceId),
    /// The heartbeat handler marks the workspace degraded (bumps
    /// `updated_at`).
    Degrade(WorkspaceId),
    /// The heartbeat handler marks the workspace online again (bumps
    /// `updated_at`).
    Recover(WorkspaceId),
    /// Any writer sets the status (bumps `updated_at`).
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
    /// The next `count` instance-state requests fail.
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
    /// The next `count` store calls (the reconciler's or the platform's)
    /// fail.
    DbError {
        /// How many calls fail.
        count: u32,
    },
}

impl Action {
    /// The workspace this action is about, if any (for "interference"
    /// accounting, scenario checks and shrinking).
    pub fn workspace(&self) -> Option<&WorkspaceId> {
        match self {
            Action::Restart(w)
            | Action::Pause(w)
            | Action::Resume(w)
            | Action::Hibernate(w)
            | Action::Delete(w)
            | Action::Purge(w)
            | Action::OrphanSweep(w)
            | Action::ClearInstance(w)
            | Action::Heartbeat(w)
            | Action::Degrade(w)
            | Action::Recover(w)
            | Action::SetStatus(w, _) => Some(w),
            _ => None,
        }
    }

    /// The instance this action is about, if any.
    pub fn instance(&self) -> Option<&InstanceId> {
        match self {
            Action::Terminate(i) | Action::Stop(i) | Action::Start(i) => Some(i),
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
    /// The scenario language's text for the action; `syntax::parse_action`
    /// reads it back (a test checks every verb).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Restart(w) => write!(f, "restart {w}"),
            Action::Pause(w) => write!(f, "pause {w}"),
            Action::Resume(w) => write!(f, "resume {w}"),
            Action::Hibernate(w) => write!(f, "hibernate {w}"),
            Action::Delete(w) => write!(f, "delete {w}"),
            Action::Purge(w) => write!(f, "purge {w}"),
            Action::OrphanSweep(w) => write!(f, "orphan_sweep {w}"),
            Action::ClearInstance(w) => write!(f, "clear_instance {w}"),
            Action::Heartbeat(w) => write!(f, "heartbeat {w}"),
            Action::Degrade(w) => write!(f, "degrade {w}"),
            Action::Recover(w) => write!(f, "recover {w}"),
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
