//! The platform around the reconciler, as its code behaves
//! (`shared/reference/platform-flows.md`): the offline handler a flip calls,
//! `RestartByID` with its per-replica coalescing, and the machinery every
//! multi-step flow runs on. The owner's flows themselves live with their
//! actors (`crate::actors`).
//!
//! Flows are tasks on the run's single thread. Each step is a hook point
//! (`restart.stop`, `pause.status`, …): a director can make another actor
//! act between any two steps, which is exactly where the platform's
//! unguarded multi-step flows race with the reconciler and with each other.
//! Where the simulation cannot do what the platform does, or where the
//! reference is silent, `docs/decisions.md` says what was assumed.

mod coalescing;
mod flow;
mod offline;
mod provision;
pub mod restart;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use reconciler_core::{InstanceId, WorkspaceId};

pub use coalescing::Coalescing;
pub use flow::{FlowCtx, StopTarget};
pub use offline::SimOffline;
pub use provision::{Guard, Then, provision, then};

use crate::action::Action;
use crate::actors;
use crate::seed::SimRng;
use crate::shared::Shared;
use crate::trace::{Cause, Event, FlowId, Replica};

/// The platform's per-run state: each replica's coalescing map, the flow
/// counter, and the randomness of its own calls.
pub struct Platform {
    restarts: RefCell<Coalescing<(Replica, WorkspaceId)>>,
    next_flow: Cell<u32>,
    rng: RefCell<SimRng>,
}

impl Platform {
    /// A platform whose calls' latencies and random failures draw from
    /// `rng` (a stream of its own, so that adding a flow never shifts the
    /// reconciler's draws).
    pub fn new(rng: SimRng) -> Self {
        Self {
            restarts: RefCell::new(Coalescing::default()),
            next_flow: Cell::new(1),
            rng: RefCell::new(rng),
        }
    }

    fn next_flow(&self) -> FlowId {
        let id = self.next_flow.get();
        self.next_flow.set(id + 1);
        FlowId(id)
    }

    /// The platform's randomness.
    pub(crate) fn rng(&self) -> std::cell::RefMut<'_, SimRng> {
        self.rng.borrow_mut()
    }
}

/// Starts the flow `action` begins (a manual restart, a pause, …) as a task
/// of the run; `cause` says who asked.
pub fn start(sh: &Rc<Shared>, cause: Cause, action: Action) {
    let (Some(kind), Some(ws)) = (actors::flow_of(&action), action.workspace().cloned()) else {
        unreachable!("{action} does not start a flow");
    };
    let id = sh.platform.next_flow();
    let ctx = FlowCtx::begin(sh, id, kind, ws, cause);
    tokio::task::spawn_local(actors::run_flow(ctx, action));
}

/// `RestartByID(ws)` as replica `r`'s process runs it: the request sets
/// `pending`; if a cycle is already running it returns, otherwise it runs
/// cycles while `pending` was set at the top of the loop — so N concurrent
/// requests make at most 2 cycles. Coalescing is per process: two replicas
/// never coalesce with each other.
pub fn request_restart(sh: &Rc<Shared>, r: Replica, ws: &WorkspaceId, proven: Option<&InstanceId>) {
    let started = sh
        .platform
        .restarts
        .borrow_mut()
        .request(&(r, ws.clone()), proven)
        .then(|| sh.platform.next_flow());
    sh.world.borrow_mut().record(Event::RestartRequested {
        r,
        ws: ws.clone(),
        started,
    });
    if let Some(first) = started {
        tokio::task::spawn_local(restart_loop(Rc::clone(sh), r, ws.clone(), first));
    }
}

async fn restart_loop(sh: Rc<Shared>, r: Replica, ws: WorkspaceId, first: FlowId) {
    let mut id = Some(first);
    loop {
        let next = sh
            .platform
            .restarts
            .borrow_mut()
            .next_cycle(&(r, ws.clone()));
        let Some(proven) = next else { break };
        let flow = id.take().unwrap_or_else(|| sh.platform.next_flow());
        let ctx = FlowCtx::begin(
            &sh,
            flow,
            crate::hook::Flow::Restart,
            ws.clone(),
            Cause::Flip(r),
        );
        restart::cycle(&ctx, proven.as_ref()).await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use reconciler_core::{InstanceState, Row, Status};
    use tokio::task::LocalSet;

    use super::*;
    use crate::director::Director;
    use crate::hook::{Flow, Hook};
    use crate::seed::child_rng;
    use crate::shared::Behaviour;
    use crate::trace::{Keep, Tracer};
    use crate::world::{Timing, World, WorldSettings};

    /// Nobody acts at hook points: the restarts run undisturbed.
    struct Idle;

    impl Director for Idle {
        fn at_hook(&mut self, _: Hook, _: Option<&WorkspaceId>, _: &World) -> Vec<Action> {
            Vec::new()
        }
    }

    /// Restart cycles each replica ran for `ws`, in the order they started.
    fn cycles(world: &World) -> BTreeMap<Replica, usize> {
        let mut out = BTreeMap::new();
        for e in world.trace.trace().entries() {
            if let Event::FlowStart {
                flow,
                cause: Cause::Flip(r),
                ..
            } = &e.event
                && flow.kind == Flow::Restart
            {
                *out.entry(*r).or_insert(0) += 1;
            }
        }
        out
    }

    /// Requests `per_replica[k]` restarts of one dead workspace from replica
    /// `k`, `burst` at a time with `gap` of simulated time between bursts,
    /// then lets every cycle finish.
    fn requests(per_replica: &[usize], burst: usize, gap: Duration) -> World {
        let rt = crate::run::sim_runtime();
        rt.block_on(async {
            let ws = WorkspaceId("ws-1".into());
            let mut world = World::new(
                Timing::default(),
                child_rng(7, "timing"),
                WorldSettings::default(),
                Tracer::new(Keep::All),
            );
            world.seed_row(
                Row {
                    id: ws.clone(),
                    status: Status::Online,
                    instance: Some(InstanceId("i-1".into())),
                    runtime: None,
                    updated_at: -600_000,
                },
                Some(InstanceState::Terminated),
            );
            let behaviour = Behaviour {
                cp_latency_ms: (20, 20),
                cp_error_permille: 0,
                store_latency_ms: (1, 1),
                db_error_permille: 0,
                cp_instances: Default::default(),
                wire_faults: false,
            };
            let sh = Rc::new(Shared::new(
                world,
                Box::new(Idle),
                behaviour,
                [
                    child_rng(7, "store"),
                    child_rng(7, "cp"),
                    child_rng(7, "platform"),
                ],
            ));
            LocalSet::new()
                .run_until(async {
                    let most = per_replica.iter().copied().max().unwrap_or(0);
                    let mut sent = 0;
                    while sent < most {
                        for _ in 0..burst {
                            for (k, n) in per_replica.iter().enumerate() {
                                if sent < *n {
                                    let r = Replica(u8::try_from(k).expect("few replicas"));
                                    request_restart(&sh, r, &ws, None);
                                }
                            }
                            sent += 1;
                        }
                        tokio::time::sleep(gap).await;
                    }
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                })
                .await;
            Rc::try_unwrap(sh)
                .ok()
                .expect("every flow ended")
                .world
                .into_inner()
        })
    }

    #[test]
    fn a_burst_of_requests_makes_one_cycle_per_replica() {
        // All requests land before the first cycle reads `pending`, so that
        // one cycle serves them all; each replica runs its own.
        let world = requests(&[10, 4], 10, Duration::ZERO);
        assert_eq!(
            cycles(&world),
            BTreeMap::from([(Replica(0), 1), (Replica(1), 1)]),
            "replicas never coalesce with each other"
        );
    }

    #[test]
    fn requests_while_a_cycle_runs_add_at_most_one_more() {
        // One request every 10 ms, far quicker than a cycle (Stop, a write,
        // a launch): each cycle absorbs every request made while it ran.
        let world = requests(&[12], 1, Duration::from_millis(10));
        assert_eq!(
            cycles(&world)[&Replica(0)],
            2,
            "the first request's cycle, then one for all requests it absorbed"
        );
    }

    #[test]
    fn a_request_after_the_cycles_end_starts_a_new_one() {
        // An hour apart: each request finds nothing running.
        let world = requests(&[3], 1, Duration::from_secs(3600));
        assert_eq!(cycles(&world)[&Replica(0)], 3);
    }
}
