//! The production actors that race with the reconciler, and ground-truth
//! reads, against the real table.
//!
//! Each function is one SQL statement with bound parameters, generic over
//! the executor, so a harness can run it on the admin pool, on a dedicated
//! connection, or inside a transaction it holds open to make the reconciler
//! wait on a row lock. None of them touches the store's own connection:
//! interleavings come from a second session, as they do in production.
//!
//! Writers return whether a row was written, so a scenario step that targets
//! a deleted row is visible as a no-op rather than mistaken for a change.
//!
//! Rows are [`reconciler_core::Row`]s, the type the simulator's table uses
//! too; here `updated_at` is microseconds since the Unix epoch (see
//! [`Micros`]).
//!
//! The offline handler's own write is here too: [`record_event`], the
//! `WORKSPACE_OFFLINE` insert of `onWorkspaceOffline`, read back with
//! [`events`].

use reconciler_core::{InstanceId, Row, Status, WorkspaceId};
use sqlx::PgExecutor;

use crate::time::Micros;

/// The kind of write an audit entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditOp {
    /// A row appeared.
    Insert,
    /// A row changed (possibly to identical values: Postgres still writes).
    Update,
    /// A row disappeared.
    Delete,
}

/// One write to `workspaces`, as the audit trigger saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The order in which writes happened (see the migration for how it
    /// relates to commit order).
    pub seq: i64,
    /// What kind of write.
    pub op: AuditOp,
    /// The workspace written.
    pub id: WorkspaceId,
    /// The row before the write; `None` for an insert.
    pub old: Option<Row>,
    /// The row after the write; `None` for a delete.
    pub new: Option<Row>,
    /// The writing transaction (`txid_current()`): writes of one transaction
    /// share it.
    pub txid: i64,
    /// The real instant of the write (`clock_timestamp()`).
    pub clock_ts: Micros,
    /// The start of the writing transaction (`transaction_timestamp()`, what
    /// `now()` and so `updated_at` use).
    pub tx_ts: Micros,
    /// The writer's `application_name`: `reconciler` for the store under
    /// test.
    pub application_name: String,
}

/// Inserts a row with every column given, including `updated_at`, so that a
/// test controls the candidate order (ties included) exactly.
pub async fn insert<'c>(db: impl PgExecutor<'c>, row: &Row) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO workspaces (id, status, instance_id, runtime, updated_at) \
         VALUES ($1, $2, $3, $4, 'epoch'::timestamptz + $5 * interval '1 microsecond')",
    )
    .bind(&row.id.0)
    .bind(row.status.as_str())
    .bind(row.instance.as_ref().map(|i| i.0.as_str()))
    .bind(row.runtime.as_deref())
    .bind(row.updated_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A concurrent delete of the workspace (the re-confirm's "row gone").
pub async fn delete<'c>(db: impl PgExecutor<'c>, id: &WorkspaceId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM workspaces WHERE id = $1")
        .bind(&id.0)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The control plane's orphan sweeper: it NULLs `instance_id` on a row whose
/// instance it reaped, leaving status and `updated_at` alone (which is why an
/// `online` row with no instance can exist at all).
pub async fn orphan_sweep<'c>(
    db: impl PgExecutor<'c>,
    id: &WorkspaceId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE workspaces SET instance_id = NULL WHERE id = $1")
        .bind(&id.0)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets `instance_id` to a value, to `''` (`Some("")`) or to `NULL` (`None`),
/// touching nothing else: for scripting the NULL-versus-empty edge and
/// instance swaps that no named actor makes.
pub async fn set_instance<'c>(
    db: impl PgExecutor<'c>,
    id: &WorkspaceId,
    instance: Option<&InstanceId>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE workspaces SET instance_id = $2 WHERE id = $1")
        .bind(&id.0)
        .bind(instance.map(|i| i.0.as_str()))
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Any status write by the platform — the heartbeat handler's degrade and
/// recover, pause/hibernate, resume, a reprovision coming back `online`, a
/// scripted move — sets `status` and bumps `updated_at`, which moves the row
/// to the head of the reference's `ORDER BY updated_at DESC`.
///
/// The reference says so of the heartbeat handler; the simulated world treats
/// every status write the same way, and so does this (the two backends must
/// order candidates alike). Writes that touch only `instance_id` (the orphan
/// sweeper, [`set_instance`]) leave `updated_at` alone in both.
pub async fn set_status<'c>(
    db: impl PgExecutor<'c>,
    id: &WorkspaceId,
    status: &Status,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE workspaces SET status = $2, updated_at = now() WHERE id = $1")
        .bind(&id.0)
        .bind(status.as_str())
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Reprovision / restart: a new instance id and status `provisioning`, with
/// `updated_at` bumped. The row leaves the candidate scope until the restart
/// brings it back `online` (a later [`set_status`]).
pub async fn reprovision<'c>(
    db: impl PgExecutor<'c>,
    id: &WorkspaceId,
    instance: &InstanceId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE workspaces SET instance_id = $2, status = 'provisioning', updated_at = now() \
         WHERE id = $1",
    )
    .bind(&id.0)
    .bind(&instance.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A reprovision finishing: the platform moves the row back to `online`
/// (bumping `updated_at`) once the new instance runs — but only if the row
/// is still `provisioning` on that instance, so that a delete, a newer
/// reprovision or a pause in the meantime is not undone.
pub async fn provisioned<'c>(
    db: impl PgExecutor<'c>,
    id: &WorkspaceId,
    instance: &InstanceId,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE workspaces SET status = 'online', updated_at = now() \
         WHERE id = $1 AND status = 'provisioning' AND instance_id = $2",
    )
    .bind(&id.0)
    .bind(&instance.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The tuple a row read decodes into.
type RowTuple = (String, String, Option<String>, Option<String>, i64);

fn row_from((id, status, instance, runtime, updated_at): RowTuple) -> Row {
    Row {
        id: WorkspaceId(id),
        status: Status::parse(&status),
        instance: instance.map(InstanceId),
        runtime,
        updated_at,
    }
}

/// Ground truth for one workspace, every column, `None` when the row does
/// not exist: what an oracle compares the reconciler's flips against.
pub async fn row<'c>(
    db: impl PgExecutor<'c>,
    id: &WorkspaceId,
) -> Result<Option<Row>, sqlx::Error> {
    let row: Option<RowTuple> = sqlx::query_as(
        "SELECT id, status, instance_id, runtime, \
         (extract(epoch FROM updated_at) * 1000000)::int8 \
         FROM workspaces WHERE id = $1",
    )
    .bind(&id.0)
    .fetch_optional(db)
    .await?;
    Ok(row.map(row_from))
}

/// Ground truth for the whole table, ordered by id (byte order, like the
/// simulator's), for comparing a final state in one assertion.
pub async fn rows<'c>(db: impl PgExecutor<'c>) -> Result<Vec<Row>, sqlx::Error> {
    let rows: Vec<RowTuple> = sqlx::query_as(
        "SELECT id, status, instance_id, runtime, \
         (extract(epoch FROM updated_at) * 1000000)::int8 \
         FROM workspaces ORDER BY id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(row_from).collect())
}

/// The tuple an audit read decodes into.
type AuditTuple = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    i64,
    i64,
    String,
);

/// Rebuilds a row image; present exactly when its status is (status is NOT
/// NULL in `workspaces`).
fn image(
    id: &str,
    status: Option<String>,
    instance: Option<String>,
    runtime: Option<String>,
    updated_at: Option<i64>,
) -> Option<Row> {
    Some(row_from((
        id.to_owned(),
        status?,
        instance,
        runtime,
        updated_at?,
    )))
}

/// The full write history of `workspaces`, in `seq` order: what the stress
/// test replays through the oracle to check every flip against the row as it
/// really was.
pub async fn audit<'c>(db: impl PgExecutor<'c>) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows: Vec<AuditTuple> = sqlx::query_as(
        "SELECT seq, op, id, \
         old_status, old_instance_id, old_runtime, \
         (extract(epoch FROM old_updated_at) * 1000000)::int8, \
         new_status, new_instance_id, new_runtime, \
         (extract(epoch FROM new_updated_at) * 1000000)::int8, \
         txid, \
         (extract(epoch FROM clock_ts) * 1000000)::int8, \
         (extract(epoch FROM tx_ts) * 1000000)::int8, \
         application_name \
         FROM workspaces_audit ORDER BY seq",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(
            |(seq, op, id, os, oi, or, ou, ns, ni, nr, nu, txid, clock, tx, app)| {
                let op = match op.as_str() {
                    "INSERT" => AuditOp::Insert,
                    "UPDATE" => AuditOp::Update,
                    "DELETE" => AuditOp::Delete,
                    other => {
                        return Err(sqlx::Error::Protocol(format!(
                            "workspaces_audit.op {other:?} is not INSERT, UPDATE or DELETE"
                        )));
                    }
                };
                Ok(AuditEntry {
                    seq,
                    op,
                    old: image(&id, os, oi, or, ou),
                    new: image(&id, ns, ni, nr, nu),
                    id: WorkspaceId(id),
                    txid,
                    clock_ts: Micros(clock),
                    tx_ts: Micros(tx),
                    application_name: app,
                })
            },
        )
        .collect()
}

/// The event type `onWorkspaceOffline` records: one per flip.
pub const WORKSPACE_OFFLINE: &str = "WORKSPACE_OFFLINE";

/// One row of `structure_events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The order in which events were recorded.
    pub id: i64,
    /// The workspace the event is about (it may no longer exist).
    pub workspace: WorkspaceId,
    /// What happened, e.g. [`WORKSPACE_OFFLINE`].
    pub event_type: String,
    /// When, by the server's clock (`now()` of the recording transaction).
    pub created_at: Micros,
}

/// Records an event for `workspace`, as the platform's `onWorkspaceOffline`
/// does (with [`WORKSPACE_OFFLINE`]) before it starts the restart: a Postgres
/// run's offline handler writes through this, so each flip of the merged
/// reconciler — which writes no status — is a row a test can count. Returns
/// the event's id. There is no check that the workspace exists: neither
/// does the platform.
pub async fn record_event<'c>(
    db: impl PgExecutor<'c>,
    workspace: &WorkspaceId,
    event_type: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO structure_events (workspace_id, event_type) VALUES ($1, $2) RETURNING id",
    )
    .bind(&workspace.0)
    .bind(event_type)
    .fetch_one(db)
    .await
}

/// Every recorded event, in the order recorded (by id).
pub async fn events<'c>(db: impl PgExecutor<'c>) -> Result<Vec<Event>, sqlx::Error> {
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, workspace_id, event_type, \
         (extract(epoch FROM created_at) * 1000000)::int8 \
         FROM structure_events ORDER BY id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, workspace, event_type, created_at)| Event {
            id,
            workspace: WorkspaceId(workspace),
            event_type,
            created_at: Micros(created_at),
        })
        .collect())
}
