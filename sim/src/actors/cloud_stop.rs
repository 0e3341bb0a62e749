//! The cloud stops an instance, or starts a stopped one again (same id,
//! booting through `pending`), outside the platform: a console action.

use std::time::Duration;

use rand::RngExt;
use reconciler_core::{InstanceId, WorkspaceId};

use super::{Actor, Role, Targets, Verb, one_instance, target};
use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::world::World;

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "stop",
    about: "the cloud stops an instance, or starts a stopped one (same id)",
    verbs: &[
        Verb {
            word: "stop",
            usage: "stop I",
            parse: |args| Ok(Action::Stop(one_instance("stop", args)?)),
        },
        Verb {
            word: "start",
            usage: "start I",
            parse: |args| Ok(Action::Start(one_instance("start", args)?)),
        },
    ],
    role: Role::Strikes(strike),
};

fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    let i = target(t, about, rng)?.live_instance()?.clone();
    Some(if rng.random_bool(0.5) {
        Action::Stop(i)
    } else {
        Action::Start(i)
    })
}

/// Stops the instance if it is pending or running.
pub fn stop(world: &mut World, at: Duration, i: &InstanceId) -> Option<Row> {
    world.stop_instance(at, i);
    None
}

/// Starts the instance if it is stopped.
pub fn start(world: &mut World, at: Duration, i: &InstanceId) -> Option<Row> {
    world.start_instance(at, i);
    None
}
