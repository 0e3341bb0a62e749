//! The platform hibernates an idle workspace: the guarded claim
//! `UPDATE … SET status = 'hibernating' WHERE id = $1 AND status IN
//! ('online','degraded') AND active_tasks = 0` (the platform's own TOCTOU
//! pattern; tasks are not modelled, so every workspace counts as idle);
//! nothing claimed, nothing done; then Stop; then `hibernated`, unguarded.
//!
//! Hardened platform: Stop targets the claimed instance, and the last write
//! is guarded on the claim (`status = 'hibernating'`).

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
    name: "hibernate",
    about: "the platform hibernates an idle workspace: claim hibernating, Stop, hibernated",
    verbs: &[Verb {
        word: "hibernate",
        usage: "hibernate WS",
        parse: |args| Ok(Action::Hibernate(one_workspace("hibernate", args)?)),
    }],
    role: Role::Strikes(strike),
};

fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    let row = target(t, about, rng)?;
    matches!(row.status, Status::Online | Status::Degraded)
        .then(|| Action::Hibernate(row.id.clone()))
}

/// The flow.
pub async fn run(ctx: &Rc<FlowCtx>) {
    let hardened = ctx.settings().platform == PlatformMode::Hardened;
    let refused = async {
        let claim = ctx
            .write(
                Step::Claim,
                |r| matches!(r.status, Status::Online | Status::Degraded),
                |r| r.status = Status::Hibernating,
            )
            .await;
        let row = match claim {
            Ok(Some(row)) => row,
            Ok(None) => return Some(Refusal::ClaimLost),
            Err(e) => return Some(e),
        };
        let target = if hardened {
            StopTarget::Instance(row.instance)
        } else {
            StopTarget::Workspace
        };
        ctx.stop(Step::Stop, target).await;
        let done = ctx
            .write(
                Step::Status,
                |r| !hardened || r.status == Status::Hibernating,
                |r| r.status = Status::Hibernated,
            )
            .await;
        match done {
            Ok(Some(_)) => None,
            Ok(None) => Some(Refusal::ClaimLost),
            Err(e) => Some(e),
        }
    }
    .await;
    ctx.end(refused);
}
