//! The simulated store: the core's `Store` over the world's table, with a
//! hook point before and after every call, latency, and injected errors.
//!
//! Fault model: a call fails (an injected `db_error`, or the random rate)
//! when it is issued, right after its `before` hook; otherwise it waits its
//! latency and then runs against the table as it is at that instant, as a
//! single statement would.

use std::rc::Rc;
use std::time::Duration;

use reconciler_core::{
    Candidate, CandidateQuery, Claim, InstanceId, Row, RowView, Status, Store, StoreError,
    WorkspaceId,
};

use crate::abandon::Abandon;
use crate::hook::{Hook, Point};
use crate::shared::Shared;
use crate::trace::{Call, Caller, Event, ReadKind, Replica};
use crate::world::{World, millis};

/// The simulated `workspaces` table as one replica's reconciler sees it.
pub struct SimStore {
    /// The run.
    pub shared: Rc<Shared>,
    /// The replica calling.
    pub replica: Replica,
}

impl SimStore {
    /// One store call: hook before, an injected failure or the latency and
    /// the operation applied to an up-to-date world, hook after.
    async fn call<T>(
        &self,
        point: Point,
        call: Call,
        ws: Option<&WorkspaceId>,
        op: impl FnOnce(&mut World, Duration) -> T,
    ) -> Result<T, StoreError> {
        let shared = &self.shared;
        shared.hook(Hook::before(point), ws);
        let about = ws.map_or("", |w| w.0.as_str());
        let guard = Abandon::new(shared, self.replica, call, about);
        let result = if shared.store_fails() {
            shared.world.borrow_mut().record(Event::StoreFault {
                by: Caller::Reconciler(self.replica, call),
                about: about.to_owned(),
            });
            Err(StoreError(format!(
                "{}: injected database error",
                call.as_str()
            )))
        } else {
            let latency = shared.store_latency();
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            let mut world = shared.world.borrow_mut();
            let now = world.flush();
            Ok(op(&mut world, now))
        };
        guard.done();
        shared.hook(Hook::after(point), ws);
        result
    }
}

/// Records the reconciler's read of row `id` at `now`, with the row as the
/// simulated table holds it, and returns `answer` of that row: both backends
/// trace a read alike (the Postgres one then checks the database's answer
/// against this one).
pub(crate) fn traced_read<T>(
    w: &mut World,
    now: Duration,
    r: Replica,
    kind: ReadKind,
    id: &WorkspaceId,
    answer: impl FnOnce(Option<&Row>) -> T,
) -> T {
    let row = w.table.get(id).cloned();
    let value = answer(row.as_ref());
    w.trace.push(
        now,
        Event::Read {
            r,
            kind,
            ws: id.clone(),
            row,
        },
    );
    value
}

/// What the re-confirm read answers for `row`: its status and instance id,
/// NULL read as the empty string (as `COALESCE(instance_id, '')` does).
pub(crate) fn reconfirm_view(row: Option<&Row>) -> Option<RowView> {
    row.map(|row| RowView {
        status: row.status.clone(),
        instance: row
            .instance
            .clone()
            .unwrap_or_else(|| InstanceId(String::new())),
    })
}

/// True when the claim's guard holds for the row as it is at `now`: the
/// simulated table's answer to `hardened`'s guarded write, which the
/// Postgres backend also asks to check what the database answered.
pub(crate) fn claim_matches(world: &World, claim: &Claim, now: Duration) -> bool {
    world.table.get(&claim.id).is_some_and(|r| {
        !claim.instance.0.is_empty()
            && r.instance.as_ref() == Some(&claim.instance)
            && matches!(r.status, Status::Online | Status::Degraded)
            && r.runtime.as_deref() != Some("external")
            && claim
                .quiet_for
                .is_none_or(|q| r.updated_at <= millis(now).saturating_sub(millis(q)))
    })
}

impl Store for SimStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        let r = self.replica;
        self.call(Point::Select, Call::Select, None, |w, now| {
            let rows = w.table.candidates(query);
            let seen = rows
                .iter()
                .map(|c| (c.id.clone(), c.instance.clone()))
                .collect();
            w.trace.push(now, Event::Select { r, rows: seen });
            rows
        })
        .await
    }

    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError> {
        let r = self.replica;
        self.call(Point::Reconfirm, Call::Reconfirm, Some(id), |w, now| {
            traced_read(w, now, r, ReadKind::Reconfirm, id, reconfirm_view)
        })
        .await
    }

    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError> {
        let r = self.replica;
        self.call(Point::Resolve, Call::Resolve, Some(id), |w, now| {
            traced_read(w, now, r, ReadKind::Resolve, id, |row| {
                row.and_then(Row::live_instance).cloned()
            })
        })
        .await
    }

    async fn claim(&self, claim: &Claim) -> Result<bool, StoreError> {
        let r = self.replica;
        self.call(Point::Claim, Call::Claim, Some(&claim.id), |w, now| {
            let before = w.table.get(&claim.id).cloned();
            let wrote = claim_matches(w, claim, now);
            if wrote {
                w.update_row(now, &claim.id, |row| {
                    row.status = Status::Offline;
                    row.updated_at = millis(now);
                });
            }
            w.trace.push(
                now,
                Event::Claim {
                    r,
                    ws: claim.id.clone(),
                    instance: claim.instance.clone(),
                    quiet_for: claim.quiet_for,
                    before,
                    wrote,
                },
            );
            wrote
        })
        .await
    }
}
