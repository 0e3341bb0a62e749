//! The owner's manual restart (`POST /workspaces/:id/restart`): read the
//! row; Stop; write `provisioning`; provision in a goroutine. Not coalesced
//! with `RestartByID`, so it can race a restart the reconciler started.
//!
//! Hardened platform: a guarded claim of `provisioning` from a settled
//! status (a workspace already restarting, hibernating or removed is
//! refused), a Stop of the claimed instance, and a guarded provision.

use std::rc::Rc;

use reconciler_core::{Status, WorkspaceId};

use super::{Actor, Role, Targets, Verb, one_workspace, target};
use crate::action::Action;
use crate::hook::Step;
use crate::platform::{FlowCtx, Guard, StopTarget, Then, then};
use crate::seed::SimRng;
use crate::trace::Refusal;
use crate::world::PlatformMode;

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "restart",
    about: "the owner restarts a workspace by hand: Stop, provisioning, a new instance",
    verbs: &[Verb {
        word: "restart",
        usage: "restart WS",
        parse: |args| Ok(Action::Restart(one_workspace("restart", args)?)),
    }],
    role: Role::Strikes(strike),
};

fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    let row = target(t, about, rng)?;
    (row.status != Status::Removed).then(|| Action::Restart(row.id.clone()))
}

/// The flow.
pub async fn run(ctx: &Rc<FlowCtx>) {
    let next = match ctx.settings().platform {
        PlatformMode::AsMerged => as_merged(ctx).await,
        PlatformMode::Hardened => hardened(ctx).await,
    };
    then(ctx, next.unwrap_or_else(|refused| Then::End(Some(refused))));
}

async fn as_merged(ctx: &Rc<FlowCtx>) -> Result<Then, Refusal> {
    if ctx.read(Step::Read, |_| true).await?.is_none() {
        return Err(Refusal::NoRow);
    }
    ctx.stop(Step::Stop, StopTarget::Workspace).await;
    ctx.write(Step::Status, |_| true, |r| r.status = Status::Provisioning)
        .await?;
    Ok(Then::Provision(Guard::None))
}

async fn hardened(ctx: &Rc<FlowCtx>) -> Result<Then, Refusal> {
    let claim = ctx
        .write(
            Step::Claim,
            |r| {
                !matches!(
                    r.status,
                    Status::Provisioning | Status::Hibernating | Status::Removed
                )
            },
            |r| r.status = Status::Provisioning,
        )
        .await;
    let row = claim?.ok_or(Refusal::ClaimLost)?;
    ctx.stop(Step::Stop, StopTarget::Instance(row.instance.clone()))
        .await;
    Ok(Then::Provision(Guard::Claimed(row.instance)))
}
