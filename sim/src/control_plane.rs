//! The simulated control plane: answers from the cloud's ground truth after
//! a latency, with injected failures and partitions.
//!
//! The request reads the instance's state halfway through its latency (when
//! it reaches the control plane); the answer arrives at the end. An actor
//! striking in between makes the answer stale, which the trace shows by
//! recording the truth at arrival next to the answer.

use std::rc::Rc;

use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState, WorkspaceId};

use crate::abandon::Abandon;
use crate::action::CpFailure;
use crate::hook::{Hook, Point};
use crate::shared::Shared;
use crate::trace::Event;

/// The control plane as the reconciler sees it.
pub struct SimCp(pub Rc<Shared>);

impl ControlPlane for SimCp {
    async fn instance_state(&self, instance: &InstanceId) -> Result<InstanceState, CpError> {
        let shared = &self.0;
        // The row that currently records this instance, so that actors at
        // this request's hooks can aim at the workspace it concerns.
        let ws: Option<WorkspaceId> = {
            let world = shared.world.borrow();
            world
                .table
                .rows()
                .find(|r| r.instance.as_ref() == Some(instance))
                .map(|r| r.id.clone())
        };
        shared.hook(Hook::before(Point::Probe), ws.as_ref());
        shared.record(Event::Probe(instance.clone()));
        let guard = Abandon::new(shared, "probe", instance.to_string());
        let latency = shared.cp_latency(instance);
        let outbound = latency / 2;
        tokio::time::sleep(outbound).await;
        let partition = shared.world.borrow().faults.cp_partition_until;
        if let Some(until) = partition {
            let now = shared.world.borrow().now();
            if until > now {
                tokio::time::sleep(until - now).await;
            }
        }
        shared.hook(Hook::after(Point::Probe), ws.as_ref());
        let answer = match shared.cp_failure(instance) {
            Some(CpFailure::Transport) => Err(CpError::Transport("connection reset".to_owned())),
            Some(CpFailure::Status5xx) => Err(CpError::Status(503)),
            Some(CpFailure::Garbage) => Err(CpError::Decode("unexpected body".to_owned())),
            None => {
                let mut world = shared.world.borrow_mut();
                world.flush();
                Ok(world.cloud.state(instance))
            }
        };
        shared.hook(Hook::before(Point::Answer), ws.as_ref());
        tokio::time::sleep(latency - outbound).await;
        let truth = {
            let mut world = shared.world.borrow_mut();
            world.flush();
            world.cloud.state(instance)
        };
        shared.record(Event::Answer {
            instance: instance.clone(),
            answer: answer.clone().map_err(|e| e.to_string()),
            truth,
        });
        guard.done();
        shared.hook(Hook::after(Point::Answer), ws.as_ref());
        answer
    }
}
