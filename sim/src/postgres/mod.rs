//! Scenarios on a real Postgres (cargo feature `postgres`).
//!
//! The reconciler runs against `pg-store` on a database of its own; the rest
//! of the world — control plane, cloud, director, timed actions, restarts,
//! trace and oracle — is the simulator's, so a run is judged exactly as a
//! simulated one is. Hook steps still happen where the script puts them:
//! the director decides at the hook point, and the rows it changed are
//! written with the actors' SQL on a second connection before the
//! reconciler's next statement (see [`store`]).
//!
//! Runs use tokio's real clock (a paused clock would auto-advance while a
//! task waits on the socket and fire the reconciler's timeouts before
//! Postgres answers), with every duration of the script divided by
//! [`TIME_SCALE`] so that a pass of the reference's 60 s interval takes
//! 0.6 s.

pub mod scratch;
pub mod script;
pub mod store;

use pg_store::{Connected, world as sql};
use reconciler_core::{Config, Row, Variant};
use tokio::runtime::Runtime;

use crate::run::{Setup, run_world_with};
use crate::world::World;

pub use scratch::Scratch;
pub use script::{PgScriptRun, run_script_pg, scaled};
pub use store::{Mirror, PgBackedStore};

/// How many times faster than the script's own durations a Postgres-backed
/// run goes: intervals, deadlines, timeouts, latencies, timed steps and the
/// cloud's delays are all divided by it.
pub const TIME_SCALE: u32 = 100;

/// A Postgres-backed run.
pub struct PgOutcome {
    /// The model world at the end, its trace (in the simulator's format,
    /// at the run's scaled times) included.
    pub world: World,
    /// Every statement whose result differed from the simulated table's,
    /// and every row that ended differently: empty when the two stores
    /// agreed throughout.
    pub divergences: Vec<String>,
    /// The reconciler's statements during whose round trip a platform flow
    /// or a timed action changed a row of the model (real time lets them
    /// run side by side; the simulation orders them by simulated instant).
    /// Postgres answered such a statement without the change and the model
    /// holds it, so a divergence or a different verdict in a run with races
    /// may be timing rather than the store: conformance runs it again.
    pub raced: u32,
}

/// A current-thread runtime on the real clock, with I/O.
pub fn pg_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime with I/O and time always builds")
}

/// Runs the reconciler's replicas over `setup` with `db` as their store.
/// `db`'s tables must be empty: the fleet is inserted from the setup's
/// world. Call it inside [`pg_runtime`], within a `LocalSet`.
pub async fn run_world_pg(
    variant: Variant,
    config: Config,
    mut setup: Setup,
    db: &Connected,
) -> Result<PgOutcome, sqlx::Error> {
    setup.world.log_changes();
    let fleet: Vec<Row> = setup.world.table.rows().cloned().collect();
    let base_us: i64 = sqlx::query_scalar("SELECT (extract(epoch FROM now()) * 1000000)::int8")
        .fetch_one(&db.admin)
        .await?;
    for row in &fleet {
        let mut stored = row.clone();
        stored.updated_at = base_us + row.updated_at * 1000;
        sql::insert(&db.admin, &stored).await?;
    }
    let mirror = Mirror::default();
    mirror
        .rows
        .borrow_mut()
        .extend(fleet.iter().map(|r| (r.id.clone(), r.clone())));
    let flip_budget = config.reconfirm_timeout / 2;
    let mut world = run_world_with(variant, config, setup, |shared, replica| {
        PgBackedStore::new(
            shared,
            replica,
            db.store.clone().with_flip_budget(flip_budget),
            db.admin.clone(),
            mirror.clone(),
        )
    })
    .await;
    // What the platform wrote after the reconciler's last statement.
    let mut divergences = mirror.divergences.take();
    let last = store::batches(world.take_changes(), &mut mirror.rows.borrow_mut());
    store::apply(&db.admin, last, &mut |d| divergences.push(d)).await?;
    let expected: Vec<Row> = world.table.rows().cloned().collect();
    let actual = sql::rows(&db.admin).await?;
    let same = |a: &Row, b: &Row| {
        a.id == b.id && a.status == b.status && a.instance == b.instance && a.runtime == b.runtime
    };
    if actual.len() != expected.len() || !actual.iter().zip(&expected).all(|(a, e)| same(a, e)) {
        divergences.push(format!(
            "the table ended as {:?}, the simulated one as {:?}",
            actual.iter().map(ToString::to_string).collect::<Vec<_>>(),
            expected.iter().map(ToString::to_string).collect::<Vec<_>>()
        ));
    }
    let flips = world
        .trace
        .entries()
        .filter(|e| matches!(e.event, crate::trace::Event::Offline { .. }))
        .count();
    let events = sql::events(&db.admin).await?.len();
    if events != flips {
        divergences.push(format!(
            "{events} WORKSPACE_OFFLINE rows in Postgres's event table for {flips} flips"
        ));
    }
    Ok(PgOutcome {
        world,
        divergences,
        raced: mirror.raced.get(),
    })
}
