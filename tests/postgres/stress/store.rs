//! The store under test, recorded: `PgStore`'s own statements on the
//! reconciler's own connection, with what each returned and when.

use std::rc::Rc;

use pg_store::PgStore;
use reconciler_core::{
    Candidate, CandidateQuery, Claim, InstanceId, RowView, Store, StoreError, WorkspaceId,
};
use sim::trace::{Call, Caller, Event, ReadKind};

use super::stage::{Abandon, R, Rec, Seen, Stage, WriteEnd};

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
        let which = match kind {
            ReadKind::Resolve => Call::Resolve,
            ReadKind::Reconfirm => Call::Reconfirm,
        };
        let guard = Abandon::new(stage, which, id.to_string(), None);
        let result = call.await;
        match &result {
            Ok(v) => stage.record(Rec::Read {
                kind,
                ws: id.clone(),
                seen: seen(v),
            }),
            Err(_) => stage.event(Event::StoreFault {
                by: Caller::Reconciler(R, which),
                about: id.to_string(),
            }),
        }
        guard.done();
        result
    }
}

impl Store for RecordingStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        let stage = &*self.stage;
        let guard = Abandon::new(stage, Call::Select, String::new(), None);
        let result = self.inner.candidates(query).await;
        match &result {
            Ok(rows) => {
                let seen: Vec<_> = rows
                    .iter()
                    .map(|c| (c.id.clone(), c.instance.clone()))
                    .collect();
                stage.selected(&seen);
                stage.event(Event::Select { r: R, rows: seen });
            }
            Err(_) => stage.event(Event::StoreFault {
                by: Caller::Reconciler(R, Call::Select),
                about: String::new(),
            }),
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

    /// `hardened`'s claim: records how it ended; the row it met comes from
    /// the audit.
    async fn claim(&self, claim: &Claim) -> Result<bool, StoreError> {
        let stage = &*self.stage;
        stage.set_hot(&claim.id);
        let start = stage.now();
        let rec = |end| Rec::Claim {
            ws: claim.id.clone(),
            instance: claim.instance.clone(),
            quiet_for: claim.quiet_for,
            start,
            end,
        };
        let guard = Abandon::new(
            stage,
            Call::Claim,
            claim.id.to_string(),
            Some(rec(WriteEnd::Abandoned)),
        );
        let result = self.inner.claim(claim).await;
        match &result {
            Ok(wrote) => stage.record(rec(WriteEnd::Done(*wrote))),
            Err(_) => {
                stage.event(Event::StoreFault {
                    by: Caller::Reconciler(R, Call::Claim),
                    about: claim.id.to_string(),
                });
                stage.record(rec(WriteEnd::Failed));
            }
        }
        guard.done();
        result
    }
}
