//! The store of a Postgres-backed run: the reconciler's statements run on a
//! real database, at the same hook points, with the same trace events, as
//! the simulated store's.
//!
//! The simulated world still runs beside it, as the model: the director's
//! and the timed actions, and the platform's flows, apply to it first (that
//! is how they are decided, placed and traced), and before every statement
//! of the reconciler the rows they changed — and the `WORKSPACE_OFFLINE`
//! events the offline handler recorded — are written to Postgres with the
//! actors' own SQL, on a second connection, so the statement meets them.
//! Each statement's result is then compared with what the simulated table
//! says at that instant; a difference is a *divergence*, reported with the
//! run. The trace records what Postgres returned (the candidate rows,
//! whether a claim wrote) and the model's full rows, which the divergence
//! check vouches for.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use pg_store::{PgStore, world as sql};
use reconciler_core::{
    Candidate, CandidateQuery, Claim, InstanceId, Row, RowView, Status, Store, StoreError,
    WorkspaceId,
};
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::abandon::Abandon;
use crate::hook::{Hook, Point};
use crate::shared::Shared;
use crate::store::{claim_matches, reconfirm_view, traced_read};
use crate::trace::{Call, Caller, Event, ReadKind, Replica};
use crate::world::{Change, World, millis};

/// One actor write, as SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Write {
    Delete(WorkspaceId),
    Sweep(WorkspaceId),
    SetInstance(WorkspaceId, Option<InstanceId>),
    SetStatus(WorkspaceId, Status),
    Offline(WorkspaceId),
}

/// What the replicas' stores of one run share.
#[derive(Clone, Default)]
pub struct Mirror {
    /// The rows as Postgres holds them (model units), to turn each model
    /// change into the statement that makes it.
    pub rows: Rc<RefCell<BTreeMap<WorkspaceId, Row>>>,
    /// Every difference found between Postgres and the simulated table.
    pub divergences: Rc<RefCell<Vec<String>>>,
    /// Statements that raced with the model ([`super::PgOutcome::raced`]).
    pub raced: Rc<Cell<u32>>,
    /// The actor writes' turn: each sync's writes run as a task of their
    /// own, in the order the syncs took the model's changes, so that a
    /// statement the reconciler abandons (its timeout drops the future)
    /// never loses the writes it had started: the next statement waits for
    /// them.
    turn: Arc<Mutex<()>>,
}

/// The store under test over Postgres, kept in step with the model.
pub struct PgBackedStore {
    shared: Rc<Shared>,
    replica: Replica,
    store: PgStore,
    actors: PgPool,
    mirror: Mirror,
}

impl PgBackedStore {
    /// A store over `store` (the reconciler's connection) whose actors write
    /// through `actors`; `mirror` holds what the database holds (the fleet,
    /// at the start), shared by the replicas.
    pub fn new(
        shared: Rc<Shared>,
        replica: Replica,
        store: PgStore,
        actors: PgPool,
        mirror: Mirror,
    ) -> Self {
        Self {
            shared,
            replica,
            store,
            actors,
            mirror,
        }
    }

    fn diverged(&self, what: String) {
        self.mirror.divergences.borrow_mut().push(what);
    }

    /// Writes every model change since the last call to Postgres, in order,
    /// after the writes of earlier calls (which a dropped statement may have
    /// left running).
    async fn sync(&self) -> Result<(), StoreError> {
        let changes = self.shared.world.borrow_mut().take_changes();
        let batches = batches(changes, &mut self.mirror.rows.borrow_mut());
        let turn = Arc::clone(&self.mirror.turn);
        let pool = self.actors.clone();
        let divergences = Rc::clone(&self.mirror.divergences);
        let writes = tokio::task::spawn_local(async move {
            let _turn = turn.lock_owned().await;
            apply(&pool, batches, &mut |d| divergences.borrow_mut().push(d)).await
        });
        writes
            .await
            .map_err(|e| StoreError(format!("actor write task: {e}")))?
            .map_err(|e| StoreError(format!("actor write: {e}")))
    }

    /// Brings the model and Postgres up to now before a statement; returns
    /// the model instant the statement happens at.
    async fn before(&self, point: Point, ws: Option<&WorkspaceId>) -> Result<Duration, StoreError> {
        self.shared.hook(Hook::before(point), ws);
        self.shared.world.borrow_mut().flush();
        self.sync().await?;
        Ok(self.shared.world.borrow().now())
    }

    /// One statement: hook, sync, an injected fault or the real statement,
    /// then `model` (which compares with the simulated table and records the
    /// trace event at the statement's instant), hook.
    async fn call<T>(
        &self,
        point: Point,
        call: Call,
        ws: Option<&WorkspaceId>,
        statement: impl Future<Output = Result<T, StoreError>>,
        model: impl FnOnce(&mut World, Duration, &T),
    ) -> Result<T, StoreError> {
        let at = self.before(point, ws).await?;
        let about = ws.map(ToString::to_string).unwrap_or_default();
        let guard = Abandon::new(&self.shared, self.replica, call, &about);
        let fault = Event::StoreFault {
            by: Caller::Reconciler(self.replica, call),
            about: about.clone(),
        };
        let result = if self.shared.store_fails() {
            // `db_error`: the statement is not sent. (A real connection loss
            // is what the kill-connection tests inject.)
            self.shared.world.borrow_mut().record(fault);
            Err(StoreError(format!(
                "{}: injected database error",
                call.as_str()
            )))
        } else {
            let result = statement.await;
            match &result {
                Ok(v) => {
                    // Other tasks (flows, due cloud transitions) may have
                    // recorded events while the statement ran on the real
                    // clock: the statement's event goes after them, so that
                    // the trace's time never goes back.
                    let mut world = self.shared.world.borrow_mut();
                    if world.has_changes() {
                        // A row changed in the model after this statement's
                        // rows were sent: Postgres answered without it.
                        let raced = &self.mirror.raced;
                        raced.set(raced.get() + 1);
                    }
                    let at = at.max(world.trace.trace().last_at());
                    model(&mut world, at, v);
                }
                Err(_) => self.shared.world.borrow_mut().record(fault),
            }
            result
        };
        guard.done();
        self.shared.hook(Hook::after(point), ws);
        result
    }

    /// The reconciler's claim: Postgres decides whether it wrote; the model
    /// and the mirror follow, and a model that would have decided otherwise
    /// is a divergence.
    fn claimed(&self, world: &mut World, at: Duration, claim: &Claim, wrote: bool) {
        let before = world.table.get(&claim.id).cloned();
        let model_writes = claim_matches(world, claim, at);
        if model_writes != wrote {
            self.diverged(format!(
                "claim of {} on {}: Postgres wrote={wrote}, the simulated table {}",
                claim.id,
                claim.instance,
                if model_writes {
                    "would have"
                } else {
                    "would not have"
                }
            ));
        }
        if wrote {
            let ms = millis(at);
            let set = |r: &mut Row| {
                r.status = Status::Offline;
                r.updated_at = ms;
            };
            // The model's own change log must not replay this write: it
            // is Postgres's already.
            world.table.update(&claim.id, set);
            if let Some(r) = self.mirror.rows.borrow_mut().get_mut(&claim.id) {
                set(r);
            }
        }
        world.trace.push(
            at,
            Event::Claim {
                r: self.replica,
                ws: claim.id.clone(),
                instance: claim.instance.clone(),
                quiet_for: claim.quiet_for,
                before,
                wrote,
            },
        );
    }
}

/// The statements that turn `before` into `after` (a model row change), as
/// the actor that made it would write them.
fn writes(ws: &WorkspaceId, before: Option<&Row>, after: Option<&Row>) -> Vec<Write> {
    let (Some(b), Some(a)) = (before, after) else {
        return match (before, after) {
            (Some(_), None) => vec![Write::Delete(ws.clone())],
            _ => Vec::new(),
        };
    };
    let mut out = Vec::new();
    if a.instance != b.instance {
        match &a.instance {
            None => out.push(Write::Sweep(ws.clone())),
            Some(i) => out.push(Write::SetInstance(ws.clone(), Some(i.clone()))),
        }
    }
    if a.status != b.status || a.updated_at != b.updated_at {
        out.push(Write::SetStatus(ws.clone(), a.status.clone()));
    }
    out
}

impl Store for PgBackedStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        let r = self.replica;
        self.call(
            Point::Select,
            Call::Select,
            None,
            self.store.candidates(query),
            |w, at, rows| {
                let model = w.table.candidates(query);
                if &model != rows {
                    self.diverged(format!(
                        "candidate query at {at:?}: Postgres returned {rows:?}, the simulated table {model:?}"
                    ));
                }
                let seen = rows
                    .iter()
                    .map(|c| (c.id.clone(), c.instance.clone()))
                    .collect();
                w.trace.push(at, Event::Select { r, rows: seen });
            },
        )
        .await
    }

    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError> {
        let r = self.replica;
        self.call(
            Point::Reconfirm,
            Call::Reconfirm,
            Some(id),
            self.store.reconfirm(id),
            |w, at, view| {
                let model = traced_read(w, at, r, ReadKind::Reconfirm, id, reconfirm_view);
                if &model != view {
                    self.diverged(format!(
                        "re-confirm of {id} at {at:?}: Postgres returned {view:?}, the simulated table {model:?}"
                    ));
                }
            },
        )
        .await
    }

    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError> {
        let r = self.replica;
        self.call(
            Point::Resolve,
            Call::Resolve,
            Some(id),
            self.store.resolve_instance(id),
            |w, at, instance| {
                let model = traced_read(w, at, r, ReadKind::Resolve, id, |row| {
                    row.and_then(Row::live_instance).cloned()
                });
                if &model != instance {
                    self.diverged(format!(
                        "instance lookup of {id} at {at:?}: Postgres returned {instance:?}, the simulated table {model:?}"
                    ));
                }
            },
        )
        .await
    }

    async fn claim(&self, claim: &Claim) -> Result<bool, StoreError> {
        self.call(
            Point::Claim,
            Call::Claim,
            Some(&claim.id),
            self.store.claim(claim),
            |w, at, wrote| self.claimed(w, at, claim, *wrote),
        )
        .await
    }
}

/// The model's row changes and offline events, as statements grouped by
/// instant; updates `rows`, the mirror of what Postgres holds. The
/// reconciler's own claims are not in the log: the model follows Postgres
/// there (see `PgBackedStore::claimed`).
pub(super) fn batches(
    changes: Vec<Change>,
    rows: &mut BTreeMap<WorkspaceId, Row>,
) -> Vec<Vec<Write>> {
    let mut out: Vec<(Duration, Vec<Write>)> = Vec::new();
    for change in changes {
        let (at, writes) = match change {
            Change::Row(at, ws, after) => {
                let writes = writes(&ws, rows.get(&ws), after.as_ref());
                match after {
                    Some(r) => rows.insert(ws, r),
                    None => rows.remove(&ws),
                };
                (at, writes)
            }
            Change::Offline(at, ws) => (at, vec![Write::Offline(ws)]),
        };
        if writes.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((t, batch)) if *t == at => batch.extend(writes),
            _ => out.push((at, writes)),
        }
    }
    out.into_iter().map(|(_, b)| b).collect()
}

/// Writes `batches` to Postgres, one transaction per batch (the changes of
/// one simulated instant share one `now()`); a write that matched no row is
/// reported to `diverged`.
pub(super) async fn apply(
    actors: &PgPool,
    batches: Vec<Vec<Write>>,
    diverged: &mut dyn FnMut(String),
) -> Result<(), sqlx::Error> {
    for batch in batches {
        let mut tx = actors.begin().await?;
        for write in &batch {
            let done = match write {
                Write::Delete(w) => sql::delete(&mut *tx, w).await,
                Write::Sweep(w) => sql::orphan_sweep(&mut *tx, w).await,
                Write::SetInstance(w, i) => sql::set_instance(&mut *tx, w, i.as_ref()).await,
                Write::SetStatus(w, s) => sql::set_status(&mut *tx, w, s).await,
                Write::Offline(w) => sql::record_event(&mut *tx, w, sql::WORKSPACE_OFFLINE)
                    .await
                    .map(|_| true),
            }?;
            if !done {
                diverged(format!("{write:?} matched no row in Postgres"));
            }
        }
        tx.commit().await?;
    }
    Ok(())
}
