//! Writes no named actor of the platform makes, for scripting edge cases by
//! hand: an `instance_id` of `''` (as opposed to NULL), and an arbitrary
//! status. Never drawn by the swarm.

use std::time::Duration;

use reconciler_core::{InstanceId, Status, WorkspaceId};

use super::{Actor, Role, Verb, one_workspace};
use crate::action::Action;
use crate::row::Row;
use crate::world::{World, millis};

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "writer",
    about: "scripted writes: instance_id = '' and arbitrary statuses",
    verbs: &[
        Verb {
            word: "clear_instance",
            usage: "clear_instance WS",
            parse: |args| {
                Ok(Action::ClearInstance(one_workspace(
                    "clear_instance",
                    args,
                )?))
            },
        },
        Verb {
            word: "set_status",
            usage: "set_status WS STATUS",
            parse: |args| match args {
                [w, s] => Ok(Action::SetStatus(WorkspaceId::from(*w), Status::parse(s))),
                _ => Err(format!(
                    "`set_status` takes a workspace id and a status (e.g. `set_status ws-1 paused`), found {:?}",
                    args.join(" ")
                )),
            },
        },
    ],
    role: Role::Scripted,
};

/// `UPDATE workspaces SET instance_id = '' WHERE id = $1`.
pub fn clear_instance(world: &mut World, at: Duration, ws: &WorkspaceId) -> Option<Row> {
    world.update_row(at, ws, |r| r.instance = Some(InstanceId(String::new())))
}

/// `UPDATE workspaces SET status = $2, updated_at = now() WHERE id = $1`.
pub fn set_status(world: &mut World, at: Duration, ws: &WorkspaceId, s: &Status) -> Option<Row> {
    world.update_row(at, ws, |r| {
        r.status = s.clone();
        r.updated_at = millis(at);
    })
}
