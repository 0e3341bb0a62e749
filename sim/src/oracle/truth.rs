//! Ground truth as the trace tells it: every row and every instance's
//! state, rebuilt event by event, so the oracle never asks the world (or the
//! reconciler) what is true. Memory is the fleet's, whatever the run's
//! length.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use reconciler_core::{InstanceId, InstanceState, WorkspaceId};

use super::definitions::instance_of;
use crate::fnv::FnvBuild;
use crate::row::Row;

/// Rows by id and instances by id, with the rows that record each.
#[derive(Default)]
pub struct Truth {
    rows: BTreeMap<WorkspaceId, Row>,
    instances: IndexMap<InstanceId, Instance, FnvBuild>,
}

#[derive(Default)]
struct Instance {
    state: Option<InstanceState>,
    holders: Vec<WorkspaceId>,
}

impl Truth {
    /// The row `ws`.
    pub fn row(&self, ws: &WorkspaceId) -> Option<&Row> {
        self.rows.get(ws)
    }

    /// Every row, in id order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.values()
    }

    /// The row `ws` becomes `row` (`None`: deleted).
    pub fn set_row(&mut self, ws: &WorkspaceId, row: Option<&Row>) {
        let old = match row {
            Some(r) => self.rows.insert(ws.clone(), r.clone()),
            None => self.rows.remove(ws),
        };
        let before = old.as_ref().and_then(instance_of);
        let after = row.and_then(instance_of);
        if before == after {
            return;
        }
        if let Some(i) = before
            && let Some(inst) = self.instances.get_mut(i)
        {
            inst.holders.retain(|w| w != ws);
        }
        if let Some(i) = after {
            self.instances
                .entry(i.clone())
                .or_default()
                .holders
                .push(ws.clone());
        }
    }

    /// Changes row `ws` in place, if it exists.
    pub fn update_row(&mut self, ws: &WorkspaceId, f: impl FnOnce(&mut Row)) {
        if let Some(mut row) = self.rows.get(ws).cloned() {
            f(&mut row);
            self.set_row(ws, Some(&row));
        }
    }

    /// Sets the state of `i`; returns the previous one.
    pub fn set_state(&mut self, i: &InstanceId, state: InstanceState) -> Option<InstanceState> {
        self.instances
            .entry(i.clone())
            .or_default()
            .state
            .replace(state)
    }

    /// The state of `i` (not found when the trace never gave one).
    pub fn state(&self, i: &InstanceId) -> InstanceState {
        self.instances
            .get(i)
            .and_then(|x| x.state)
            .unwrap_or(InstanceState::NotFound)
    }

    /// The rows whose `instance_id` is `i`.
    pub fn holders(&self, i: &InstanceId) -> &[WorkspaceId] {
        self.instances.get(i).map_or(&[], |x| x.holders.as_slice())
    }

    /// Forgets an instance no row holds any more once it is gone for good,
    /// so that memory follows the fleet, not the run's length.
    pub fn forget_if_gone(&mut self, i: &InstanceId) {
        let gone = self
            .instances
            .get(i)
            .is_some_and(|x| x.holders.is_empty() && x.state == Some(InstanceState::NotFound));
        if gone {
            self.instances.swap_remove(i);
        }
    }
}
