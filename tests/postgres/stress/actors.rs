//! The actors that race with the reconciler, each a loop on its own
//! Postgres connection (its own `application_name`, so the audit says who
//! wrote what), choosing targets and moves from its own seeded stream and
//! sleeping a seeded real-time interval between moves.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use pg_store::world;
use rand::RngExt;
use reconciler_core::{InstanceState, Row, Status, WorkspaceId};
use sim::seed::{SimRng, child_rng};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use super::platform::{self, OwnerFlow, Platform};
use super::stage::Stage;

/// The actor classes: the platform's writers as the simulated world models
/// them (issue #11), the cloud, slow control-plane spells, and a writer that
/// holds its row lock open for a while (so the reconciler's claim must wait
/// for it, and decide on the row as it is at commit). The restarts the
/// reconciler starts are not an actor: they run from the offline handler
/// (see `platform`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The control plane's orphan sweeper: NULLs `instance_id` of a row
    /// whose instance it reaped.
    Sweeper,
    /// The heartbeat handler: a running agent's beat recovers (or touches)
    /// its row, a missing beat degrades it.
    Heartbeat,
    /// The owner's and the platform's multi-step flows: manual restart,
    /// pause, resume, hibernate, soft delete.
    Owner,
    /// The cloud terminating, stopping and starting instances (no row
    /// write).
    Cloud,
    /// An admin purging rows (a hard `DELETE`) and new workspaces arriving.
    Churn,
    /// A heartbeat or a sweep inside a transaction held open 5–50 ms,
    /// committed or rolled back.
    LockHolder,
    /// Periods of a control plane slower than the probe timeout.
    SlowCp,
}

impl Actor {
    /// Every actor.
    pub const ALL: [Actor; 7] = [
        Actor::Sweeper,
        Actor::Heartbeat,
        Actor::Owner,
        Actor::Cloud,
        Actor::Churn,
        Actor::LockHolder,
        Actor::SlowCp,
    ];

    /// Its name: the seed label and (prefixed) its `application_name`.
    pub fn name(self) -> &'static str {
        match self {
            Actor::Sweeper => "sweeper",
            Actor::Heartbeat => "heartbeat",
            Actor::Owner => "owner",
            Actor::Cloud => "cloud",
            Actor::Churn => "churn",
            Actor::LockHolder => "lock-holder",
            Actor::SlowCp => "slow-cp",
        }
    }

    /// Milliseconds between two moves (inclusive range).
    fn pause_ms(self) -> (u64, u64) {
        match self {
            Actor::Sweeper => (40, 160),
            Actor::Heartbeat => (20, 80),
            Actor::Owner => (40, 160),
            Actor::Cloud => (30, 120),
            Actor::Churn => (300, 900),
            Actor::LockHolder => (20, 100),
            Actor::SlowCp => (1_000, 3_000),
        }
    }
}

/// The workspace ids ever seen (purged ones stay: a move on a purged row
/// is a no-op, as in production).
pub struct Fleet {
    ids: RefCell<Vec<WorkspaceId>>,
}

impl Fleet {
    /// A fleet of these ids.
    pub fn new(ids: Vec<WorkspaceId>) -> Self {
        Self {
            ids: RefCell::new(ids),
        }
    }
}

/// One actor's loop, until the stage stops.
pub async fn run(
    actor: Actor,
    stage: Rc<Stage>,
    fleet: Rc<Fleet>,
    platform: Rc<Platform>,
    options: PgConnectOptions,
    seed: u64,
) {
    let name = format!("adv-{}", actor.name());
    let mut conn = PgConnection::connect_with(&options.application_name(&name))
        .await
        .unwrap_or_else(|e| panic!("{name}: connecting: {e}"));
    let mut rng = child_rng(seed, actor.name());
    let mut me = Me {
        stage: &stage,
        fleet: &fleet,
        platform: &platform,
        conn: &mut conn,
        rng: &mut rng,
    };
    let (lo, hi) = actor.pause_ms();
    while !stage.stopped() {
        let pause = me.rng.random_range(lo..=hi);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if stage.stopped() {
            break;
        }
        me.step(actor)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    conn.close().await.ok();
}

/// One actor's handles.
struct Me<'a> {
    stage: &'a Stage,
    fleet: &'a Fleet,
    platform: &'a Rc<Platform>,
    conn: &'a mut PgConnection,
    rng: &'a mut SimRng,
}

impl Me<'_> {
    /// The row the reconciler is on half the time, else any workspace.
    fn target(&mut self) -> WorkspaceId {
        if self.rng.random_bool(0.5)
            && let Some(hot) = self.stage.hot()
        {
            return hot;
        }
        let ids = self.fleet.ids.borrow();
        ids[self.rng.random_range(0..ids.len())].clone()
    }

    async fn row(&mut self, ws: &WorkspaceId) -> Result<Option<Row>, sqlx::Error> {
        world::row(&mut *self.conn, ws).await
    }

    /// The heartbeat handler's guarded move: only a live row changes
    /// between `online` and `degraded` (or is touched), as the simulated
    /// handler decides and writes in one instant.
    async fn beat<'c>(
        db: impl sqlx::PgExecutor<'c>,
        ws: &WorkspaceId,
        status: &Status,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE workspaces SET status = $2, updated_at = now() \
             WHERE id = $1 AND status IN ('online', 'degraded')",
        )
        .bind(&ws.0)
        .bind(status.as_str())
        .execute(db)
        .await?;
        Ok(())
    }

    /// What the heartbeat handler writes for `row` now: `online` when its
    /// instance runs (a recovery, or a touch), `degraded` when it does not.
    fn beat_for(&self, row: &Row) -> Status {
        let running = row
            .live_instance()
            .is_some_and(|i| self.stage.cloud_state(i) == InstanceState::Running);
        if running {
            Status::Online
        } else {
            Status::Degraded
        }
    }

    async fn step(&mut self, actor: Actor) -> Result<(), sqlx::Error> {
        match actor {
            Actor::Sweeper => {
                let ws = self.target();
                let reaped = self.row(&ws).await?.and_then(|r| {
                    r.live_instance()
                        .filter(|i| self.stage.cloud_state(i) == InstanceState::NotFound)
                        .cloned()
                });
                if reaped.is_some() {
                    world::orphan_sweep(&mut *self.conn, &ws).await?;
                }
            }
            Actor::Heartbeat => {
                let ws = self.target();
                if let Some(row) = self.row(&ws).await?
                    && row.status.is_live()
                {
                    let status = self.beat_for(&row);
                    Self::beat(&mut *self.conn, &ws, &status).await?;
                }
            }
            Actor::Owner => {
                let ws = self.target();
                let Some(row) = self.row(&ws).await? else {
                    return Ok(());
                };
                let which = match row.status {
                    Status::Removed => return Ok(()),
                    Status::Paused => OwnerFlow::Resume,
                    _ => match self.rng.random_range(0..20u32) {
                        0..=7 => OwnerFlow::ManualRestart,
                        8..=13 => OwnerFlow::Pause,
                        14..=17 => OwnerFlow::Hibernate,
                        _ => OwnerFlow::Delete,
                    },
                };
                platform::owner(self.platform, which, ws).await;
            }
            Actor::Cloud => {
                let ws = self.target();
                if let Some(i) = self
                    .row(&ws)
                    .await?
                    .and_then(|r| r.live_instance().cloned())
                {
                    match self.rng.random_range(0..10u32) {
                        0..=3 => {
                            self.stage.terminate(&i);
                        }
                        4..=6 => self.stage.stop_instance(&i),
                        _ => self.stage.start_instance(&i),
                    }
                }
            }
            Actor::Churn => {
                let ws = self.target();
                world::delete(&mut *self.conn, &ws).await?;
                let id = {
                    let mut ids = self.fleet.ids.borrow_mut();
                    let id = WorkspaceId(format!("ws-{:03}", ids.len()));
                    ids.push(id.clone());
                    id
                };
                let instance = self.stage.fresh_id();
                self.stage
                    .seed_instance(&instance, InstanceState::Running, &id);
                let updated_at: i64 =
                    sqlx::query_scalar("SELECT (extract(epoch FROM now()) * 1000000)::int8")
                        .fetch_one(&mut *self.conn)
                        .await?;
                let row = Row {
                    id,
                    status: Status::Online,
                    instance: Some(instance),
                    runtime: None,
                    updated_at,
                };
                world::insert(&mut *self.conn, &row).await?;
            }
            Actor::LockHolder => {
                let ws = self.target();
                let hold = Duration::from_millis(self.rng.random_range(5..=50));
                let commit = self.rng.random_bool(0.8);
                let sweep = self.rng.random_bool(0.25);
                let Some(row) = self.row(&ws).await? else {
                    return Ok(());
                };
                let status = self.beat_for(&row);
                let mut tx = self.conn.begin().await?;
                let txid: i64 = sqlx::query_scalar("SELECT txid_current()")
                    .fetch_one(&mut *tx)
                    .await?;
                if sweep {
                    if row
                        .live_instance()
                        .is_some_and(|i| self.stage.cloud_state(i) == InstanceState::NotFound)
                    {
                        world::orphan_sweep(&mut *tx, &ws).await?;
                    }
                } else {
                    Self::beat(&mut *tx, &ws, &status).await?;
                }
                tokio::time::sleep(hold).await;
                if commit {
                    tx.commit().await?;
                    self.stage.committed(txid);
                } else {
                    tx.rollback().await?;
                }
            }
            Actor::SlowCp => {
                let latency = Duration::from_millis(self.rng.random_range(80..=150));
                let lasts = Duration::from_millis(self.rng.random_range(200..=600));
                self.stage.cp_slow(latency, self.stage.now() + lasts);
            }
        }
        Ok(())
    }
}
