//! The values the reconciler reads and writes: workspace rows as the
//! candidate query and the re-confirm see them, and instance states as the
//! control plane reports them.

use std::fmt;

/// A workspace's primary key, as `id::text` returns it.
///
/// A newtype so that a workspace id can never be passed where an instance id
/// is expected: mixing the two up is exactly the class of bug PR #2283 fixed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkspaceId(pub String);

/// A cloud instance id as stored in `workspaces.instance_id`.
///
/// Kept distinct from [`WorkspaceId`] for the same reason; the empty string is
/// a legal stored value (and means "no instance"), so no invariant is imposed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(pub String);

impl fmt::Display for WorkspaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for WorkspaceId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<&str> for InstanceId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// `workspaces.status`, the values the reconciler and its racing actors use.
///
/// Unknown values survive as [`Status::Other`] so that a real database with
/// statuses this crate has never heard of is still read faithfully (and is,
/// correctly, never in scope).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Serving; in scope for every variant.
    Online,
    /// Heartbeats are late; in scope for `pr2283` and `hardened` only.
    Degraded,
    /// Written by the platform's Redis liveness monitor, and by `hardened`'s
    /// claim; the merged reconciler writes no status at all.
    Offline,
    /// A restart, resume or reprovision is booting a new instance.
    Provisioning,
    /// Paused by its owner; the instance is stopped on purpose.
    Paused,
    /// The Hibernate flow's guarded claim, held while it stops the instance.
    Hibernating,
    /// Hibernated by the platform; the instance is stopped on purpose.
    Hibernated,
    /// Soft-deleted: the row stays, its instance is stopped.
    Removed,
    /// Any other stored value.
    Other(String),
}

impl Status {
    /// The text stored in the `status` column.
    pub fn as_str(&self) -> &str {
        match self {
            Status::Online => "online",
            Status::Degraded => "degraded",
            Status::Offline => "offline",
            Status::Provisioning => "provisioning",
            Status::Paused => "paused",
            Status::Hibernating => "hibernating",
            Status::Hibernated => "hibernated",
            Status::Removed => "removed",
            Status::Other(s) => s,
        }
    }

    /// Parses stored text; never fails, see [`Status::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "online" => Status::Online,
            "degraded" => Status::Degraded,
            "offline" => Status::Offline,
            "provisioning" => Status::Provisioning,
            "paused" => Status::Paused,
            "hibernating" => Status::Hibernating,
            "hibernated" => Status::Hibernated,
            "removed" => Status::Removed,
            other => Status::Other(other.to_owned()),
        }
    }

    /// True for the statuses a re-confirm or a guarded flip accepts.
    pub fn is_live(&self) -> bool {
        matches!(self, Status::Online | Status::Degraded)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the control plane says about one instance, and (but for
/// [`InstanceState::Unrecognized`]) the states a cloud instance can be in.
///
/// `NotFound` is kept apart from the states because the merged `IsRunning`
/// treats it as an HTTP error (non-2xx) while `hardened` treats it as proof of
/// death once confirmed; the difference is one of the rows in the variant
/// table. `Unrecognized` is the one answer that is never a real state: a 2xx
/// body whose `state` is empty (`{}` and `null` decode to it) or a word the
/// client does not know, which the merged `IsRunning` reads as "not running,
/// no error".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceState {
    /// Booting (new, or restarting after a stop).
    Pending,
    /// Up.
    Running,
    /// On its way to `Stopped`.
    Stopping,
    /// Stopped; a start brings the same instance id back through `Pending`.
    Stopped,
    /// On its way to `Terminated`; irreversible.
    ShuttingDown,
    /// Gone for good; the id is never reused.
    Terminated,
    /// The cloud does not know the id (never existed, or reaped after
    /// termination); on the wire, HTTP 404.
    NotFound,
    /// A 2xx answer whose `state` is empty or unknown; never a real state.
    Unrecognized,
}

impl InstanceState {
    /// Every answer, for tests and generators that must cover them all.
    pub const ALL: [InstanceState; 8] = [
        InstanceState::Pending,
        InstanceState::Running,
        InstanceState::Stopping,
        InstanceState::Stopped,
        InstanceState::ShuttingDown,
        InstanceState::Terminated,
        InstanceState::NotFound,
        InstanceState::Unrecognized,
    ];

    /// True when the instance can never run again: the only states that
    /// prove a workspace dead.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            InstanceState::ShuttingDown | InstanceState::Terminated | InstanceState::NotFound
        )
    }

    /// The control plane's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
            InstanceState::NotFound => "not-found",
            InstanceState::Unrecognized => "unrecognized",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for InstanceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row returned by the candidate query.
///
/// `instance` is `None` for `legacy`, whose query selected the id only: that
/// missing capture is the root of the HIGH-1 TOCTOU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The workspace.
    pub id: WorkspaceId,
    /// The instance id the query saw, when the query selects it.
    pub instance: Option<InstanceId>,
}

/// The re-confirm read: `SELECT status, COALESCE(instance_id, '')`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowView {
    /// The current status.
    pub status: Status,
    /// The current instance id, `""` when NULL or empty.
    pub instance: InstanceId,
}

/// The compare-and-set with which `hardened` claims a row before it calls
/// the offline handler — the platform's own Hibernate pattern.
///
/// The store must set `status = 'offline'` only if, atomically, the row still
/// has this id, this (non-empty) instance, a live status and a runtime other
/// than `external`, and — when `quiet_for` is set — an `updated_at` at least
/// that old by the store's own clock; it reports whether it wrote. Taking the row out of the
/// candidate scope is what stops a later pass (or another replica) from
/// flipping it again while the restart it starts is still running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The workspace to claim.
    pub id: WorkspaceId,
    /// The instance the control plane declared dead.
    pub instance: InstanceId,
    /// For a claim proven by a "not found" answer: how long the row must
    /// have gone unwritten (see `Config::not_found_quiet`); `None` for an
    /// answer that is proof on its own (`shutting-down`, `terminated`).
    pub quiet_for: Option<std::time::Duration>,
}
