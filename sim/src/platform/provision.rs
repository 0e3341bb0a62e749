//! Provisioning a workspace with a new instance, as the platform does it at
//! the end of a restart, a manual restart or a resume: the control plane
//! launches an instance (booting through `pending`), its id is recorded on
//! the row, and once it runs its agent registers and the row is `online`.
//!
//! Assumed where the reference is silent (`docs/decisions.md`): recording
//! the instance bumps `updated_at` like every platform write; the agent's
//! registration writes `online` only on the row that still records its own
//! instance (a registration from an instance the row no longer holds is
//! refused), which is the reading that blames the reconciler for the least;
//! the agent retries a registration the database failed, as agents do.

use std::rc::Rc;

use reconciler_core::{InstanceId, InstanceState, Status};

use super::flow::{FlowCtx, StopTarget};
use crate::hook::Step;
use crate::trace::Refusal;

/// How many times a new instance's agent tries to register (a failed
/// registration is retried, as agents do) before the platform gives up.
pub const REGISTER_TRIES: u32 = 5;

/// The agent's wait between registration attempts.
pub const REGISTER_BACKOFF: std::time::Duration = std::time::Duration::from_secs(5);

/// How a provision guards its writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guard {
    /// As merged: record the instance on whatever the row is.
    None,
    /// Hardened platform: record it only while the row is `provisioning`
    /// on the instance it had when the flow claimed it, and terminate the
    /// new instance when that no longer holds.
    Claimed(Option<InstanceId>),
}

/// Provisions the flow's workspace; returns why it stopped early, if it
/// did.
pub async fn provision(ctx: &FlowCtx, guard: Guard) -> Option<Refusal> {
    let (instance, ready) = ctx.launch(Step::Launch).await;
    let recorded = {
        let set = |r: &mut reconciler_core::Row| r.instance = Some(instance.clone());
        match &guard {
            Guard::None => ctx.write(Step::Record, |_| true, set).await,
            Guard::Claimed(prev) => {
                ctx.write(
                    Step::Record,
                    |r| r.status == Status::Provisioning && r.instance == *prev,
                    set,
                )
                .await
            }
        }
    };
    let refused = match recorded {
        Ok(Some(_)) => None,
        Ok(None) => Some(Refusal::Superseded),
        Err(e) => Some(e),
    };
    if let Some(why) = refused {
        if matches!(guard, Guard::Claimed(_)) {
            ctx.stop(Step::Stop, StopTarget::Instance(Some(instance)))
                .await;
        }
        return Some(why);
    }
    ctx.sleep_until(ready).await;
    if ctx.state(&instance) != InstanceState::Running {
        return Some(Refusal::NeverRan);
    }
    let hardened = matches!(guard, Guard::Claimed(_));
    let mut tries = 0;
    let online = loop {
        let wrote = ctx
            .write(
                Step::Online,
                |r| {
                    r.instance.as_ref() == Some(&instance)
                        && (!hardened || r.status == Status::Provisioning)
                },
                |r| r.status = Status::Online,
            )
            .await;
        tries += 1;
        match wrote {
            Err(Refusal::DbError) if tries < REGISTER_TRIES => {
                ctx.sleep_for(REGISTER_BACKOFF).await;
            }
            other => break other,
        }
    };
    match online {
        Ok(Some(_)) => None,
        Ok(None) => {
            if hardened {
                // The row moved on while the instance booted (deleted,
                // paused, restarted by hand): it must not keep running.
                ctx.stop(Step::Stop, StopTarget::Instance(Some(instance)))
                    .await;
            }
            Some(Refusal::Superseded)
        }
        Err(e) => Some(e),
    }
}

/// How a flow goes on after its own steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Then {
    /// It is done, early (why) or not.
    End(Option<Refusal>),
    /// It provisions in a goroutine, guarded so, and is done when that is.
    Provision(Guard),
}

/// Ends a flow now, or once the provision it starts in the background has
/// run: a flow's end in the trace is the end of everything it started, so
/// that what a flow leaves behind can be judged at it.
pub fn then(ctx: &Rc<FlowCtx>, then: Then) {
    match then {
        Then::End(refused) => ctx.end(refused),
        Then::Provision(guard) => {
            let ctx = Rc::clone(ctx);
            tokio::task::spawn_local(async move {
                let refused = provision(&ctx, guard).await;
                ctx.end(refused);
            });
        }
    }
}
