//! `reconciler-core`'s [`Store`](reconciler_core::Store) over a real Postgres,
//! plus the schema and the writes of the actors that race with it.
//!
//! The simulator proves properties against an in-memory table; this crate
//! exists so the same reconcile code can be run against the real thing, where
//! row locks, READ COMMITTED re-checks, `NULL` versus `''` and collation are
//! Postgres's and not our model of them.
//!
//! * [`MIGRATOR`] creates `workspaces`, its audit trail
//!   (`workspaces_audit`, filled by a trigger on every write) and the
//!   platform's event table (`structure_events`).
//! * [`PgStore`] runs the reference SQL of each [`Store`](reconciler_core::Store)
//!   method, with bound parameters only.
//! * [`world`] holds the racing actors' writes (delete, orphan sweep,
//!   reprovision, status writes, …), the offline handler's event, and
//!   ground-truth reads, each one statement, on any connection, pool or open
//!   transaction.
//! * [`connect`] puts the two together: migrate a database, return the store
//!   and an admin pool.
//!
//! Everything here talks to a real server in real time: run it on a tokio
//! runtime whose clock is *not* paused, or a paused clock will auto-advance
//! while a task waits on the socket and fire the reconciler's timeouts early.
#![deny(missing_docs)]

mod store;
mod time;
pub mod world;

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use store::{DEFAULT_FLIP_BUDGET, PgStore};
pub use time::Micros;

/// The schema: `workspaces`, the `workspaces_audit` trigger and
/// `structure_events`. Exposed so a harness that builds its own pool can
/// migrate with it.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// The `application_name` of the store's connections: how a test finds the
/// reconciler's backend in `pg_stat_activity` (to kill it) and its writes in
/// `workspaces_audit`.
pub const STORE_APPLICATION_NAME: &str = "reconciler";

/// The `application_name` of the admin pool returned by [`connect`], so that
/// killing the reconciler's backends never kills the actors' connection.
pub const ADMIN_APPLICATION_NAME: &str = "reconciler-sim-admin";

/// A migrated database: the store under test and a separate pool for the
/// actors and ground-truth reads.
#[derive(Clone, Debug)]
pub struct Connected {
    /// The store the reconciler runs on (`application_name = 'reconciler'`).
    pub store: PgStore,
    /// The actors' pool (`application_name = 'reconciler-sim-admin'`); pass
    /// it, or a transaction opened on it, to the [`world`] functions.
    pub admin: PgPool,
}

/// Empties `workspaces`, its audit trail and `structure_events` (restarting
/// their sequences), so that one migrated database can serve run after run.
pub async fn empty(admin: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("TRUNCATE workspaces, workspaces_audit, structure_events RESTART IDENTITY")
        .execute(admin)
        .await?;
    Ok(())
}

/// Connects to `database_url`, runs [`MIGRATOR`], and returns the store and an
/// admin pool on separate connections.
pub async fn connect(database_url: &str) -> Result<Connected, sqlx::Error> {
    connect_with(PgConnectOptions::from_str(database_url)?).await
}

/// [`connect`] from parsed options, for harnesses that derive them (a test
/// pointing the server's options at its own database, say). The
/// `application_name`s are set here.
///
/// The admin pool runs the migrations, so the store's pool holds no
/// connection until the reconciler first uses it.
pub async fn connect_with(options: PgConnectOptions) -> Result<Connected, sqlx::Error> {
    let admin = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.clone().application_name(ADMIN_APPLICATION_NAME))
        .await?;
    MIGRATOR.run(&admin).await?;
    let store = PgStore::new(
        PgStore::pool_options().connect_lazy_with(options.application_name(STORE_APPLICATION_NAME)),
    );
    Ok(Connected { store, admin })
}
