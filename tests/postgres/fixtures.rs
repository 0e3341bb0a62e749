//! Rows, a fake control plane and a recording offline handler, shared by the
//! test modules.

use std::cell::RefCell;

use pg_store::Micros;
use reconciler_core::{
    ControlPlane, CpError, InstanceId, InstanceState, OfflineHandler, Row, Status, WorkspaceId,
};

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

/// Records every `on_offline`, i.e. every restart the reconciler triggered.
#[derive(Default)]
pub struct Recorder(pub RefCell<Vec<WorkspaceId>>);

impl OfflineHandler for Recorder {
    async fn on_offline(&self, id: &WorkspaceId) {
        self.0.borrow_mut().push(id.clone());
    }
}
