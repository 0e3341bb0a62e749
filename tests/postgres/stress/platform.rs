//! The platform around the reconciler, as the simulated world models it
//! (`sim/src/platform/`, `shared/reference/platform-flows.md`), run in real
//! time on its own Postgres connections (`application_name` `adv-platform`).
//!
//! * The offline handler is `onWorkspaceOffline`: a `WORKSPACE_OFFLINE` row
//!   in `structure_events`, then `RestartByID` in the background. It writes
//!   no status.
//! * `RestartByID` coalesces per process (`{running, pending}`: N requests
//!   while a cycle runs make one more cycle). A cycle as merged: read the row
//!   unless removed / paused / hibernated, return for an external runtime,
//!   wait (the reference's 10 s, scaled) when it is `provisioning`, Stop
//!   *by workspace id* (whatever instance the control plane holds for it
//!   now), write `provisioning` unguarded, provision synchronously (launch,
//!   record the instance, `online` once it runs). With the platform fix
//!   ([`PlatformMode::Hardened`]) a guarded claim replaces the read and the
//!   unguarded write, Stop targets the claimed instance, and the provision's
//!   writes are guarded on the claim.
//! * The owner's flows take their real steps: manual Restart (Stop;
//!   `provisioning`; provision), Pause (Stop; `paused`), Resume
//!   (`provisioning`; provision), Hibernate (the claim `hibernating`; Stop;
//!   `hibernated`), soft Delete (`removed`; Stop) — each, on the hardened
//!   platform, starting with a claim from its own settled statuses, as the
//!   simulator's actors do.
//!
//! Every step is recorded as the simulator records it (`Event::Step`, with
//! `FlowStart` / `FlowEnd` around), so the oracle's harm rules read a
//! Postgres run exactly as a simulated one. A write's row comes from the
//! audit, paired by transaction id (see `history`).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use pg_store::world;
use reconciler_core::{InstanceId, InstanceState, OfflineHandler, Row, Status, WorkspaceId};
use sim::hook::{Flow, Step};
use sim::platform::Coalescing;
use sim::trace::{Caller, Cause, Effect, Event, FlowId, FlowRef, Refusal};
use sim::world::PlatformMode;
use sqlx::{AssertSqlSafe, PgPool};
use tokio::task::JoinHandle;

use super::stage::{R, Rec, Stage};

/// The platform's `application_name`: the audit tells its writes apart by
/// it, and pairs each with its flow step by transaction id.
pub const PLATFORM_APPLICATION_NAME: &str = "adv-platform";

/// `RestartByID`'s wait when the row is `provisioning` ("so the container
/// exists for Stop"): the reference's 10 s, scaled like the reconciler's
/// configuration.
const RESTART_WAIT: Duration = Duration::from_millis(100);

/// The platform of one stress run.
pub struct Platform {
    stage: Rc<Stage>,
    pool: PgPool,
    mode: PlatformMode,
    restarts: RefCell<Coalescing<WorkspaceId>>,
    tasks: RefCell<Vec<JoinHandle<()>>>,
}

impl Platform {
    /// A platform writing through `pool` (its own connections), running
    /// `mode`'s code.
    pub fn new(stage: Rc<Stage>, pool: PgPool, mode: PlatformMode) -> Self {
        Self {
            stage,
            pool,
            mode,
            restarts: RefCell::new(Coalescing::default()),
            tasks: RefCell::new(Vec::new()),
        }
    }

    /// `RestartByID(ws)`: sets `pending`; starts a cycle loop unless one is
    /// running.
    fn request_restart(self: &Rc<Self>, ws: &WorkspaceId, proven: Option<&InstanceId>) {
        let started = self
            .restarts
            .borrow_mut()
            .request(ws, proven)
            .then(|| self.stage.next_flow());
        self.stage.event(Event::RestartRequested {
            r: R,
            ws: ws.clone(),
            started,
        });
        if let Some(first) = started {
            let task = tokio::task::spawn_local(restart_loop(Rc::clone(self), ws.clone(), first));
            self.tasks.borrow_mut().push(task);
        }
    }

    /// Waits for every restart the reconciler started to end (the
    /// reconciler has stopped: no new one can start).
    pub async fn finish(&self) {
        loop {
            let tasks = std::mem::take(&mut *self.tasks.borrow_mut());
            if tasks.is_empty() {
                break;
            }
            for t in tasks {
                t.await.expect("a restart cycle panicked");
            }
        }
    }
}

async fn restart_loop(p: Rc<Platform>, ws: WorkspaceId, first: FlowId) {
    let mut id = Some(first);
    loop {
        let next = p.restarts.borrow_mut().next_cycle(&ws);
        let Some(proven) = next else { break };
        let flow = id.take().unwrap_or_else(|| p.stage.next_flow());
        let ctx = FlowCtx::begin(&p, flow, Flow::Restart, ws.clone(), Cause::Flip(R));
        let refused = match p.mode {
            PlatformMode::AsMerged => restart_as_merged(&ctx).await,
            PlatformMode::Hardened => restart_hardened(&ctx, proven.as_ref()).await,
        };
        ctx.end(refused.err());
    }
}

/// The offline handler the reconciler calls: `onWorkspaceOffline`.
pub struct StageOffline(pub Rc<Platform>);

impl OfflineHandler for StageOffline {
    async fn on_offline(&self, id: &WorkspaceId, proven: Option<&InstanceId>) {
        let p = &self.0;
        p.stage.record(Rec::Flip {
            ws: id.clone(),
            proven: proven.cloned(),
        });
        p.stage.event(Event::Offline { ws: id.clone() });
        // An error is logged and ignored by the platform; the test counts
        // the rows against the flips, so a lost one shows there.
        let _ = world::record_event(&p.pool, id, world::WORKSPACE_OFFLINE).await;
        p.request_restart(id, proven);
    }
}

/// Which instance a Stop terminates.
enum StopTarget {
    /// `DELETE /cp/workspaces/:id`: whatever the control plane holds for
    /// the workspace at that instant.
    Workspace,
    /// One instance by id.
    Instance(Option<InstanceId>),
}

/// How a provision guards its writes.
enum Guard {
    /// As merged: record the instance on whatever the row is.
    None,
    /// Hardened platform: only while the row is `provisioning` on the
    /// instance it had when the flow claimed it.
    Claimed(Option<InstanceId>),
}

/// The columns a flow's statements return, as a row.
type Columns = (String, Option<String>, Option<String>, i64);

/// A write's `RETURNING`: the transaction id, then the row's columns.
type Written = (i64, String, Option<String>, Option<String>, i64);

/// One running flow.
struct FlowCtx {
    p: Rc<Platform>,
    flow: FlowRef,
    ws: WorkspaceId,
}

impl FlowCtx {
    fn begin(p: &Rc<Platform>, id: FlowId, kind: Flow, ws: WorkspaceId, cause: Cause) -> Self {
        let flow = FlowRef { id, kind };
        p.stage.event(Event::FlowStart {
            flow,
            ws: ws.clone(),
            cause,
        });
        Self {
            p: Rc::clone(p),
            flow,
            ws,
        }
    }

    fn end(&self, refused: Option<Refusal>) {
        self.p.stage.event(Event::FlowEnd {
            flow: self.flow,
            ws: self.ws.clone(),
            refused,
        });
    }

    fn step(&self, step: Step, effect: Effect) {
        self.p.stage.event(Event::Step {
            flow: self.flow,
            step,
            ws: self.ws.clone(),
            effect,
        });
    }

    fn row(&self, (status, instance, runtime, updated_at): Columns) -> Row {
        Row {
            id: self.ws.clone(),
            status: Status::parse(&status),
            instance: instance.map(InstanceId),
            runtime,
            updated_at,
        }
    }

    fn failed(&self, step: Step) -> Refusal {
        self.p.stage.event(Event::StoreFault {
            by: Caller::Flow(self.flow, step),
            about: self.ws.to_string(),
        });
        Refusal::DbError
    }

    /// `SELECT … FROM workspaces WHERE id = $1 AND <admits>`.
    async fn read(&self, step: Step, admits: &str) -> Result<Option<Row>, Refusal> {
        let sql = format!(
            "SELECT status, instance_id, runtime, \
             (extract(epoch FROM updated_at) * 1000000)::int8 \
             FROM workspaces WHERE id = $1 AND ({admits})"
        );
        // Every fragment is one of this module's literals.
        let row: Option<Columns> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(&self.ws.0)
            .fetch_optional(&self.p.pool)
            .await
            .map_err(|_| self.failed(step))?;
        let row = row.map(|c| self.row(c));
        self.step(step, Effect::Read(row.clone()));
        Ok(row)
    }

    /// `UPDATE workspaces SET <set>, updated_at = now() WHERE id = $1 AND
    /// <guard>`, with `args` as `$2`, `$3`, …: the row afterwards, `None`
    /// when nothing matched.
    async fn write(
        &self,
        step: Step,
        set: &str,
        guard: &str,
        args: &[Option<&str>],
    ) -> Result<Option<Row>, Refusal> {
        let sql = format!(
            "UPDATE workspaces SET {set}, updated_at = now() WHERE id = $1 AND ({guard}) \
             RETURNING txid_current(), status, instance_id, runtime, \
             (extract(epoch FROM updated_at) * 1000000)::int8"
        );
        let start = self.p.stage.now();
        // Every fragment is one of this module's literals.
        let mut query = sqlx::query_as(AssertSqlSafe(sql)).bind(&self.ws.0);
        for a in args {
            query = query.bind(*a);
        }
        let wrote: Option<Written> = query
            .fetch_optional(&self.p.pool)
            .await
            .map_err(|_| self.failed(step))?;
        self.p.stage.record(Rec::FlowWrite {
            flow: self.flow,
            step,
            ws: self.ws.clone(),
            txid: wrote.as_ref().map(|w| w.0),
            start,
        });
        Ok(wrote.map(|(_, s, i, r, u)| self.row((s, i, r, u))))
    }

    /// Stop: the control plane terminates the target (errors are ignored
    /// by every flow, so none is modelled).
    async fn stop(&self, step: Step, target: StopTarget) {
        tokio::time::sleep(self.p.stage.platform_latency()).await;
        let instance = match target {
            StopTarget::Workspace => self.p.stage.held_for(&self.ws),
            StopTarget::Instance(i) => i.filter(|i| !i.0.is_empty()),
        };
        let was = match &instance {
            Some(i) => self.p.stage.terminate(i),
            None => InstanceState::NotFound,
        };
        self.step(step, Effect::Stopped { instance, was });
    }

    /// The control plane launches a new instance; its id and the instant
    /// it will run.
    async fn launch(&self, step: Step) -> (InstanceId, Duration) {
        tokio::time::sleep(self.p.stage.platform_latency()).await;
        let (id, ready) = self.p.stage.launch(&self.ws);
        self.step(step, Effect::Launched(id.clone()));
        (id, ready)
    }

    /// A sleep that is a step of its own.
    async fn sleep(&self, step: Step, d: Duration) {
        tokio::time::sleep(d).await;
        self.step(step, Effect::Waited(d));
    }

    /// Provisions the workspace: launch, record the instance, `online`
    /// once it runs (the agent's registration, guarded on its instance).
    async fn provision(&self, guard: Guard) -> Result<(), Refusal> {
        let (instance, ready) = self.launch(Step::Launch).await;
        let recorded = match &guard {
            Guard::None => {
                self.write(
                    Step::Record,
                    "instance_id = $2",
                    "TRUE",
                    &[Some(&instance.0)],
                )
                .await?
            }
            Guard::Claimed(prev) => {
                self.write(
                    Step::Record,
                    "instance_id = $2",
                    "status = 'provisioning' AND instance_id IS NOT DISTINCT FROM $3",
                    &[Some(&instance.0), prev.as_ref().map(|i| i.0.as_str())],
                )
                .await?
            }
        };
        let hardened = matches!(guard, Guard::Claimed(_));
        if recorded.is_none() {
            if hardened {
                self.stop(Step::Stop, StopTarget::Instance(Some(instance)))
                    .await;
            }
            return Err(Refusal::Superseded);
        }
        tokio::time::sleep(ready.saturating_sub(self.p.stage.now())).await;
        if self.p.stage.cloud_state(&instance) != InstanceState::Running {
            return Err(Refusal::NeverRan);
        }
        let guard = if hardened {
            "instance_id = $2 AND status = 'provisioning'"
        } else {
            "instance_id = $2"
        };
        let online = self
            .write(
                Step::Online,
                "status = 'online'",
                guard,
                &[Some(&instance.0)],
            )
            .await?;
        if online.is_none() {
            if hardened {
                // The row moved on while the instance booted: it must not
                // keep running.
                self.stop(Step::Stop, StopTarget::Instance(Some(instance)))
                    .await;
            }
            return Err(Refusal::Superseded);
        }
        Ok(())
    }
}

async fn restart_as_merged(ctx: &FlowCtx) -> Result<(), Refusal> {
    let row = ctx
        .read(
            Step::Read,
            "status NOT IN ('removed', 'paused', 'hibernated')",
        )
        .await?
        .ok_or(Refusal::NoRow)?;
    if row.runtime.as_deref() == Some("external") {
        return Err(Refusal::External);
    }
    if row.status == Status::Provisioning {
        ctx.sleep(Step::Wait, RESTART_WAIT).await;
    }
    ctx.stop(Step::Stop, StopTarget::Workspace).await;
    // Unguarded: an UPDATE that matches no row is no error, and the cycle
    // provisions anyway.
    ctx.write(Step::Status, "status = 'provisioning'", "TRUE", &[])
        .await?;
    ctx.provision(Guard::None).await
}

async fn restart_hardened(ctx: &FlowCtx, proven: Option<&InstanceId>) -> Result<(), Refusal> {
    let claimed = claim_then_stop(
        ctx,
        "status = 'provisioning'",
        "status IN ('online', 'degraded', 'offline') \
         AND COALESCE(runtime, '') <> 'external' \
         AND ($2::text IS NULL OR instance_id = $2)",
        &[proven.map(|i| i.0.as_str())],
    )
    .await?;
    ctx.provision(Guard::Claimed(claimed)).await
}

/// The hardened platform's first steps: the guarded claim of the row, then
/// a Stop of the instance the claim saw (never whatever the row holds by
/// then); returns that instance. A claim that matches no row refuses.
async fn claim_then_stop(
    ctx: &FlowCtx,
    set: &str,
    guard: &str,
    binds: &[Option<&str>],
) -> Result<Option<InstanceId>, Refusal> {
    let row = ctx
        .write(Step::Claim, set, guard, binds)
        .await?
        .ok_or(Refusal::ClaimLost)?;
    ctx.stop(Step::Stop, StopTarget::Instance(row.instance.clone()))
        .await;
    Ok(row.instance)
}

/// The owner's and the platform's other flows, as an actor starts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerFlow {
    /// `POST /workspaces/:id/restart`.
    ManualRestart,
    /// The owner pauses.
    Pause,
    /// The owner resumes a paused workspace.
    Resume,
    /// The platform hibernates an idle workspace.
    Hibernate,
    /// The owner soft-deletes.
    Delete,
}

impl OwnerFlow {
    fn kind(self) -> Flow {
        match self {
            OwnerFlow::ManualRestart => Flow::ManualRestart,
            OwnerFlow::Pause => Flow::Pause,
            OwnerFlow::Resume => Flow::Resume,
            OwnerFlow::Hibernate => Flow::Hibernate,
            OwnerFlow::Delete => Flow::Delete,
        }
    }
}

/// Runs one owner flow on `ws` to its end (background provisions
/// included: a flow's end is the end of everything it started).
pub async fn owner(p: &Rc<Platform>, which: OwnerFlow, ws: WorkspaceId) {
    let id = p.stage.next_flow();
    let ctx = FlowCtx::begin(p, id, which.kind(), ws, Cause::Timed);
    let hardened = p.mode == PlatformMode::Hardened;
    let refused = match which {
        OwnerFlow::ManualRestart => manual_restart(&ctx, hardened).await,
        OwnerFlow::Pause => pause(&ctx, hardened).await,
        OwnerFlow::Resume => resume(&ctx, hardened).await,
        OwnerFlow::Hibernate => hibernate(&ctx, hardened).await,
        OwnerFlow::Delete => delete(&ctx, hardened).await,
    };
    ctx.end(refused.err());
}

async fn manual_restart(ctx: &FlowCtx, hardened: bool) -> Result<(), Refusal> {
    if hardened {
        let claimed = claim_then_stop(
            ctx,
            "status = 'provisioning'",
            "status NOT IN ('provisioning', 'hibernating', 'removed')",
            &[],
        )
        .await?;
        return ctx.provision(Guard::Claimed(claimed)).await;
    }
    ctx.read(Step::Read, "TRUE").await?.ok_or(Refusal::NoRow)?;
    ctx.stop(Step::Stop, StopTarget::Workspace).await;
    ctx.write(Step::Status, "status = 'provisioning'", "TRUE", &[])
        .await?;
    ctx.provision(Guard::None).await
}

async fn pause(ctx: &FlowCtx, hardened: bool) -> Result<(), Refusal> {
    if hardened {
        claim_then_stop(
            ctx,
            "status = 'paused'",
            "status NOT IN ('removed', 'paused', 'provisioning', 'hibernating')",
            &[],
        )
        .await?;
        return Ok(());
    }
    ctx.read(Step::Read, "status NOT IN ('removed', 'paused')")
        .await?
        .ok_or(Refusal::NoRow)?;
    ctx.stop(Step::Stop, StopTarget::Workspace).await;
    ctx.write(Step::Status, "status = 'paused'", "TRUE", &[])
        .await?;
    Ok(())
}

async fn resume(ctx: &FlowCtx, hardened: bool) -> Result<(), Refusal> {
    if hardened {
        let row = ctx
            .write(
                Step::Claim,
                "status = 'provisioning'",
                "status = 'paused'",
                &[],
            )
            .await?
            .ok_or(Refusal::ClaimLost)?;
        return ctx.provision(Guard::Claimed(row.instance)).await;
    }
    ctx.read(Step::Read, "status = 'paused'")
        .await?
        .ok_or(Refusal::NoRow)?;
    ctx.write(Step::Status, "status = 'provisioning'", "TRUE", &[])
        .await?;
    ctx.provision(Guard::None).await
}

async fn hibernate(ctx: &FlowCtx, hardened: bool) -> Result<(), Refusal> {
    let row = ctx
        .write(
            Step::Claim,
            "status = 'hibernating'",
            "status IN ('online', 'degraded')",
            &[],
        )
        .await?
        .ok_or(Refusal::ClaimLost)?;
    let target = if hardened {
        StopTarget::Instance(row.instance)
    } else {
        StopTarget::Workspace
    };
    ctx.stop(Step::Stop, target).await;
    let guard = if hardened {
        "status = 'hibernating'"
    } else {
        "TRUE"
    };
    ctx.write(Step::Status, "status = 'hibernated'", guard, &[])
        .await?
        .ok_or(Refusal::ClaimLost)?;
    Ok(())
}

async fn delete(ctx: &FlowCtx, hardened: bool) -> Result<(), Refusal> {
    if hardened {
        claim_then_stop(ctx, "status = 'removed'", "status <> 'removed'", &[]).await?;
        return Ok(());
    }
    ctx.write(Step::Status, "status = 'removed'", "TRUE", &[])
        .await?
        .ok_or(Refusal::NoRow)?;
    ctx.stop(Step::Stop, StopTarget::Workspace).await;
    Ok(())
}
