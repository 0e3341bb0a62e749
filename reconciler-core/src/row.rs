//! A whole `workspaces` row, as ground truth holds it.
//!
//! The reconciler itself never sees one (it reads [`Candidate`]s and
//! [`RowView`]s); the type lives here because this is the one crate that
//! both worlds depend on: the simulator's in-memory table and the Postgres
//! harness's reads and actor writes use the same row, and so the same
//! definition of "in scope", without the simulator depending on a database
//! driver or the store on the simulator.
//!
//! [`Candidate`]: crate::Candidate
//! [`RowView`]: crate::RowView

use std::fmt;

use crate::model::{InstanceId, Status, WorkspaceId};
use crate::query::{CandidateQuery, LIVE_STATUSES, Order};

/// One `workspaces` row, with the Postgres schema's NULL semantics:
/// `instance: None` is NULL, `Some("")` is the empty string, `runtime: None`
/// is NULL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `id`.
    pub id: WorkspaceId,
    /// `status`.
    pub status: Status,
    /// `instance_id`.
    pub instance: Option<InstanceId>,
    /// `runtime`: `None` for SaaS rows; `Some("external")` is out of scope.
    pub runtime: Option<String>,
    /// `updated_at`, the reference candidate query's sort key. Only its order
    /// and equality matter, so its unit is the owning table's: the simulator
    /// counts milliseconds of simulated time since the run began (rows that
    /// predate the run are negative), `pg-store` microseconds since the Unix
    /// epoch (Postgres's own resolution). Rows of different tables are never
    /// compared by it.
    pub updated_at: i64,
}

/// The widest candidate scope (PR #2283's: online/degraded, non-empty
/// instance, runtime not external), as a query value: the yardstick of "in
/// scope" the oracle judges every variant by.
pub const LIVE_SCOPE: CandidateQuery = CandidateQuery {
    statuses: LIVE_STATUSES,
    capture_instance: true,
    order: Order::UpdatedAtDesc,
    limit: u32::MAX,
};

impl Row {
    /// True when the row is in [`LIVE_SCOPE`].
    pub fn in_scope(&self) -> bool {
        LIVE_SCOPE.admits(
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

impl fmt::Display for Row {
    /// `ws-1[online i-1 runtime=saas u=12]`, with `NULL` and `''` told apart:
    /// the one row format of every trace.
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
