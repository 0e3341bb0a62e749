//! The cloud terminates an instance on its own (spot reclaim, a manual
//! action in the console): one irreversible step.

use std::time::Duration;

use reconciler_core::{InstanceId, WorkspaceId};

use super::{Actor, Role, Targets, Verb, one_instance, target};
use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::world::World;

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "terminate",
    about: "the cloud terminates an instance (spot reclaim, console)",
    verbs: &[Verb {
        word: "terminate",
        usage: "terminate I",
        parse: |args| Ok(Action::Terminate(one_instance("terminate", args)?)),
    }],
    role: Role::Strikes(strike),
};

fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    Some(Action::Terminate(
        target(t, about, rng)?.live_instance()?.clone(),
    ))
}

/// Terminates the instance if it is alive.
pub fn apply(world: &mut World, at: Duration, i: &InstanceId) -> Option<Row> {
    world.terminate_instance(at, i);
    None
}
