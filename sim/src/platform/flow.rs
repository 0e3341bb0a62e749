//! What every step of a platform flow is made of: a hook point before and
//! after, the call's latency (the platform's own database connection, or a
//! control-plane request), injected faults, the change to ground truth, and
//! a trace event saying what the step did.

use std::rc::Rc;
use std::time::Duration;

use reconciler_core::{InstanceId, InstanceState, WorkspaceId};

use crate::hook::{Flow, Hook, Point, Step};
use crate::row::Row;
use crate::shared::Shared;
use crate::trace::{Caller, Cause, Effect, Event, FlowId, FlowRef, Refusal};
use crate::world::{World, WorldSettings, millis};

/// Which instance a Stop terminates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopTarget {
    /// The control plane's `DELETE /cp/workspaces/:id`: whatever instance
    /// it holds for the workspace at that instant.
    Workspace,
    /// One instance by id (the hardened platform stops what it claimed).
    Instance(Option<InstanceId>),
}

/// One running flow: its identity, its workspace and the run it belongs to.
pub struct FlowCtx {
    sh: Rc<Shared>,
    /// Which flow run this is.
    pub flow: FlowRef,
    /// The workspace it acts on.
    pub ws: WorkspaceId,
}

impl FlowCtx {
    /// Records the flow's start and returns its context.
    pub fn begin(
        sh: &Rc<Shared>,
        id: FlowId,
        kind: Flow,
        ws: WorkspaceId,
        cause: Cause,
    ) -> Rc<Self> {
        let flow = FlowRef { id, kind };
        sh.world.borrow_mut().record(Event::FlowStart {
            flow,
            ws: ws.clone(),
            cause,
        });
        Rc::new(Self {
            sh: Rc::clone(sh),
            flow,
            ws,
        })
    }

    /// The run's shared state.
    pub fn shared(&self) -> &Rc<Shared> {
        &self.sh
    }

    /// What this platform is like.
    pub fn settings(&self) -> WorldSettings {
        self.sh.world.borrow().settings
    }

    fn hook(&self, hook: Hook) {
        self.sh.hook(hook, Some(&self.ws));
    }

    fn record(&self, step: Step, effect: Effect) {
        self.sh.world.borrow_mut().record(Event::Step {
            flow: self.flow,
            step,
            ws: self.ws.clone(),
            effect,
        });
    }

    /// Ends the flow; `refused` says why when it stopped early.
    pub fn end(&self, refused: Option<Refusal>) {
        self.sh.world.borrow_mut().record(Event::FlowEnd {
            flow: self.flow,
            ws: self.ws.clone(),
            refused,
        });
    }

    /// One call on the platform's database connection: hook, injected or
    /// random failure (decided when the call is issued), latency, `op` on
    /// an up-to-date world, the step's event, hook.
    async fn db<T>(
        &self,
        step: Step,
        op: impl FnOnce(&mut World, Duration) -> (T, Effect),
    ) -> Result<T, Refusal> {
        let point = Point::Step(self.flow.kind, step);
        self.hook(Hook::before(point));
        if self.sh.platform_db_fails() {
            self.sh.world.borrow_mut().record(Event::StoreFault {
                by: Caller::Flow(self.flow, step),
                about: self.ws.to_string(),
            });
            self.hook(Hook::after(point));
            return Err(Refusal::DbError);
        }
        let latency = self.sh.platform_db_latency();
        tokio::time::sleep(latency).await;
        let out = self.apply(step, op);
        self.hook(Hook::after(point));
        Ok(out)
    }

    /// `SELECT … FROM workspaces WHERE id = $1 AND <admits>`: the row if it
    /// exists and `admits` it.
    pub async fn read(
        &self,
        step: Step,
        admits: impl Fn(&Row) -> bool,
    ) -> Result<Option<Row>, Refusal> {
        let ws = self.ws.clone();
        self.db(step, move |world, _| {
            let row = world.table.get(&ws).filter(|r| admits(r)).cloned();
            (row.clone(), Effect::Read(row))
        })
        .await
    }

    /// `UPDATE workspaces SET <set>, updated_at = now() WHERE id = $1 AND
    /// <guard>`: the row afterwards, `None` when nothing matched.
    pub async fn write(
        &self,
        step: Step,
        guard: impl Fn(&Row) -> bool,
        set: impl FnOnce(&mut Row),
    ) -> Result<Option<Row>, Refusal> {
        let ws = self.ws.clone();
        self.db(step, move |world, now| {
            if !world.table.get(&ws).is_some_and(&guard) {
                return (None, Effect::NoMatch);
            }
            let row = world.update_row(now, &ws, |r| {
                set(r);
                r.updated_at = millis(now);
            });
            match row {
                Some(r) => (Some(r.clone()), Effect::Wrote(r)),
                None => (None, Effect::NoMatch),
            }
        })
        .await
    }

    /// `op` on an up-to-date world and the step's event, at one instant:
    /// what a database step and a control-plane step share once their
    /// latency has passed.
    fn apply<T>(&self, step: Step, op: impl FnOnce(&mut World, Duration) -> (T, Effect)) -> T {
        let mut world = self.sh.world.borrow_mut();
        let now = world.flush();
        let (out, effect) = op(&mut world, now);
        world.trace.push(
            now,
            Event::Step {
                flow: self.flow,
                step,
                ws: self.ws.clone(),
                effect,
            },
        );
        out
    }

    /// A control-plane request: hook, the partition (if any) holds it,
    /// latency, `op` on an up-to-date world, the step's event, hook.
    async fn cp<T>(&self, step: Step, op: impl FnOnce(&mut World, Duration) -> (T, Effect)) -> T {
        let point = Point::Step(self.flow.kind, step);
        self.hook(Hook::before(point));
        self.sh.wait_out_partition().await;
        let latency = self.sh.platform_cp_latency();
        tokio::time::sleep(latency).await;
        let out = self.apply(step, op);
        self.hook(Hook::after(point));
        out
    }

    /// Stop: the control plane terminates the target instance (errors are
    /// logged and ignored by every flow, so none is modelled).
    pub async fn stop(&self, step: Step, target: StopTarget) {
        let ws = self.ws.clone();
        self.cp(step, move |world, now| {
            let instance = match target {
                StopTarget::Workspace => world.cloud.held_for(&ws).cloned(),
                StopTarget::Instance(i) => i.filter(|i| !i.0.is_empty()),
            };
            let was = match &instance {
                Some(i) => world.terminate_instance(now, i),
                None => InstanceState::NotFound,
            };
            ((), Effect::Stopped { instance, was })
        })
        .await;
    }

    /// The control plane launches a new instance for the workspace; returns
    /// its id and the instant it will run if nothing stops it.
    pub async fn launch(&self, step: Step) -> (InstanceId, Duration) {
        let ws = self.ws.clone();
        self.cp(step, move |world, now| {
            let (id, ready) = world.launch_instance(now, &ws);
            ((id.clone(), ready), Effect::Launched(id))
        })
        .await
    }

    /// A sleep that is a step of its own (`RestartByID`'s 10 s wait).
    pub async fn sleep(&self, step: Step, d: Duration) {
        let point = Point::Step(self.flow.kind, step);
        self.hook(Hook::before(point));
        tokio::time::sleep(d).await;
        self.record(step, Effect::Waited(d));
        self.hook(Hook::after(point));
    }

    /// Sleeps for `d` without a step of its own (a retry's backoff).
    pub async fn sleep_for(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    /// Sleeps until simulated instant `at`, then brings the world up to it
    /// (a flow waiting for its instance to boot).
    pub async fn sleep_until(&self, at: Duration) {
        let instant = self.sh.world.borrow().instant(at);
        tokio::time::sleep_until(instant).await;
        self.sh.world.borrow_mut().flush();
    }

    /// The real state of `i` now.
    pub fn state(&self, i: &InstanceId) -> InstanceState {
        let mut world = self.sh.world.borrow_mut();
        world.flush();
        world.cloud.state(i)
    }
}
