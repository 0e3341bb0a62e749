//! Finding a Postgres server for a test, and giving the test its own database.
//!
//! Discovery, in order:
//!
//! 1. `DATABASE_URL` is set: use that server (the role needs `CREATEDB`);
//! 2. else start a container with testcontainers, image
//!    `RECONCILER_SIM_PG_IMAGE` (`name:tag`, default [`DEFAULT_IMAGE`]);
//! 3. else fail the test with [`no_postgres_message`]: a Postgres test never
//!    silently skips.
//!
//! Each test then creates a database of its own on that server (named from
//! the process id and a counter, so parallel tests and parallel test
//! processes never share one), migrates it, and drops it when the
//! [`TestDb`] is dropped. A container is owned by the one test that started
//! it and removed with it, so a container per test is the unit of isolation
//! under both `cargo test` (threads) and nextest (a process per test).

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use pg_store::Connected;
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::testcontainers::runners::AsyncRunner;
use testcontainers_modules::testcontainers::{ContainerAsync, ImageExt};

/// The variable that names the container image, as `name:tag`.
pub const IMAGE_VAR: &str = "RECONCILER_SIM_PG_IMAGE";

/// The image used when [`IMAGE_VAR`] is unset: the official image at a
/// current, pinned major version (testcontainers-modules defaults to the
/// end-of-life `11-alpine`).
pub const DEFAULT_IMAGE: &str = "postgres:17-alpine";

/// The image `ci/postgres-image.sh` builds, for machines that cannot pull.
pub const LOCAL_IMAGE: &str = "reconciler-sim/postgres:15-bookworm";

/// A test's own migrated database, and what keeps its server alive.
///
/// Field order matters: the database is dropped (in [`Drop`]) while the
/// container still runs, then the container is removed.
pub struct TestDb {
    /// The store under test and the actors' admin pool, on this database.
    pub db: Connected,
    name: String,
    server: PgConnectOptions,
    container: Option<ContainerAsync<Postgres>>,
}

impl TestDb {
    /// The per-test database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.container.is_some() {
            // The container, database and all, is removed right after this.
            return;
        }
        // Dropping needs an async connection, but Drop is sync and may run on
        // the test's runtime thread (or during a panic): do it on a thread of
        // its own with a private runtime. `WITH (FORCE)` ends the test's own
        // pooled connections (closing the pools from here is not possible:
        // their sockets belong to the test's runtime). Best effort: a leftover database
        // on a developer's server is harmless and named after the test run.
        let server = self.server.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for dropping the test database");
            rt.block_on(async move {
                let mut conn = PgConnection::connect_with(&server).await?;
                sqlx::query(AssertSqlSafe(drop_database_sql(&name)))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("note: could not drop test database {}: {e}", self.name);
        }
    }
}

/// Where the server came from.
struct Server {
    options: PgConnectOptions,
    container: Option<ContainerAsync<Postgres>>,
}

/// Finds a server (see the module docs), creates a fresh database on it,
/// migrates it, and connects the store and the admin pool to it.
///
/// Panics, with instructions, when no server can be found.
pub async fn test_db() -> TestDb {
    let Server { options, container } = server().await;
    let name = unique_database_name();
    let mut conn = PgConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| panic!("connecting to the Postgres server: {e}"));
    sqlx::query(AssertSqlSafe(create_database_sql(&name)))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
    conn.close().await.ok();
    let db = pg_store::connect_with(options.clone().database(&name))
        .await
        .unwrap_or_else(|e| panic!("migrating test database {name}: {e}"));
    TestDb {
        db,
        name,
        server: options,
        container,
    }
}

async fn server() -> Server {
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        let options = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("DATABASE_URL is not a Postgres URL ({e}): {url}"));
        return Server {
            options,
            container: None,
        };
    }
    let image = std::env::var(IMAGE_VAR).unwrap_or_else(|_| DEFAULT_IMAGE.to_owned());
    let (name, tag) = parse_image(&image).unwrap_or_else(|e| panic!("{e}"));
    let started = Postgres::default()
        .with_name(name)
        .with_tag(tag)
        .start()
        .await;
    let container = started.unwrap_or_else(|e| panic!("{}", no_postgres_message(&image, &e)));
    let host = container
        .get_host()
        .await
        .unwrap_or_else(|e| panic!("the Postgres container has no host: {e}"));
    let port = container
        .get_host_port_ipv4(5432)
        .await
        .unwrap_or_else(|e| panic!("the Postgres container exposes no port 5432: {e}"));
    // The module's defaults: user, password and database `postgres`.
    let options = PgConnectOptions::new()
        .host(&host.to_string())
        .port(port)
        .username("postgres")
        .password("postgres")
        .database("postgres");
    Server {
        options,
        container: Some(container),
    }
}

/// Splits `name:tag`; the tag is after the last `:` that follows the last
/// `/`, so a registry with a port (`host:5000/postgres:17`) parses.
pub fn parse_image(image: &str) -> Result<(&str, &str), String> {
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(colon) if colon > 0 && slash + colon + 1 < image.len() => {
            Ok((&image[..slash + colon], &image[slash + colon + 1..]))
        }
        _ => Err(format!(
            "{IMAGE_VAR}={image:?} is not of the form name:tag (e.g. {DEFAULT_IMAGE} or {LOCAL_IMAGE})"
        )),
    }
}

/// What a test says when it finds no Postgres: every way to provide one.
pub fn no_postgres_message(image: &str, cause: &dyn std::fmt::Display) -> String {
    format!(
        "no Postgres server for this test.\n\
         DATABASE_URL is not set, and a container from image {image} could not be started:\n  \
         {cause}\n\
         Provide Postgres in one of these ways:\n  \
         1. point the tests at a server: DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/postgres \
         (the role needs CREATEDB: each test creates and drops its own database);\n  \
         2. start Docker (or set DOCKER_HOST) so that testcontainers can run {IMAGE_VAR} \
         (name:tag, default {DEFAULT_IMAGE});\n  \
         3. if no image registry is reachable, build the image locally with \
         `ci/postgres-image.sh` and set {IMAGE_VAR}={LOCAL_IMAGE}."
    )
}

/// A database name unique on the server for this run: the process id (test
/// processes run in parallel under nextest) and a counter (tests run on
/// parallel threads under `cargo test`). No randomness, so a name in a
/// server log points back at one test process.
fn unique_database_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("reconciler_sim_{}_{n}", std::process::id())
}

// Identifiers cannot be bind parameters; these names are built above from
// two integers only, never from input.
fn create_database_sql(name: &str) -> String {
    format!("CREATE DATABASE \"{name}\"")
}

fn drop_database_sql(name: &str) -> String {
    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")
}
