//! The offline handler: a flip's restart is itself an actor of the world.

use std::rc::Rc;

use reconciler_core::{OfflineHandler, WorkspaceId};

use crate::shared::Shared;

/// Records the restart request and schedules the reprovision it causes.
pub struct SimRestart(pub Rc<Shared>);

impl OfflineHandler for SimRestart {
    async fn on_offline(&self, id: &WorkspaceId) {
        self.0.world.borrow_mut().request_restart(id);
    }
}
