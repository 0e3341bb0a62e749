//! A scratch database for `sim run --backend postgres`: created on the
//! user's server, used, and dropped; nothing else on the server is touched.

use std::str::FromStr;

use pg_store::Connected;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// A database of our own on the server `DATABASE_URL` names.
pub struct Scratch {
    server: PgConnectOptions,
    name: String,
    /// The store and the actors' pool, on the scratch database.
    pub db: Connected,
}

impl Scratch {
    /// Creates `reconciler_sim_run_<pid>` on the server of `url` and
    /// migrates it. The role needs `CREATEDB`.
    pub async fn create(url: &str) -> Result<Self, sqlx::Error> {
        let server = PgConnectOptions::from_str(url)?;
        let name = format!("reconciler_sim_run_{}", std::process::id());
        let mut conn = PgConnection::connect_with(&server).await?;
        // Identifiers cannot be bind parameters; the name is built from the
        // process id only, never from input.
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let db = pg_store::connect_with(server.clone().database(&name)).await?;
        Ok(Self { server, name, db })
    }

    /// Empties the tables between two runs.
    pub async fn reset(&self) -> Result<(), sqlx::Error> {
        pg_store::empty(&self.db.admin).await
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Closes the pools and drops the database.
    pub async fn drop_database(self) -> Result<(), sqlx::Error> {
        self.db.admin.close().await;
        self.db.store.pool().close().await;
        let mut conn = PgConnection::connect_with(&self.server).await?;
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await
    }
}
