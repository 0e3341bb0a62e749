//! Ground truth of every cloud instance: its state machine.
//!
//! `pending → running → stopping → stopped → pending …`, and from any
//! non-terminal state `shutting-down → terminated`, and eventually not
//! found. Transitions that take time are scheduled by the world; each carries
//! the instance's generation at scheduling time so that a later command (a
//! terminate during a stop) makes the stale transition a no-op.

use indexmap::IndexMap;
use reconciler_core::{InstanceId, InstanceState};

use crate::fnv::FnvBuild;

/// One instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Its current state.
    pub state: InstanceState,
    /// Bumped on every state change; scheduled transitions carry it.
    pub generation: u64,
}

/// Every instance the cloud knows, by id (insertion order is creation order,
/// so iteration is deterministic).
#[derive(Clone, Debug, Default)]
pub struct Cloud {
    instances: IndexMap<InstanceId, Instance, FnvBuild>,
}

impl Cloud {
    /// The real state of `id` (`NotFound` when the cloud never knew it).
    pub fn state(&self, id: &InstanceId) -> InstanceState {
        self.instances
            .get(id)
            .map_or(InstanceState::NotFound, |i| i.state)
    }

    /// The generation of `id`, for scheduling a transition.
    pub fn generation(&self, id: &InstanceId) -> u64 {
        self.instances.get(id).map_or(0, |i| i.generation)
    }

    /// Sets the state of `id` (creating it if new); returns the new
    /// generation.
    pub fn set(&mut self, id: &InstanceId, state: InstanceState) -> u64 {
        if let Some(i) = self.instances.get_mut(id) {
            i.state = state;
            i.generation += 1;
            return i.generation;
        }
        self.instances.insert(
            id.clone(),
            Instance {
                state,
                generation: 1,
            },
        );
        1
    }

    /// Applies a scheduled transition if nothing changed the instance since
    /// it was scheduled; returns whether it applied.
    pub fn transition(&mut self, id: &InstanceId, state: InstanceState, generation: u64) -> bool {
        match self.instances.get_mut(id) {
            Some(i) if i.generation == generation => {
                i.state = state;
                i.generation += 1;
                true
            }
            _ => false,
        }
    }
}
