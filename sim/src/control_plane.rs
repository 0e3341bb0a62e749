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
use crate::action::CpFailure;
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
        // The row that currently records this instance, so that actors at
        // this request's hooks can aim at the workspace it concerns.
        let ws: Option<WorkspaceId> = {
            let world = shared.world.borrow();
            world.table.holding(instance).map(|r| r.id.clone())
        };
        shared.hook(Hook::before(Point::Probe), ws.as_ref());
        shared.world.borrow_mut().record(Event::Probe {
            r,
            instance: instance.clone(),
        });
        let guard = Abandon::new(shared, r, Call::Probe, &instance.0);
        shared.wait_out_partition().await;
        let latency = shared.cp_latency(instance);
        let outbound = latency / 2;
        tokio::time::sleep(outbound).await;
        shared.hook(Hook::after(Point::Probe), ws.as_ref());
        let answer = match shared.cp_failure(instance) {
            Some(CpFailure::Transport) => Err(CpError::Transport("connection reset".to_owned())),
            Some(CpFailure::Status5xx) => Err(CpError::Status(503)),
            Some(CpFailure::Garbage) => Err(CpError::Decode("unexpected body".to_owned())),
            Some(CpFailure::EmptyState | CpFailure::UnknownState) => {
                Ok(InstanceState::Unrecognized)
            }
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
        shared.hook(Hook::before(Point::Answer), ws.as_ref());
        tokio::time::sleep(latency - outbound).await;
        {
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
        guard.done();
        shared.hook(Hook::after(Point::Answer), ws.as_ref());
        answer
    }
}
