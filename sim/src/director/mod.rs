//! Directors decide what actors do at hook points.
//!
//! The random swarm director and the scripted one (YAML scenarios) share
//! this interface, so both drive the same world through the same hooks.

pub mod space;
mod swarm;

pub use swarm::{LatencyProfile, Overrides, Swarm, SwarmDirector, strikes_at};

use reconciler_core::WorkspaceId;

use crate::action::Action;
use crate::hook::Hook;
use crate::world::World;

/// Chooses actions at hook points.
pub trait Director {
    /// Called at `hook`, concerning workspace `ws` when the operation is
    /// about one; returns the actions to take now, in order.
    fn at_hook(&mut self, hook: Hook, ws: Option<&WorkspaceId>, world: &World) -> Vec<Action>;
}
