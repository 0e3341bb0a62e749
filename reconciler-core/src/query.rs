//! The candidate query, as data.
//!
//! Each variant asks for a different query; expressing it as a value (rather
//! than as SQL text inside each variant) lets the Postgres store turn it into
//! bound SQL, the simulated store evaluate it row by row, and the tests assert
//! which query a variant asked for — all from one definition of the scope.

use crate::model::{InstanceId, Status, WorkspaceId};

/// Which rows a candidate query admits, and in what order it returns them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateQuery {
    /// Statuses in scope: `online` only for `legacy`, `online`/`degraded`
    /// after PR #2283.
    pub statuses: &'static [Status],
    /// Whether the query returns `instance_id` next to `id` (the capture
    /// PR #2283 added).
    pub capture_instance: bool,
    /// The order of the result.
    pub order: Order,
    /// `LIMIT`.
    pub limit: u32,
}

/// The result order of a candidate query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Order {
    /// `ORDER BY updated_at DESC` (the reference; ties broken by id so that
    /// two stores agree on one order).
    UpdatedAtDesc,
    /// `WHERE id > after ORDER BY id` — keyset pages, so that a pass that hits
    /// its deadline resumes where it stopped instead of re-reading the head.
    IdAfter(Option<WorkspaceId>),
}

/// Statuses in scope before PR #2283.
pub const LEGACY_STATUSES: &[Status] = &[Status::Online];
/// Statuses in scope since PR #2283 (MED-3 added `degraded`).
pub const LIVE_STATUSES: &[Status] = &[Status::Online, Status::Degraded];

impl CandidateQuery {
    /// The scope predicate every candidate query shares:
    /// `status IN (…) AND instance_id IS NOT NULL AND instance_id != ''
    /// AND COALESCE(runtime, '') <> 'external'`.
    /// The keyset cursor is a separate test, [`CandidateQuery::after_cursor`].
    pub fn admits(
        &self,
        status: &Status,
        instance: Option<&InstanceId>,
        runtime: Option<&str>,
    ) -> bool {
        self.statuses.contains(status)
            && instance.is_some_and(|i| !i.0.is_empty())
            && runtime != Some("external")
    }

    /// For [`Order::IdAfter`], whether `id` lies after the keyset cursor.
    pub fn after_cursor(&self, id: &WorkspaceId) -> bool {
        match &self.order {
            Order::IdAfter(Some(after)) => id > after,
            Order::UpdatedAtDesc | Order::IdAfter(None) => true,
        }
    }
}
