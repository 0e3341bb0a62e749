//! The offline handler a flip calls: the platform's `onWorkspaceOffline`.
//! It records a `WORKSPACE_OFFLINE` event (an insert into the platform's
//! event table; on the Postgres backend, a real row) and starts
//! `RestartByID` in the background, in the calling replica's process. It
//! writes no status.

use std::rc::Rc;

use reconciler_core::{InstanceId, OfflineHandler, WorkspaceId};

use crate::shared::Shared;
use crate::trace::{Event, Replica};

/// One replica's offline handler.
pub struct SimOffline {
    /// The run.
    pub shared: Rc<Shared>,
    /// The replica whose reconciler calls it.
    pub replica: Replica,
}

impl OfflineHandler for SimOffline {
    async fn on_offline(&self, id: &WorkspaceId, proven: Option<&InstanceId>) {
        let sh = &self.shared;
        sh.hook(
            crate::hook::Hook::before(crate::hook::Point::Flip),
            Some(id),
        );
        {
            let mut world = sh.world.borrow_mut();
            let now = world.flush();
            let row = world.table.get(id).cloned();
            world.trace.push(
                now,
                Event::Flip {
                    r: self.replica,
                    ws: id.clone(),
                    proven: proven.cloned(),
                    row,
                },
            );
            world.trace.push(now, Event::Offline { ws: id.clone() });
            world.log_offline(now, id);
        }
        super::request_restart(sh, self.replica, id, proven);
        sh.hook(crate::hook::Hook::after(crate::hook::Point::Flip), Some(id));
    }
}
