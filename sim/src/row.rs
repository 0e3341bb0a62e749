//! A `workspaces` row as ground truth holds it.

use std::fmt;
use std::time::Duration;

use reconciler_core::{CandidateQuery, InstanceId, LIVE_STATUSES, Order, Status, WorkspaceId};

/// One row of the simulated `workspaces` table, with the Postgres schema's
/// NULL semantics: `instance: None` is NULL, `Some("")` is the empty string,
/// `runtime: None` is NULL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `id`.
    pub id: WorkspaceId,
    /// `status`.
    pub status: Status,
    /// `instance_id`.
    pub instance: Option<InstanceId>,
    /// `runtime`.
    pub runtime: Option<String>,
    /// `updated_at`, as simulated time since the run began (rows that predate
    /// the run are given offsets below the start by the generator, so this is
    /// only ever compared, never shown as a date).
    pub updated_at: i64,
}

impl Row {
    /// True when the row is in the widest candidate scope (online/degraded,
    /// non-empty instance, runtime not external) — the scope the oracle
    /// judges every variant by.
    pub fn in_scope(&self) -> bool {
        live_scope().admits(
            &self.status,
            self.instance.as_ref(),
            self.runtime.as_deref(),
        )
    }

    /// The instance id if it is non-empty.
    pub fn live_instance(&self) -> Option<&InstanceId> {
        self.instance.as_ref().filter(|i| !i.0.is_empty())
    }
}

/// The PR #2283 scope as a query value, used as the yardstick of "in scope".
pub fn live_scope() -> CandidateQuery {
    CandidateQuery {
        statuses: LIVE_STATUSES,
        capture_instance: true,
        order: Order::UpdatedAtDesc,
        limit: u32::MAX,
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{} ", self.id, self.status)?;
        match &self.instance {
            None => f.write_str("NULL")?,
            Some(i) if i.0.is_empty() => f.write_str("''")?,
            Some(i) => write!(f, "{i}")?,
        }
        if let Some(rt) = &self.runtime {
            write!(f, " runtime={rt}")?;
        }
        write!(f, " u={}]", self.updated_at)
    }
}

/// Formats a duration as seconds with millisecond precision (`12.345s`),
/// the one time format of every trace.
pub fn fmt_time(d: Duration) -> String {
    format!("{}.{:03}s", d.as_secs(), d.subsec_millis())
}
