//! The actors that race with the reconciler, each a loop on its own
//! Postgres connection (its own `application_name`, so the audit says who
//! wrote what), choosing targets and moves from its own seeded stream and
//! sleeping a seeded real-time interval between moves.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use pg_store::world;
use rand::RngExt;
use reconciler_core::{InstanceId, InstanceState, Row, Status, WorkspaceId};
use sim::seed::{SimRng, child_rng};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use super::stage::Stage;

/// The actor classes. Every one the reference lists, plus a writer that
/// holds its row lock open for a while (so the reconciler's write must wait
/// for it, and decide on the row as it is at commit) and the platform, which
/// carries out the restarts the reconciler requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The orphan sweeper: `instance_id` to NULL, or (some other writer) to
    /// `''`.
    Sweeper,
    /// The heartbeat handler: degrade / recover.
    Heartbeat,
    /// Reprovisions onto a new instance.
    Reprovisioner,
    /// Pause (stop the instance) and resume (start it again).
    Pauser,
    /// The cloud terminating and stopping instances (no row write).
    Cloud,
    /// Deletes workspaces and creates new ones.
    Churn,
    /// A status write or sweep inside a transaction held open 5–50 ms,
    /// committed or rolled back.
    LockHolder,
    /// Periods of a control plane slower than the probe timeout.
    SlowCp,
    /// The restart path: reprovisions what the reconciler flipped, and marks
    /// reprovisioned rows `online` once their instance runs.
    Platform,
}

impl Actor {
    /// Every actor.
    pub const ALL: [Actor; 9] = [
        Actor::Sweeper,
        Actor::Heartbeat,
        Actor::Reprovisioner,
        Actor::Pauser,
        Actor::Cloud,
        Actor::Churn,
        Actor::LockHolder,
        Actor::SlowCp,
        Actor::Platform,
    ];

    /// Its name: the seed label and (prefixed) its `application_name`.
    pub fn name(self) -> &'static str {
        match self {
            Actor::Sweeper => "sweeper",
            Actor::Heartbeat => "heartbeat",
            Actor::Reprovisioner => "reprovisioner",
            Actor::Pauser => "pauser",
            Actor::Cloud => "cloud",
            Actor::Churn => "churn",
            Actor::LockHolder => "lock-holder",
            Actor::SlowCp => "slow-cp",
            Actor::Platform => "platform",
        }
    }

    /// Milliseconds between two moves (inclusive range).
    fn pause_ms(self) -> (u64, u64) {
        match self {
            Actor::Sweeper | Actor::Heartbeat => (20, 80),
            Actor::Reprovisioner | Actor::Pauser => (40, 160),
            Actor::Cloud => (30, 120),
            Actor::Churn => (300, 900),
            Actor::LockHolder => (20, 100),
            Actor::SlowCp => (1_000, 3_000),
            Actor::Platform => (5, 5),
        }
    }
}

/// What the actors share besides the stage: the workspace ids ever seen
/// (deleted ones stay: a move on a deleted row is a no-op, as in
/// production), and the platform's to-do list.
#[derive(Default)]
pub struct Fleet {
    ids: RefCell<Vec<WorkspaceId>>,
    /// Reprovisions waiting for their instance to boot: when, which row,
    /// which instance.
    booting: RefCell<Vec<(Duration, WorkspaceId, InstanceId)>>,
    /// Restarts waiting for the platform: when, which row.
    restarting: RefCell<Vec<(Duration, WorkspaceId)>>,
}

impl Fleet {
    /// A fleet of these ids.
    pub fn new(ids: Vec<WorkspaceId>) -> Self {
        Self {
            ids: RefCell::new(ids),
            ..Self::default()
        }
    }
}

/// One actor's loop, until the stage stops.
pub async fn run(
    actor: Actor,
    stage: Rc<Stage>,
    fleet: Rc<Fleet>,
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

    async fn step(&mut self, actor: Actor) -> Result<(), sqlx::Error> {
        match actor {
            Actor::Sweeper => {
                let ws = self.target();
                if self.rng.random_bool(0.7) {
                    world::orphan_sweep(&mut *self.conn, &ws).await?;
                } else {
                    let empty = InstanceId(String::new());
                    world::set_instance(&mut *self.conn, &ws, Some(&empty)).await?;
                }
            }
            Actor::Heartbeat => {
                let ws = self.target();
                let status = if self.rng.random_bool(0.5) {
                    Status::Degraded
                } else {
                    Status::Online
                };
                world::set_status(&mut *self.conn, &ws, &status).await?;
            }
            Actor::Reprovisioner => {
                let ws = self.target();
                self.reprovision(&ws).await?;
            }
            Actor::Pauser => {
                let ws = self.target();
                let Some(row) = self.row(&ws).await? else {
                    return Ok(());
                };
                if row.status == Status::Paused {
                    world::set_status(&mut *self.conn, &ws, &Status::Online).await?;
                    if let Some(i) = row.live_instance() {
                        self.stage.start_instance(i);
                    }
                } else {
                    world::set_status(&mut *self.conn, &ws, &Status::Paused).await?;
                    if let Some(i) = row.live_instance() {
                        self.stage.stop_instance(i);
                    }
                }
            }
            Actor::Cloud => {
                let ws = self.target();
                if let Some(i) = self
                    .row(&ws)
                    .await?
                    .and_then(|r| r.live_instance().cloned())
                {
                    if self.rng.random_bool(0.6) {
                        self.stage.terminate(&i);
                    } else {
                        self.stage.stop_instance(&i);
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
                self.stage.seed_instance(&instance, InstanceState::Running);
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
                let mv = self.rng.random_range(0..4u32);
                let mut tx = self.conn.begin().await?;
                let txid: i64 = sqlx::query_scalar("SELECT txid_current()")
                    .fetch_one(&mut *tx)
                    .await?;
                match mv {
                    0 => world::orphan_sweep(&mut *tx, &ws).await?,
                    1 => world::set_status(&mut *tx, &ws, &Status::Degraded).await?,
                    2 => world::set_status(&mut *tx, &ws, &Status::Online).await?,
                    _ => world::set_status(&mut *tx, &ws, &Status::Paused).await?,
                };
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
            Actor::Platform => {
                let now = self.stage.now();
                for ws in self.stage.take_restarts() {
                    let delay = Duration::from_millis(self.rng.random_range(20..=100));
                    self.fleet.restarting.borrow_mut().push((now + delay, ws));
                }
                let due: Vec<WorkspaceId> =
                    take_due(&mut self.fleet.restarting.borrow_mut(), now, |e| e.0)
                        .into_iter()
                        .map(|(_, ws)| ws)
                        .collect();
                for ws in due {
                    self.reprovision(&ws).await?;
                }
                let booted = take_due(&mut self.fleet.booting.borrow_mut(), now, |e| e.0);
                for (_, ws, instance) in booted {
                    world::provisioned(&mut *self.conn, &ws, &instance).await?;
                }
            }
        }
        Ok(())
    }

    /// A reprovision: the old instance is terminated, a new one launched, the
    /// row moves to `provisioning` on it, and the platform brings it `online`
    /// once the instance runs.
    async fn reprovision(&mut self, ws: &WorkspaceId) -> Result<(), sqlx::Error> {
        let Some(row) = self.row(ws).await? else {
            return Ok(());
        };
        if let Some(old) = row.live_instance() {
            self.stage.terminate(old);
        }
        let (new, boot) = self.stage.launch();
        if world::reprovision(&mut *self.conn, ws, &new).await? {
            let ready = self.stage.now() + boot;
            self.fleet
                .booting
                .borrow_mut()
                .push((ready, ws.clone(), new));
        }
        Ok(())
    }
}

/// Removes and returns the entries of a to-do list due by `now`.
fn take_due<T>(list: &mut Vec<T>, now: Duration, due: impl Fn(&T) -> Duration) -> Vec<T> {
    let (ready, later) = list.drain(..).partition(|e| due(e) <= now);
    *list = later;
    ready
}
