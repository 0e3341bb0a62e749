//! One cycle of `RestartByID` (`runRestartCycle`, a context without
//! deadline), as merged and as this project proposes to fix it.
//!
//! As merged: read the row unless it is removed, paused or hibernated;
//! return for an external runtime; sleep 10 s when it is `provisioning`;
//! Stop through the control plane *by workspace id* (terminating whatever
//! instance it holds now); write `provisioning` unguarded; provision (in
//! the same task on current platforms, in a goroutine on older ones).
//!
//! Hardened platform: one guarded claim (`provisioning` from a settled
//! live status, on the instance the flip proved dead when it names one)
//! replaces the read and the unguarded write; Stop targets the claimed
//! instance by id; the provision's writes are guarded on the claim.

use std::rc::Rc;
use std::time::Duration;

use reconciler_core::{InstanceId, Status};

use super::flow::{FlowCtx, StopTarget};
use super::provision::{Guard, Then, provision, then};
use crate::hook::Step;
use crate::trace::Refusal;
use crate::world::PlatformMode;

/// Runs one cycle; the flow ends with it, or with the provision it leaves
/// to a goroutine.
pub async fn cycle(ctx: &Rc<FlowCtx>, proven: Option<&InstanceId>) {
    let next = match ctx.settings().platform {
        PlatformMode::AsMerged => as_merged(ctx).await,
        PlatformMode::Hardened => Then::End(hardened(ctx, proven).await),
    };
    then(ctx, next);
}

async fn as_merged(ctx: &Rc<FlowCtx>) -> Then {
    match as_merged_steps(ctx).await {
        Err(refused) => Then::End(Some(refused)),
        Ok(()) if ctx.settings().async_provision => Then::Provision(Guard::None),
        Ok(()) => Then::End(provision(ctx, Guard::None).await),
    }
}

async fn as_merged_steps(ctx: &Rc<FlowCtx>) -> Result<(), Refusal> {
    let read = ctx
        .read(Step::Read, |r| {
            !matches!(
                r.status,
                Status::Removed | Status::Paused | Status::Hibernated
            )
        })
        .await;
    let row = match read {
        Ok(Some(row)) => row,
        Ok(None) => return Err(Refusal::NoRow),
        Err(e) => return Err(e),
    };
    if row.runtime.as_deref() == Some("external") {
        return Err(Refusal::External);
    }
    if row.status == Status::Provisioning {
        let wait = Duration::from_millis(ctx.shared().world.borrow().timing().restart_wait_ms);
        ctx.sleep(Step::Wait, wait).await;
    }
    ctx.stop(Step::Stop, StopTarget::Workspace).await;
    // Unguarded: an UPDATE that matches no row is no error, and the cycle
    // provisions anyway.
    ctx.write(Step::Status, |_| true, |r| r.status = Status::Provisioning)
        .await?;
    Ok(())
}

async fn hardened(ctx: &Rc<FlowCtx>, proven: Option<&InstanceId>) -> Option<Refusal> {
    let claim = ctx
        .write(
            Step::Claim,
            |r| {
                matches!(
                    r.status,
                    Status::Online | Status::Degraded | Status::Offline
                ) && r.runtime.as_deref() != Some("external")
                    && proven.is_none_or(|p| r.instance.as_ref() == Some(p))
            },
            |r| r.status = Status::Provisioning,
        )
        .await;
    let row = match claim {
        Ok(Some(row)) => row,
        Ok(None) => return Some(Refusal::ClaimLost),
        Err(e) => return Some(e),
    };
    ctx.stop(Step::Stop, StopTarget::Instance(row.instance.clone()))
        .await;
    provision(ctx, Guard::Claimed(row.instance)).await
}
