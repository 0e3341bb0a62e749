//! The owner pauses a workspace, or resumes a paused one.
//!
//! Pause as merged: read the row (`status NOT IN ('removed','paused')`);
//! Stop; write `paused`. (Older platforms stop only locally run containers:
//! a SaaS instance keeps running and only the status changes — a world
//! setting.) Resume as merged: read the row (`status = 'paused'`); write
//! `provisioning`; provision in a goroutine. No step is guarded.
//!
//! Hardened platform: each starts with a guarded claim from a settled
//! status (`paused`, resp. `provisioning` from `paused`), and Pause stops
//! the instance it claimed, by id.

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
    name: "pause",
    about: "the owner pauses a workspace (Stop, then paused) or resumes a paused one (provisioning, a new instance)",
    verbs: &[
        Verb {
            word: "pause",
            usage: "pause WS",
            parse: |args| Ok(Action::Pause(one_workspace("pause", args)?)),
        },
        Verb {
            word: "resume",
            usage: "resume WS",
            parse: |args| Ok(Action::Resume(one_workspace("resume", args)?)),
        },
    ],
    role: Role::Strikes(strike),
};

fn strike(t: &dyn Targets, about: Option<&WorkspaceId>, rng: &mut SimRng) -> Option<Action> {
    let row = target(t, about, rng)?;
    match row.status {
        Status::Paused => Some(Action::Resume(row.id.clone())),
        Status::Removed => None,
        _ => Some(Action::Pause(row.id.clone())),
    }
}

/// The Pause flow.
pub async fn run_pause(ctx: &Rc<FlowCtx>) {
    let settings = ctx.settings();
    let refused = async {
        let stop_target = match settings.platform {
            PlatformMode::AsMerged => {
                match ctx
                    .read(Step::Read, |r| {
                        !matches!(r.status, Status::Removed | Status::Paused)
                    })
                    .await
                {
                    Ok(Some(_)) => StopTarget::Workspace,
                    Ok(None) => return Some(Refusal::NoRow),
                    Err(e) => return Some(e),
                }
            }
            PlatformMode::Hardened => {
                let claim = ctx
                    .write(
                        Step::Claim,
                        |r| {
                            !matches!(
                                r.status,
                                Status::Removed
                                    | Status::Paused
                                    | Status::Provisioning
                                    | Status::Hibernating
                            )
                        },
                        |r| r.status = Status::Paused,
                    )
                    .await;
                match claim {
                    Ok(Some(row)) => StopTarget::Instance(row.instance),
                    Ok(None) => return Some(Refusal::ClaimLost),
                    Err(e) => return Some(e),
                }
            }
        };
        if settings.pause_stops {
            ctx.stop(Step::Stop, stop_target).await;
        }
        if settings.platform == PlatformMode::AsMerged
            && let Err(e) = ctx
                .write(Step::Status, |_| true, |r| r.status = Status::Paused)
                .await
        {
            return Some(e);
        }
        None
    }
    .await;
    ctx.end(refused);
}

/// The Resume flow.
pub async fn run_resume(ctx: &Rc<FlowCtx>) {
    let next = async {
        match ctx.settings().platform {
            PlatformMode::AsMerged => {
                if ctx
                    .read(Step::Read, |r| r.status == Status::Paused)
                    .await?
                    .is_none()
                {
                    return Err(Refusal::NoRow);
                }
                ctx.write(Step::Status, |_| true, |r| r.status = Status::Provisioning)
                    .await?;
                Ok(Then::Provision(Guard::None))
            }
            PlatformMode::Hardened => {
                let row = ctx
                    .write(
                        Step::Claim,
                        |r| r.status == Status::Paused,
                        |r| r.status = Status::Provisioning,
                    )
                    .await?
                    .ok_or(Refusal::ClaimLost)?;
                Ok(Then::Provision(Guard::Claimed(row.instance)))
            }
        }
    }
    .await;
    then(ctx, next.unwrap_or_else(|refused| Then::End(Some(refused))));
}
