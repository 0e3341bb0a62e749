//! The owner's soft delete: `status = 'removed'`, then the instance is
//! stopped (a Docker-side sweeper later stops leaked containers of removed
//! rows). Neither step is guarded.
//!
//! Hardened platform: a guarded claim of `removed` (from any other status)
//! and a Stop of the claimed instance, by id.

use std::rc::Rc;

use reconciler_core::{Status, WorkspaceId};

use super::{Actor, Role, Targets, Verb, one_workspace, target};
use crate::action::Action;
use crate::hook::Step;
use crate::platform::{FlowCtx, StopTarget};
use crate::seed::SimRng;
use crate::trace::Refusal;
use crate::world::PlatformMode;

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "delete",
    about: "the owner soft-deletes a workspace: removed, then Stop",
    verbs: &[Verb {
        word: "delete",
        usage: "delete WS",
        parse: |args| Ok(Action::Delete(one_workspace("delete", args)?)),
    }],
    role: Role::Strikes(strike),
};

fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    let row = target(t, about, rng)?;
    (row.status != Status::Removed).then(|| Action::Delete(row.id.clone()))
}

/// The flow.
pub async fn run(ctx: &Rc<FlowCtx>) {
    let hardened = ctx.settings().platform == PlatformMode::Hardened;
    let refused = async {
        let step = if hardened { Step::Claim } else { Step::Status };
        let wrote = ctx
            .write(
                step,
                |r| !hardened || r.status != Status::Removed,
                |r| r.status = Status::Removed,
            )
            .await;
        let target = match wrote {
            Ok(Some(row)) if hardened => StopTarget::Instance(row.instance),
            Ok(Some(_)) => StopTarget::Workspace,
            Ok(None) if hardened => return Some(Refusal::ClaimLost),
            Ok(None) => return Some(Refusal::NoRow),
            Err(e) => return Some(e),
        };
        ctx.stop(Step::Stop, target).await;
        None
    }
    .await;
    ctx.end(refused);
}
