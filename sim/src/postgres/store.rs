//! The store of a Postgres-backed run: the reconciler's statements run on a
//! real database, at the same hook points, with the same trace events, as
//! the simulated store's.
//!
//! The simulated world still runs beside it, as the model: the director's
//! and the timed actions apply to it first (that is how they are decided,
//! placed and traced), and before every statement of the reconciler the
//! rows they changed are written to Postgres with the actors' own SQL, on a
//! second connection, so the statement meets them. Each statement's result
//! is then compared with what the simulated table says at that instant; a
//! difference is a *divergence*, reported with the run. The trace records
//! what Postgres returned (the candidate rows, whether a flip wrote) and the
//! model's full rows, which the divergence check vouches for.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use pg_store::{PgStore, world as sql};
use reconciler_core::{
    Candidate, CandidateQuery, FlipGuard, InstanceId, Row, RowView, Status, Store, StoreError,
    WorkspaceId,
};
use sqlx::PgPool;

use crate::abandon::Abandon;
use crate::hook::{Hook, Point};
use crate::shared::Shared;
use crate::trace::{Event, FlipWrite, ReadKind};
use crate::world::{World, millis};

/// One actor write, as SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Write {
    Delete(WorkspaceId),
    Sweep(WorkspaceId),
    SetInstance(WorkspaceId, Option<InstanceId>),
    Reprovision(WorkspaceId, InstanceId),
    SetStatus(WorkspaceId, Status),
}

/// The store under test over Postgres, kept in step with the model.
pub struct PgBackedStore {
    shared: Rc<Shared>,
    store: PgStore,
    actors: PgPool,
    /// How far into the model's trace the actors' writes were replayed.
    synced: Cell<usize>,
    /// The rows as Postgres holds them (model units), to turn each model
    /// change into the statement that makes it.
    rows: Rc<RefCell<BTreeMap<WorkspaceId, Row>>>,
    divergences: Rc<RefCell<Vec<String>>>,
}

impl PgBackedStore {
    /// A store over `store` (the reconciler's connection) whose actors write
    /// through `actors`. `rows` holds what the database holds (the fleet, at
    /// the start) and is kept up to date; `divergences` collects every
    /// difference between Postgres and the simulated table.
    pub fn new(
        shared: Rc<Shared>,
        store: PgStore,
        actors: PgPool,
        rows: Rc<RefCell<BTreeMap<WorkspaceId, Row>>>,
        divergences: Rc<RefCell<Vec<String>>>,
    ) -> Self {
        let synced = shared.world.borrow().trace.entries.len();
        Self {
            shared,
            store,
            actors,
            synced: Cell::new(synced),
            rows,
            divergences,
        }
    }

    fn diverged(&self, what: String) {
        self.divergences.borrow_mut().push(what);
    }

    /// Writes every model change since the last call to Postgres, in order;
    /// the changes of one instant in one transaction, so that they share one
    /// `now()` as they share one simulated instant.
    async fn sync(&self) -> Result<(), StoreError> {
        let batches = self.pending();
        for batch in batches {
            let fail = |e: sqlx::Error| StoreError(format!("actor write: {e}"));
            let mut tx = self.actors.begin().await.map_err(fail)?;
            for write in &batch {
                let done = match write {
                    Write::Delete(w) => sql::delete(&mut *tx, w).await,
                    Write::Sweep(w) => sql::orphan_sweep(&mut *tx, w).await,
                    Write::SetInstance(w, i) => sql::set_instance(&mut *tx, w, i.as_ref()).await,
                    Write::Reprovision(w, i) => sql::reprovision(&mut *tx, w, i).await,
                    Write::SetStatus(w, s) => sql::set_status(&mut *tx, w, s).await,
                }
                .map_err(fail)?;
                if !done {
                    self.diverged(format!("{write:?} matched no row in Postgres"));
                }
            }
            tx.commit().await.map_err(fail)?;
        }
        Ok(())
    }

    /// The model's row changes since the last sync, as statements grouped by
    /// instant; updates the mirror of what Postgres holds.
    fn pending(&self) -> Vec<Vec<Write>> {
        let world = self.shared.world.borrow();
        let entries = &world.trace.entries[self.synced.get()..];
        self.synced.set(world.trace.entries.len());
        let mut rows = self.rows.borrow_mut();
        let mut batches: Vec<(Duration, Vec<Write>)> = Vec::new();
        for e in entries {
            let Event::Act(_, _, Some(ws), after) = &e.event else {
                continue;
            };
            let writes = writes(ws, rows.get(ws), after.as_ref());
            match after {
                Some(r) => rows.insert(ws.clone(), r.clone()),
                None => rows.remove(ws),
            };
            if writes.is_empty() {
                continue;
            }
            match batches.last_mut() {
                Some((at, batch)) if *at == e.at => batch.extend(writes),
                _ => batches.push((e.at, writes)),
            }
        }
        batches.into_iter().map(|(_, b)| b).collect()
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
        name: &'static str,
        ws: Option<&WorkspaceId>,
        statement: impl Future<Output = Result<T, StoreError>>,
        model: impl FnOnce(&mut World, Duration, &T),
    ) -> Result<T, StoreError> {
        let at = self.before(point, ws).await?;
        let about = ws.map(ToString::to_string).unwrap_or_default();
        let guard = Abandon::new(&self.shared, name, &about);
        let result = if self.shared.store_fails() {
            // `db_error`: the statement is not sent. (A real connection loss
            // is what the kill-connection tests inject.)
            self.shared.record(Event::StoreFault(name, about.clone()));
            Err(StoreError(format!("{name}: injected database error")))
        } else {
            let result = statement.await;
            match &result {
                Ok(v) => model(&mut self.shared.world.borrow_mut(), at, v),
                Err(_) => self.shared.record(Event::StoreFault(name, about.clone())),
            }
            result
        };
        guard.done();
        self.shared.hook(Hook::after(point), ws);
        result
    }

    /// The reconciler's flip: Postgres decides whether it wrote; the model
    /// and the mirror follow.
    fn flipped(
        &self,
        world: &mut World,
        at: Duration,
        ws: &WorkspaceId,
        write: FlipWrite,
        wrote: bool,
    ) {
        let before = world.table.get(ws).cloned();
        let model_writes = before.as_ref().is_some_and(|r| match &write {
            FlipWrite::Unconditional => true,
            FlipWrite::Guarded(i) => {
                !i.0.is_empty()
                    && r.instance.as_ref() == Some(i)
                    && r.status.is_live()
                    && r.runtime.as_deref() != Some("external")
            }
        });
        if model_writes != wrote {
            self.diverged(format!(
                "flip of {ws} ({write:?}): Postgres wrote={wrote}, the simulated table {}",
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
            world.table.update(ws, set);
            if let Some(r) = self.rows.borrow_mut().get_mut(ws) {
                set(r);
            }
        }
        world.trace.push(
            at,
            Event::Flip {
                ws: ws.clone(),
                write,
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
            Some(i) if a.status == Status::Provisioning => {
                return vec![Write::Reprovision(ws.clone(), i.clone())];
            }
            None => out.push(Write::Sweep(ws.clone())),
            Some(i) => out.push(Write::SetInstance(ws.clone(), Some(i.clone()))),
        }
    }
    if a.status != b.status || a.updated_at != b.updated_at {
        out.push(Write::SetStatus(ws.clone(), a.status.clone()));
    }
    out
}

fn record(world: &mut World, at: Duration, event: Event) {
    world.trace.push(at, event);
}

impl Store for PgBackedStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        self.call(
            Point::Select,
            "select",
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
                record(w, at, Event::Select(seen));
            },
        )
        .await
    }

    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError> {
        self.call(
            Point::Reconfirm,
            "reconfirm",
            Some(id),
            self.store.reconfirm(id),
            |w, at, view| {
                let row = w.table.get(id).cloned();
                let model = row.as_ref().map(|r| RowView {
                    status: r.status.clone(),
                    instance: r.instance.clone().unwrap_or_else(|| InstanceId(String::new())),
                });
                if &model != view {
                    self.diverged(format!(
                        "re-confirm of {id} at {at:?}: Postgres returned {view:?}, the simulated table {model:?}"
                    ));
                }
                record(w, at, Event::Read(ReadKind::Reconfirm, id.clone(), row));
            },
        )
        .await
    }

    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError> {
        self.call(
            Point::Resolve,
            "resolve",
            Some(id),
            self.store.resolve_instance(id),
            |w, at, instance| {
                let row = w.table.get(id).cloned();
                let model = row.as_ref().and_then(|r| r.live_instance().cloned());
                if &model != instance {
                    self.diverged(format!(
                        "instance lookup of {id} at {at:?}: Postgres returned {instance:?}, the simulated table {model:?}"
                    ));
                }
                record(w, at, Event::Read(ReadKind::Resolve, id.clone(), row));
            },
        )
        .await
    }

    async fn mark_offline(&self, id: &WorkspaceId) -> Result<(), StoreError> {
        self.call(
            Point::Flip,
            "flip",
            Some(id),
            self.store.mark_offline(id),
            |w, at, ()| {
                // The unconditional write changes the row if there is one;
                // the mirror knows whether Postgres holds it.
                let wrote = self.rows.borrow().contains_key(id);
                self.flipped(w, at, id, FlipWrite::Unconditional, wrote);
            },
        )
        .await
    }

    async fn flip_if_unchanged(&self, guard: &FlipGuard) -> Result<bool, StoreError> {
        self.call(
            Point::Flip,
            "flip",
            Some(&guard.id),
            self.store.flip_if_unchanged(guard),
            |w, at, wrote| {
                self.flipped(
                    w,
                    at,
                    &guard.id,
                    FlipWrite::Guarded(guard.instance.clone()),
                    *wrote,
                );
            },
        )
        .await
    }
}
