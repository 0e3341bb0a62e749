//! The simulated control plane as the reconciler sees it: answers from the
//! cloud's ground truth after a latency, with injected failures, partitions,
//! a consistency lag and the profile's answer for reaped instances.
//!
//! Fault model: a request reads the instance's state halfway through its
//! latency (when it reaches the control plane) and the answer arrives at the
//! end, so an actor striking in between makes the answer stale — the trace
//! records the truth at arrival next to it. The control plane's view of the
//! cloud lags by the world's `lag` (a just-launched instance is not found,
//! a just-terminated one still runs). A reaped instance is answered as the
//! profile says (404, or `200 terminated`). Injected failures: transport
//! error, 5xx, an undecodable 2xx, and 2xx bodies that decode to an empty or
//! unknown state (`InstanceState::Unrecognized`). A partition holds the
//! request until it heals.

use std::rc::Rc;

use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState, WorkspaceId};

use crate::abandon::Abandon;
use crate::action::{CpFailure, SLOW_BODY};
use crate::hook::{Hook, Point};
use crate::shared::Shared;
use crate::trace::{Call, Event, Replica};
use crate::world::Reaped;

/// The control plane as one replica's reconciler sees it.
pub struct SimCp {
    /// The run.
    pub shared: Rc<Shared>,
    /// The replica asking.
    pub replica: Replica,
}

impl ControlPlane for SimCp {
    async fn instance_state(&self, instance: &InstanceId) -> Result<InstanceState, CpError> {
        let shared = &self.shared;
        let r = self.replica;
        let (ws, guard) = begin_probe(shared, r, instance);
        let decided = serve(shared, instance, ws.as_ref()).await;
        if decided == Err(CpFailure::SlowBody) {
            tokio::time::sleep(SLOW_BODY).await;
        }
        let answer = in_process(decided);
        end_probe(shared, r, instance, ws.as_ref(), guard, &answer);
        answer
    }
}

/// The start of a control-plane request as both network modes trace it:
/// the `before probe` hook, aimed at the workspace whose row holds the
/// instance (returned for the hooks that follow, so that actors can aim at
/// the workspace the request concerns), the probe event, and the guard that
/// records the request as abandoned if the reconciler drops it.
pub(crate) fn begin_probe<'a>(
    shared: &'a Rc<Shared>,
    r: Replica,
    instance: &'a InstanceId,
) -> (Option<WorkspaceId>, Abandon<'a>) {
    let ws = holder(shared, instance);
    shared.hook(Hook::before(Point::Probe), ws.as_ref());
    shared.world.borrow_mut().record(Event::Probe {
        r,
        instance: instance.clone(),
    });
    (ws, Abandon::new(shared, r, Call::Probe, &instance.0))
}

/// The end of a request [`begin_probe`] started: the answer beside the
/// truth at its arrival, the guard disarmed, the `after answer` hook.
pub(crate) fn end_probe(
    shared: &Rc<Shared>,
    r: Replica,
    instance: &InstanceId,
    ws: Option<&WorkspaceId>,
    guard: Abandon<'_>,
    answer: &Result<InstanceState, CpError>,
) {
    record_answer(shared, r, instance, answer);
    guard.done();
    shared.hook(Hook::after(Point::Answer), ws);
}

/// The workspace whose row records `instance` now, if any.
pub(crate) fn holder(shared: &Shared, instance: &InstanceId) -> Option<WorkspaceId> {
    let world = shared.world.borrow();
    world.table.holding(instance).map(|r| r.id.clone())
}

/// Records the answer the reconciler got next to the truth at its arrival.
fn record_answer(
    shared: &Shared,
    r: Replica,
    instance: &InstanceId,
    answer: &Result<InstanceState, CpError>,
) {
    let mut world = shared.world.borrow_mut();
    world.flush();
    let truth = world.cloud.state(instance);
    world.record(Event::Answer {
        r,
        instance: instance.clone(),
        answer: answer.clone().map_err(|e| e.to_string()),
        truth,
    });
}

/// The control plane's side of one request about `instance`, the same for
/// both transports (one source of truth): held out by a partition, then
/// half the latency on the way in, the `after probe` hook, the answer
/// decided from ground truth (or an injected failure), the `before answer`
/// hook, and the other half of the latency on the way out. `ws` is the
/// workspace the request concerns, for the hooks.
pub(crate) async fn serve(
    shared: &Rc<Shared>,
    instance: &InstanceId,
    ws: Option<&WorkspaceId>,
) -> Result<InstanceState, CpFailure> {
    shared.wait_out_partition().await;
    let latency = shared.cp_latency(instance);
    let outbound = latency / 2;
    tokio::time::sleep(outbound).await;
    shared.hook(Hook::after(Point::Probe), ws);
    let decided = match shared.cp_failure(instance) {
        Some(failure) => Err(failure),
        None => {
            let mut world = shared.world.borrow_mut();
            let now = world.flush();
            Ok(match world.cloud.view(instance, now) {
                None => InstanceState::NotFound,
                Some(InstanceState::NotFound) => match world.settings.reaped {
                    Reaped::NotFound => InstanceState::NotFound,
                    Reaped::Terminated => InstanceState::Terminated,
                },
                Some(s) => s,
            })
        }
    };
    shared.hook(Hook::before(Point::Answer), ws);
    tokio::time::sleep(latency - outbound).await;
    decided
}

/// What the reconciler gets from a decided answer without a wire: each
/// failure as the HTTP client would report it (`cp-http`'s table).
fn in_process(decided: Result<InstanceState, CpFailure>) -> Result<InstanceState, CpError> {
    match decided {
        Ok(state) => Ok(state),
        Err(CpFailure::Transport) => Err(CpError::Transport("connection reset".to_owned())),
        Err(CpFailure::Status5xx) => Err(CpError::Status(503)),
        Err(CpFailure::Garbage) => Err(CpError::Decode("unexpected body".to_owned())),
        Err(CpFailure::EmptyState | CpFailure::UnknownState | CpFailure::NullBody) => {
            Ok(InstanceState::Unrecognized)
        }
        Err(CpFailure::Truncated) => Err(CpError::Transport("body cut short".to_owned())),
        Err(CpFailure::ResetAfterHeaders) => Err(CpError::Transport(
            "connection reset after the headers".to_owned(),
        )),
        Err(CpFailure::SlowBody) => Err(CpError::Transport("no answer within 10s".to_owned())),
    }
}
