//! Rows, a fake control plane and a recording offline handler, shared by the
//! test modules.

use std::cell::RefCell;

use pg_store::{Micros, world};
use reconciler_core::{
    ControlPlane, CpError, InstanceId, InstanceState, OfflineHandler, Row, Status, WorkspaceId,
};
use sqlx::PgPool;

/// A row with every column spelled out; `instance` `None` is SQL NULL.
pub fn row(
    id: &str,
    status: Status,
    instance: Option<&str>,
    runtime: Option<&str>,
    updated_at_s: i64,
) -> Row {
    Row {
        id: WorkspaceId::from(id),
        status,
        instance: instance.map(InstanceId::from),
        runtime: runtime.map(str::to_owned),
        updated_at: Micros::from_secs(updated_at_s).0,
    }
}

/// A control plane that says every instance is in one state.
pub struct FixedCp(pub InstanceState);

impl ControlPlane for FixedCp {
    async fn instance_state(&self, _instance: &InstanceId) -> Result<InstanceState, CpError> {
        Ok(self.0)
    }
}

/// One offline-handler call: the workspace and the instance the caller
/// proved dead, if it passed one.
pub type HandlerCall = (WorkspaceId, Option<InstanceId>);

/// Records every `on_offline`, i.e. every flip; built with
/// [`Recorder::recording_events`] it also records the platform's
/// `WORKSPACE_OFFLINE` event in Postgres, as `onWorkspaceOffline` does.
#[derive(Default)]
pub struct Recorder {
    calls: RefCell<Vec<HandlerCall>>,
    events: Option<PgPool>,
}

impl Recorder {
    /// A recorder that also inserts a `WORKSPACE_OFFLINE` event per call,
    /// through `admin`.
    pub fn recording_events(admin: PgPool) -> Self {
        Self {
            calls: RefCell::default(),
            events: Some(admin),
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<HandlerCall> {
        self.calls.borrow().clone()
    }
}

impl OfflineHandler for Recorder {
    async fn on_offline(&self, id: &WorkspaceId, proven: Option<&InstanceId>) {
        self.calls.borrow_mut().push((id.clone(), proven.cloned()));
        if let Some(admin) = &self.events {
            world::record_event(admin, id, world::WORKSPACE_OFFLINE)
                .await
                .expect("recording the WORKSPACE_OFFLINE event");
        }
    }
}

/// The server's `now()` in microseconds since the epoch: for rows whose
/// `updated_at` must lie a given time before the server's clock (the
/// claim's quiet guard reads that clock, not ours).
pub async fn server_now(admin: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT (extract(epoch FROM now()) * 1000000)::int8")
        .fetch_one(admin)
        .await
        .expect("reading the server's clock")
}
