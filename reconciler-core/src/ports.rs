//! The three narrow interfaces the reconciler is generic over.
//!
//! They are the seams where the harness plugs in: the simulated world and the
//! Postgres store implement [`Store`], the simulated control plane implements
//! [`ControlPlane`], and the world's restart actor implements
//! [`OfflineHandler`]. Each method is one round trip, so that each call is a
//! place where a scheduler can interleave a racing actor.
//!
//! The futures are not `Send`: the simulator runs every actor on one thread
//! (that is what makes a seed replayable), and nothing in the reconciler
//! spawns.
#![allow(async_fn_in_trait)]

use crate::model::{Candidate, FlipGuard, InstanceId, InstanceState, RowView, WorkspaceId};
use crate::query::CandidateQuery;

/// A failed store call. The reconciler only ever fails safe on it, so the
/// message is for logs and traces, not for branching.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("store error: {0}")]
pub struct StoreError(pub String);

/// A control-plane answer that is not a state: the three `(true, err)` rows
/// of `IsRunning`'s table.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CpError {
    /// Connection refused, reset, or lost.
    #[error("control plane transport error: {0}")]
    Transport(String),
    /// A non-2xx HTTP status.
    #[error("control plane answered HTTP {0}")]
    Status(u16),
    /// A 2xx whose body did not decode.
    #[error("control plane answer did not decode: {0}")]
    Decode(String),
}

/// The `workspaces` table, through the four statements the reconciler runs
/// (plus the one write a flip makes).
pub trait Store {
    /// The candidate query (one statement).
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError>;

    /// The re-confirm: `SELECT status, COALESCE(instance_id, '') FROM
    /// workspaces WHERE id = $1`; `None` when the row is gone.
    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError>;

    /// `IsRunning`'s `resolveInstanceID`: the row's current instance id by
    /// workspace id, `None` for NULL, a missing row, or `''`.
    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError>;

    /// The write inside the platform's `onOffline`: `UPDATE workspaces SET
    /// status = 'offline' WHERE id = $1`, unconditionally. `legacy` and
    /// `pr2283` flip with it.
    async fn mark_offline(&self, id: &WorkspaceId) -> Result<(), StoreError>;

    /// The guarded flip `hardened` uses; see [`FlipGuard`]. Returns whether a
    /// row was written.
    async fn flip_if_unchanged(&self, guard: &FlipGuard) -> Result<bool, StoreError>;
}

/// The control plane, the authority on instance state.
pub trait ControlPlane {
    /// Asks for one instance's state.
    async fn instance_state(&self, instance: &InstanceId) -> Result<InstanceState, CpError>;
}

/// What a flip triggers: the `WORKSPACE_OFFLINE` event and a background
/// `RestartByID`, which reprovisions the workspace with a new instance.
pub trait OfflineHandler {
    /// Called once per flip, after the flip's write.
    async fn on_offline(&self, id: &WorkspaceId);
}
