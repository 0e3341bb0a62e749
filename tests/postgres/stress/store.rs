//! The store under test, recorded: `PgStore`'s own statements on the
//! reconciler's own connection, with what each returned and when.

use std::rc::Rc;

use pg_store::PgStore;
use reconciler_core::{
    Candidate, CandidateQuery, FlipGuard, InstanceId, RowView, Store, StoreError, WorkspaceId,
};
use sim::trace::{Event, FlipWrite, ReadKind};

use super::stage::{Abandon, Rec, Seen, Stage, WriteEnd};

/// `PgStore`, recording into the stage.
pub struct RecordingStore {
    /// The real store.
    pub inner: PgStore,
    /// Where to record.
    pub stage: Rc<Stage>,
}

impl RecordingStore {
    /// A primary-key read: records what it returned (or that it failed).
    async fn read<T>(
        &self,
        kind: ReadKind,
        id: &WorkspaceId,
        call: impl Future<Output = Result<T, StoreError>>,
        seen: impl FnOnce(&T) -> Seen,
    ) -> Result<T, StoreError> {
        let stage = &*self.stage;
        stage.set_hot(id);
        let name = match kind {
            ReadKind::Resolve => "resolve",
            ReadKind::Reconfirm => "reconfirm",
        };
        let guard = Abandon::new(stage, name, id.to_string(), None);
        let result = call.await;
        match &result {
            Ok(v) => stage.record(Rec::Read {
                kind,
                ws: id.clone(),
                seen: seen(v),
            }),
            Err(_) => stage.event(Event::StoreFault(name, id.to_string())),
        }
        guard.done();
        result
    }

    /// A flip's write: records how it ended; the row it met comes from the
    /// audit.
    async fn write<T>(
        &self,
        id: &WorkspaceId,
        write: FlipWrite,
        call: impl Future<Output = Result<T, StoreError>>,
        matched: impl FnOnce(&T) -> Option<bool>,
    ) -> Result<T, StoreError> {
        let stage = &*self.stage;
        stage.set_hot(id);
        let start = stage.now();
        let rec = |end| Rec::Write {
            ws: id.clone(),
            write: write.clone(),
            start,
            end,
        };
        let guard = Abandon::new(
            stage,
            "flip",
            id.to_string(),
            Some(rec(WriteEnd::Abandoned)),
        );
        let result = call.await;
        match &result {
            Ok(v) => stage.record(rec(WriteEnd::Done(matched(v)))),
            Err(_) => {
                stage.event(Event::StoreFault("flip", id.to_string()));
                stage.record(rec(WriteEnd::Failed));
            }
        }
        guard.done();
        result
    }
}

impl Store for RecordingStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        let stage = &*self.stage;
        let guard = Abandon::new(stage, "select", String::new(), None);
        let result = self.inner.candidates(query).await;
        match &result {
            Ok(rows) => {
                let seen: Vec<_> = rows
                    .iter()
                    .map(|c| (c.id.clone(), c.instance.clone()))
                    .collect();
                stage.selected(&seen);
                stage.event(Event::Select(seen));
            }
            Err(_) => stage.event(Event::StoreFault("select", String::new())),
        }
        guard.done();
        result
    }

    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError> {
        self.read(ReadKind::Reconfirm, id, self.inner.reconfirm(id), |v| {
            Seen::View(v.clone())
        })
        .await
    }

    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError> {
        self.read(
            ReadKind::Resolve,
            id,
            self.inner.resolve_instance(id),
            |v| Seen::Instance(v.clone()),
        )
        .await
    }

    async fn mark_offline(&self, id: &WorkspaceId) -> Result<(), StoreError> {
        self.write(
            id,
            FlipWrite::Unconditional,
            self.inner.mark_offline(id),
            |()| None,
        )
        .await
    }

    async fn flip_if_unchanged(&self, guard: &FlipGuard) -> Result<bool, StoreError> {
        self.write(
            &guard.id,
            FlipWrite::Guarded(guard.instance.clone()),
            self.inner.flip_if_unchanged(guard),
            |wrote| Some(*wrote),
        )
        .await
    }
}
