//! A hard `DELETE` of a workspace row — an administrator's purge, or a
//! cleanup job removing soft-deleted rows: the re-confirm's "row gone".
//! One statement, so one step.

use std::time::Duration;

use reconciler_core::WorkspaceId;

use super::{Actor, Role, Targets, Verb, one_workspace, target};
use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::world::World;

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "purge",
    about: "a hard DELETE of the row (an administrator's purge)",
    verbs: &[Verb {
        word: "purge",
        usage: "purge WS",
        parse: |args| Ok(Action::Purge(one_workspace("purge", args)?)),
    }],
    role: Role::Strikes(strike),
};

fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    Some(Action::Purge(target(t, about, rng)?.id.clone()))
}

/// Deletes the row.
pub fn apply(world: &mut World, at: Duration, ws: &WorkspaceId) -> Option<Row> {
    world.delete_row(at, ws);
    None
}
