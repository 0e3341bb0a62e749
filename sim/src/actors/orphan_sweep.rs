//! The control plane's orphan sweeper: it NULLs `instance_id` on rows whose
//! instance it has terminated or reaped, leaving status and `updated_at`
//! alone — which is how an `online` row with no instance comes to exist.

use std::time::Duration;

use reconciler_core::{InstanceState, WorkspaceId};

use super::{Actor, Role, Targets, Verb, one_workspace, target};
use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::world::World;

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "orphan_sweep",
    about: "the control plane's orphan sweeper NULLs the instance_id of a row whose instance is terminated or reaped",
    verbs: &[Verb {
        word: "orphan_sweep",
        usage: "orphan_sweep WS",
        parse: |args| Ok(Action::OrphanSweep(one_workspace("orphan_sweep", args)?)),
    }],
    role: Role::Strikes(strike),
};

/// The sweeper only touches rows whose instance is really gone.
fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    let row = target(t, about, rng)?;
    let gone = row.live_instance().is_some_and(|i| {
        matches!(
            t.state(i),
            InstanceState::Terminated | InstanceState::NotFound
        )
    });
    gone.then(|| Action::OrphanSweep(row.id.clone()))
}

/// `UPDATE workspaces SET instance_id = NULL WHERE id = $1`.
pub fn apply(world: &mut World, at: Duration, ws: &WorkspaceId) -> Option<Row> {
    world.update_row(at, ws, |r| r.instance = None)
}
