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

use crate::model::{Candidate, Claim, InstanceId, InstanceState, RowView, WorkspaceId};
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

/// The `workspaces` table, through the statements the reconciler runs: three
/// reads, and the one write `hardened` adds (the merged reconciler writes
/// nothing: its flip is the offline handler's call).
pub trait Store {
    /// The candidate query (one statement).
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError>;

    /// The re-confirm: `SELECT status, COALESCE(instance_id, '') FROM
    /// workspaces WHERE id = $1`; `None` when the row is gone.
    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError>;

    /// `IsRunning`'s `resolveInstanceID`: the row's current instance id by
    /// workspace id, `None` for NULL, a missing row, or `''`.
    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError>;

    /// `hardened`'s guarded claim of a row it is about to flip; see
    /// [`Claim`]. Returns whether a row was written.
    async fn claim(&self, claim: &Claim) -> Result<bool, StoreError>;
}

/// The control plane, the authority on instance state.
pub trait ControlPlane {
    /// Asks for one instance's state.
    async fn instance_state(&self, instance: &InstanceId) -> Result<InstanceState, CpError>;
}

/// The flip itself: the platform's `onWorkspaceOffline`, which records a
/// `WORKSPACE_OFFLINE` event and starts `RestartByID` in the background. It
/// writes no status.
pub trait OfflineHandler {
    /// Called once per flip. `proven` is the instance the caller proved dead,
    /// when it passes one: the merged code passes only the workspace id
    /// (`legacy` and `pr2283` pass `None`); `hardened` passes the instance it
    /// claimed the row on, so that a platform whose restart is guarded can
    /// check that the row still holds it.
    async fn on_offline(&self, id: &WorkspaceId, proven: Option<&InstanceId>);
}
