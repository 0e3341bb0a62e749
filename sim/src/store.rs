//! The simulated store: the core's `Store` over the world's table, with a
//! hook point before and after every call, latency, and injected errors.

use std::rc::Rc;

use reconciler_core::{
    Candidate, CandidateQuery, FlipGuard, InstanceId, RowView, Status, Store, StoreError,
    WorkspaceId,
};

use crate::abandon::Abandon;
use crate::hook::{Hook, Point};
use crate::shared::Shared;
use crate::trace::{Event, FlipWrite, ReadKind};
use crate::world::{World, millis};

/// The simulated `workspaces` table as the reconciler sees it.
pub struct SimStore(pub Rc<Shared>);

impl SimStore {
    /// One store call: hook before, latency, an injected failure or the
    /// operation applied to an up-to-date world, hook after.
    async fn call<T>(
        &self,
        point: Point,
        name: &'static str,
        ws: Option<&WorkspaceId>,
        op: impl FnOnce(&mut World) -> T,
    ) -> Result<T, StoreError> {
        let shared = &self.0;
        shared.hook(Hook::before(point), ws);
        let guard = Abandon::new(shared, name, ws.map_or("", |w| w.0.as_str()));
        let latency = shared.store_latency();
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let result = if shared.store_fails() {
            let about = ws.map(ToString::to_string).unwrap_or_default();
            shared.record(Event::StoreFault(name, about));
            Err(StoreError(format!("{name}: injected database error")))
        } else {
            let mut world = shared.world.borrow_mut();
            world.flush();
            Ok(op(&mut world))
        };
        guard.done();
        shared.hook(Hook::after(point), ws);
        result
    }
}

fn record(world: &mut World, event: Event) {
    let now = world.now();
    world.trace.push(now, event);
}

impl Store for SimStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        self.call(Point::Select, "select", None, |w| {
            let rows = w.table.candidates(query);
            let seen = rows
                .iter()
                .map(|c| (c.id.clone(), c.instance.clone()))
                .collect();
            record(w, Event::Select(seen));
            rows
        })
        .await
    }

    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError> {
        self.call(Point::Reconfirm, "reconfirm", Some(id), |w| {
            let row = w.table.get(id).cloned();
            record(w, Event::Read(ReadKind::Reconfirm, id.clone(), row.clone()));
            row.map(|r| RowView {
                status: r.status,
                instance: r.instance.unwrap_or_else(|| InstanceId(String::new())),
            })
        })
        .await
    }

    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError> {
        self.call(Point::Resolve, "resolve", Some(id), |w| {
            let row = w.table.get(id).cloned();
            record(w, Event::Read(ReadKind::Resolve, id.clone(), row.clone()));
            row.and_then(|r| r.instance).filter(|i| !i.0.is_empty())
        })
        .await
    }

    async fn mark_offline(&self, id: &WorkspaceId) -> Result<(), StoreError> {
        self.call(Point::Flip, "flip", Some(id), |w| {
            let ms = millis(w.now());
            let before = w.table.get(id).cloned();
            let wrote = w
                .table
                .update(id, |r| {
                    r.status = Status::Offline;
                    r.updated_at = ms;
                })
                .is_some();
            let event = Event::Flip {
                ws: id.clone(),
                write: FlipWrite::Unconditional,
                before,
                wrote,
            };
            record(w, event);
        })
        .await
    }

    async fn flip_if_unchanged(&self, guard: &FlipGuard) -> Result<bool, StoreError> {
        self.call(Point::Flip, "flip", Some(&guard.id), |w| {
            let ms = millis(w.now());
            let before = w.table.get(&guard.id).cloned();
            let matches = before.as_ref().is_some_and(|r| {
                !guard.instance.0.is_empty()
                    && r.instance.as_ref() == Some(&guard.instance)
                    && r.status.is_live()
                    && r.runtime.as_deref() != Some("external")
            });
            if matches {
                w.table.update(&guard.id, |r| {
                    r.status = Status::Offline;
                    r.updated_at = ms;
                });
            }
            let event = Event::Flip {
                ws: guard.id.clone(),
                write: FlipWrite::Guarded(guard.instance.clone()),
                before,
                wrote: matches,
            };
            record(w, event);
            matches
        })
        .await
    }
}
