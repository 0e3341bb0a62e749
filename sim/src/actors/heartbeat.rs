//! The heartbeat handler: a workspace's agent beats while its instance
//! runs; the handler moves the row between `online` and `degraded` and bumps
//! `updated_at`. A beat from a running instance recovers a degraded row (and,
//! if every beat writes — a world setting — bumps `updated_at` on an online
//! one); a late beat, from an instance that does not run, degrades an online
//! row. Rows in other statuses are left alone.

use std::time::Duration;

use reconciler_core::{InstanceState, Status, WorkspaceId};

use super::{Actor, Role, Targets, Verb, one_workspace, target};
use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::world::{HeartbeatWrites, World, millis};

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "heartbeat",
    about: "the heartbeat handler: a running agent's beat recovers (or touches) its row, a missing beat degrades it",
    verbs: &[
        Verb {
            word: "heartbeat",
            usage: "heartbeat WS",
            parse: |args| Ok(Action::Heartbeat(one_workspace("heartbeat", args)?)),
        },
        Verb {
            word: "degrade",
            usage: "degrade WS",
            parse: |args| Ok(Action::Degrade(one_workspace("degrade", args)?)),
        },
        Verb {
            word: "recover",
            usage: "recover WS",
            parse: |args| Ok(Action::Recover(one_workspace("recover", args)?)),
        },
    ],
    role: Role::Strikes(strike),
};

fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    let row = target(t, about, rng)?;
    matches!(row.status, Status::Online | Status::Degraded)
        .then(|| Action::Heartbeat(row.id.clone()))
}

/// A beat arrives, or is late: decided by whether the row's instance runs.
pub fn apply(world: &mut World, at: Duration, ws: &WorkspaceId) -> Option<Row> {
    let row = world.table.get(ws)?;
    let running = row
        .live_instance()
        .is_some_and(|i| world.cloud.state(i) == InstanceState::Running);
    match (&row.status, running, world.settings.heartbeat) {
        (Status::Degraded, true, _) => recover(world, at, ws),
        (Status::Online, true, HeartbeatWrites::Every) => {
            world.update_row(at, ws, |r| r.updated_at = millis(at))
        }
        (Status::Online, false, _) => degrade(world, at, ws),
        _ => Some(row.clone()),
    }
}

/// `UPDATE workspaces SET status = 'degraded', updated_at = now() WHERE id = $1`.
pub fn degrade(world: &mut World, at: Duration, ws: &WorkspaceId) -> Option<Row> {
    world.update_row(at, ws, |r| {
        r.status = Status::Degraded;
        r.updated_at = millis(at);
    })
}

/// `UPDATE workspaces SET status = 'online', updated_at = now() WHERE id = $1`.
pub fn recover(world: &mut World, at: Duration, ws: &WorkspaceId) -> Option<Row> {
    world.update_row(at, ws, |r| {
        r.status = Status::Online;
        r.updated_at = millis(at);
    })
}
