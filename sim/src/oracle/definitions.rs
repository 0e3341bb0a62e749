//! What "terminal", "dead", "in scope" and the owner's "stopped" mean to the
//! oracle, written from the specification (`shared/design.md`,
//! `shared/reference/`) and not borrowed from the code under test.
//!
//! `reconciler-core` has predicates with similar names (`is_terminal`,
//! `is_live`, `LIVE_SCOPE`, `live_instance`); the oracle never calls them.
//! If one of them were wrong, the reconciler and its judge would be wrong
//! together and nothing would notice; with definitions of its own, a bug in
//! a shared definition shows up as a violation. A test
//! (`sim/tests/oracle_independence.rs`) fails if this module tree names a
//! core predicate.

use reconciler_core::{InstanceId, InstanceState, Status};

use crate::row::Row;

/// An instance that can never run again: on its way to termination,
/// terminated, or no longer known to the cloud (reaped). The only states
/// that prove a workspace dead. `stopped`, `stopping` and `pending` can
/// all come back; an empty or unknown answer proves nothing.
pub fn terminal(state: InstanceState) -> bool {
    match state {
        InstanceState::ShuttingDown | InstanceState::Terminated | InstanceState::NotFound => true,
        InstanceState::Pending
        | InstanceState::Running
        | InstanceState::Stopping
        | InstanceState::Stopped
        | InstanceState::Unrecognized => false,
    }
}

/// An instance a customer is (or is about to be) using: killing it is harm.
pub fn alive(state: InstanceState) -> bool {
    matches!(state, InstanceState::Pending | InstanceState::Running)
}

/// The statuses the reconciler may act on: `online` and `degraded`
/// (`degraded` since PR #2283; the widest scope of any variant).
pub fn live_status(status: &Status) -> bool {
    matches!(status, Status::Online | Status::Degraded)
}

/// The statuses that record an owner's (or the platform's) decision that
/// the workspace must not run: a restart must never undo them.
pub fn owner_stopped(status: &Status) -> bool {
    matches!(
        status,
        Status::Paused | Status::Hibernating | Status::Hibernated | Status::Removed
    )
}

/// The row's instance id when it names one: NULL and `''` both mean none.
pub fn instance_of(row: &Row) -> Option<&InstanceId> {
    match &row.instance {
        Some(i) if !i.0.is_empty() => Some(i),
        _ => None,
    }
}

/// True when the row's runtime is the one the reconciler must never touch.
pub fn external(row: &Row) -> bool {
    row.runtime.as_deref() == Some("external")
}

/// The candidate scope: a live status, an instance, not external.
pub fn in_scope(row: &Row) -> bool {
    live_status(&row.status) && instance_of(row).is_some() && !external(row)
}

#[cfg(test)]
mod tests {
    use reconciler_core::WorkspaceId;

    use super::*;

    fn row(status: Status, instance: Option<&str>, runtime: Option<&str>) -> Row {
        Row {
            id: WorkspaceId::from("ws-1"),
            status,
            instance: instance.map(InstanceId::from),
            runtime: runtime.map(str::to_owned),
            updated_at: 0,
        }
    }

    #[test]
    fn terminal_and_alive_on_every_answer() {
        use InstanceState::*;
        let table = [
            (Pending, false, true),
            (Running, false, true),
            (Stopping, false, false),
            (Stopped, false, false),
            (ShuttingDown, true, false),
            (Terminated, true, false),
            (NotFound, true, false),
            (Unrecognized, false, false),
        ];
        assert_eq!(
            table.len(),
            InstanceState::ALL.len(),
            "every answer is stated"
        );
        for (s, t, a) in table {
            assert_eq!(terminal(s), t, "terminal({s})");
            assert_eq!(alive(s), a, "alive({s})");
        }
    }

    #[test]
    fn scope_and_owner_statuses_on_a_table() {
        use Status::*;
        let cases = [
            (row(Online, Some("i-1"), None), true),
            (row(Degraded, Some("i-1"), Some("saas")), true),
            (row(Online, Some("i-1"), Some("external")), false),
            (row(Online, None, None), false),
            (row(Online, Some(""), None), false),
            (row(Offline, Some("i-1"), None), false),
            (row(Provisioning, Some("i-1"), None), false),
            (row(Paused, Some("i-1"), None), false),
            (row(Other("ONLINE".into()), Some("i-1"), None), false),
        ];
        for (r, scoped) in cases {
            assert_eq!(in_scope(&r), scoped, "in_scope({r})");
        }
        for s in [Paused, Hibernating, Hibernated, Removed] {
            assert!(owner_stopped(&s), "{s}");
        }
        for s in [Online, Degraded, Offline, Provisioning, Other("x".into())] {
            assert!(!owner_stopped(&s), "{s}");
        }
        assert_eq!(instance_of(&row(Online, Some(""), None)), None);
    }
}
