//! The reconciler's statements: the reference's three reads as it runs
//! them, and `hardened`'s claim.

use std::time::Duration;

use reconciler_core::{
    Candidate, CandidateQuery, Claim, InstanceId, Order, RowView, Status, Store, StoreError,
    WorkspaceId,
};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// The candidate scope every variant shares (`$1` is the status list). A macro
/// so that each full statement below is one compile-time literal: no SQL is
/// assembled at run time, and every value is a bind parameter.
macro_rules! scope {
    () => {
        "status = ANY($1) AND instance_id IS NOT NULL AND instance_id != '' \
         AND COALESCE(runtime, '') <> 'external'"
    };
}

/// `ORDER BY updated_at DESC` as in the reference, plus `, id`: our addition,
/// so that rows with equal `updated_at` come back in one defined order, the
/// same one the simulated store uses (the reference leaves ties to the plan).
const BY_UPDATED_AT_CAPTURE: &str = concat!(
    "SELECT id::text, instance_id FROM workspaces WHERE ",
    scope!(),
    " ORDER BY updated_at DESC, id LIMIT $2"
);
/// The legacy form of [`BY_UPDATED_AT_CAPTURE`]: the id alone.
const BY_UPDATED_AT_ID_ONLY: &str = concat!(
    "SELECT id::text FROM workspaces WHERE ",
    scope!(),
    " ORDER BY updated_at DESC, id LIMIT $2"
);
/// Keyset page from the start (`hardened`'s first page).
const BY_ID_CAPTURE: &str = concat!(
    "SELECT id::text, instance_id FROM workspaces WHERE ",
    scope!(),
    " ORDER BY id LIMIT $2"
);
/// [`BY_ID_CAPTURE`] without the instance.
const BY_ID_ID_ONLY: &str = concat!(
    "SELECT id::text FROM workspaces WHERE ",
    scope!(),
    " ORDER BY id LIMIT $2"
);
/// Keyset page after a cursor (`$3`): resumes where the last pass stopped.
const AFTER_ID_CAPTURE: &str = concat!(
    "SELECT id::text, instance_id FROM workspaces WHERE ",
    scope!(),
    " AND id > $3 ORDER BY id LIMIT $2"
);
/// [`AFTER_ID_CAPTURE`] without the instance.
const AFTER_ID_ID_ONLY: &str = concat!(
    "SELECT id::text FROM workspaces WHERE ",
    scope!(),
    " AND id > $3 ORDER BY id LIMIT $2"
);

/// The claim's compare-and-set (`$1` id, `$2` instance); see [`Claim`].
/// `instance_id <> ''` keeps the contract (a non-empty instance) even for a
/// claim built with an empty one.
macro_rules! claim {
    () => {
        "UPDATE workspaces SET status = 'offline', updated_at = now() \
         WHERE id = $1 AND instance_id = $2 AND instance_id <> '' \
         AND status IN ('online', 'degraded') \
         AND COALESCE(runtime, '') <> 'external'"
    };
}
/// A claim proven by a terminal state: no quiet guard.
const CLAIM: &str = claim!();
/// A claim proven by "not found": the row must also have gone unwritten for
/// `$3` microseconds by the server's clock (`now()`, the claim's transaction
/// start, the same clock that wrote `updated_at`).
const CLAIM_QUIET: &str = concat!(
    claim!(),
    " AND updated_at <= now() - $3 * interval '1 microsecond'"
);

/// [`Store`] over a Postgres pool.
///
/// Every method is one statement with bound parameters. Errors become
/// [`StoreError`]s naming the operation and the workspace, because the
/// reconciler only logs them (it fails safe on any error).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    flip_budget: Duration,
}

/// The server-side bound on the claim by default: half the reference's
/// re-confirm timeout (5 s), which is what bounds the claim on the client
/// side.
pub const DEFAULT_FLIP_BUDGET: Duration = Duration::from_millis(2_500);

impl PgStore {
    /// Wraps a pool. Build it from [`PgStore::pool_options`] so that a
    /// killed connection behaves as it does for the production service.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            flip_budget: DEFAULT_FLIP_BUDGET,
        }
    }

    /// Sets how long the server may spend on the claim (waiting for row
    /// locks included) before it aborts it. Keep it below the client-side
    /// timeout the reconciler puts on the write
    /// (`Config::reconfirm_timeout`), so that the server, not the client,
    /// ends a long lock wait: the statement fails cleanly, the row keeps
    /// its state and the next pass retries, instead of a backend left
    /// queued behind the lock for a transaction nobody will commit.
    pub fn with_flip_budget(mut self, budget: Duration) -> Self {
        self.flip_budget = budget;
        self
    }

    /// The pool settings the store is meant to run with:
    ///
    /// * one connection: the reconciler issues one statement at a time, and a
    ///   single backend means "the reconciler's connection" is one
    ///   `pg_stat_activity` row a test can kill;
    /// * no ping before each statement (`test_before_acquire(false)`): a
    ///   backend killed between two statements makes the next statement fail,
    ///   as it does for the Go service, instead of being silently replaced
    ///   (which would hide exactly the fault a test injects). The pool drops
    ///   the dead connection when it is released and opens a new one on the
    ///   next acquire, so the following statement succeeds;
    /// * a 5 s acquire timeout, the reference's re-confirm timeout, so that an
    ///   unreachable server fails a call rather than hanging the pass.
    ///
    /// Set `application_name` to [`crate::STORE_APPLICATION_NAME`] on the
    /// connect options ([`crate::connect`] does).
    pub fn pool_options() -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
    }

    /// The pool, for harnesses that need the store's own connection settings.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Turns a driver error into the reconciler's error, keeping what failed.
fn store_error(op: &str, id: Option<&WorkspaceId>, e: sqlx::Error) -> StoreError {
    match id {
        Some(id) => StoreError(format!("{op} {id}: {e}")),
        None => StoreError(format!("{op}: {e}")),
    }
}

impl Store for PgStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        let statuses: Vec<String> = query
            .statuses
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        let limit = i64::from(query.limit);
        let (capture, id_only, after) = match &query.order {
            Order::UpdatedAtDesc => (BY_UPDATED_AT_CAPTURE, BY_UPDATED_AT_ID_ONLY, None),
            Order::IdAfter(None) => (BY_ID_CAPTURE, BY_ID_ID_ONLY, None),
            Order::IdAfter(Some(after)) => (AFTER_ID_CAPTURE, AFTER_ID_ID_ONLY, Some(&after.0)),
        };
        let fail = |e| store_error("candidate query", None, e);
        if query.capture_instance {
            let q = sqlx::query_as::<_, (String, Option<String>)>(capture)
                .bind(statuses)
                .bind(limit);
            let q = match after {
                Some(after) => q.bind(after),
                None => q,
            };
            let rows = q.fetch_all(&self.pool).await.map_err(fail)?;
            Ok(rows
                .into_iter()
                .map(|(id, instance)| Candidate {
                    id: WorkspaceId(id),
                    instance: instance.map(InstanceId),
                })
                .collect())
        } else {
            let q = sqlx::query_as::<_, (String,)>(id_only)
                .bind(statuses)
                .bind(limit);
            let q = match after {
                Some(after) => q.bind(after),
                None => q,
            };
            let rows = q.fetch_all(&self.pool).await.map_err(fail)?;
            Ok(rows
                .into_iter()
                .map(|(id,)| Candidate {
                    id: WorkspaceId(id),
                    instance: None,
                })
                .collect())
        }
    }

    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT status, COALESCE(instance_id, '') FROM workspaces WHERE id = $1",
        )
        .bind(&id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| store_error("re-confirm", Some(id), e))?;
        Ok(row.map(|(status, instance)| RowView {
            status: Status::parse(&status),
            instance: InstanceId(instance),
        }))
    }

    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT instance_id FROM workspaces WHERE id = $1")
                .bind(&id.0)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| store_error("resolve instance", Some(id), e))?;
        Ok(row
            .and_then(|(instance,)| instance)
            .filter(|i| !i.is_empty())
            .map(InstanceId))
    }

    async fn claim(&self, claim: &Claim) -> Result<bool, StoreError> {
        // One statement: under READ COMMITTED, if a concurrent transaction
        // holds the row, this waits for it and then re-evaluates the whole
        // WHERE clause on the row's newest version (EvalPlanQual), so a
        // reprovision, sweep or heartbeat (which bumps `updated_at`, so the
        // quiet clause fails) that commits first makes it match nothing.
        //
        // It runs in an explicit transaction so that a write the reconciler
        // gave up on (its client-side timeout fired while the UPDATE waited
        // on a lock) can never commit afterwards: the UPDATE only counts once
        // COMMIT is sent, which an abandoned call never does, and the
        // dropped transaction rolls back. In autocommit the queued UPDATE
        // committed on its own when the lock was released, leaving the row
        // offline with no flip (tests/postgres/concurrency.rs). The
        // server-side `statement_timeout` (a bound value through
        // `set_config`) also ends the wait itself; see
        // [`PgStore::with_flip_budget`]. What remains is a COMMIT that
        // succeeds but whose reply arrives after the client gave up.
        let fail = |e| store_error("claim", Some(&claim.id), e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        sqlx::query("SELECT set_config('statement_timeout', $1, true)")
            .bind(format!("{}ms", self.flip_budget.as_millis().max(1)))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        let update = match claim.quiet_for {
            None => sqlx::query(CLAIM).bind(&claim.id.0).bind(&claim.instance.0),
            Some(quiet) => sqlx::query(CLAIM_QUIET)
                .bind(&claim.id.0)
                .bind(&claim.instance.0)
                .bind(quiet_micros(quiet)),
        };
        let done = update.execute(&mut *tx).await.map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok(done.rows_affected() == 1)
    }
}

/// `quiet` in whole microseconds (Postgres's resolution), rounded up so the
/// guard is never shorter than asked. A period too long for `int8`
/// saturates, and the server refuses the out-of-range timestamp: the claim
/// fails, which fails safe.
fn quiet_micros(quiet: Duration) -> i64 {
    i64::try_from(quiet.as_nanos().div_ceil(1_000)).unwrap_or(i64::MAX)
}
