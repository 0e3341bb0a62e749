//! The reconciler's connection killed mid-pass (`pg_terminate_backend`), run
//! through `reconciler_core::Reconciler`: a pass whose statement fails on the
//! dead connection must flip nothing (no offline handler call) and leave the
//! row as it was, and the next pass, on a fresh connection, must flip exactly
//! once — `legacy` and `pr2283` still without writing a status, `hardened`
//! with one claim.

use std::cell::Cell;

use pg_store::{PgStore, world};
use reconciler_core::{
    Candidate, CandidateQuery, Claim, Config, InstanceId, InstanceState, Reconciler, RowView,
    SkipReason, Status, Store, StoreError, Variant, WorkspaceId,
};
use sqlx::PgPool;

use crate::fixtures::{FixedCp, Recorder, row};
use crate::support::postgres::test_db;

/// Where in a pass the reconciler's backend is killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Point {
    /// Before `IsRunning`'s instance lookup (after the candidate query).
    Resolve,
    /// Before the re-confirm read (after the probe).
    Reconfirm,
    /// Before `hardened`'s claim (after the probe).
    Claim,
}

/// A `Store` that runs a hook before the instance lookup, the re-confirm
/// and the claim, and otherwise delegates to `PgStore`. The hook kills the
/// reconciler's backend once, at the armed point.
struct KillingStore {
    inner: PgStore,
    admin: PgPool,
    armed: Cell<Option<Point>>,
    kills: Cell<u32>,
}

impl KillingStore {
    async fn hook(&self, at: Point) {
        if self.armed.get() != Some(at) {
            return;
        }
        self.armed.set(None);
        // The previous statement's connection goes back to the pool in a
        // background task that pings it; kill only once it is idle there, so
        // that the next statement deterministically takes the dead
        // connection. (Killed during that ping, it would be replaced
        // silently and the pass would see no fault at all: also correct, but
        // not the case under test.)
        let pool = self.inner.pool();
        for _ in 0..500 {
            if pool.num_idle() == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        assert_eq!(
            (pool.size(), pool.num_idle()),
            (1, 1),
            "the store's one connection is idle"
        );
        // Only this test's database (tests share a server under
        // DATABASE_URL), and wait up to 5 s for the backend to be gone so the
        // next statement deterministically meets a dead connection.
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database()",
        )
        .bind(pg_store::STORE_APPLICATION_NAME)
        .fetch_all(&self.admin)
        .await
        .unwrap();
        assert_eq!(killed, [true], "exactly the reconciler's backend is killed");
        self.kills.set(self.kills.get() + 1);
    }
}

impl Store for KillingStore {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, StoreError> {
        self.inner.candidates(query).await
    }

    async fn reconfirm(&self, id: &WorkspaceId) -> Result<Option<RowView>, StoreError> {
        self.hook(Point::Reconfirm).await;
        self.inner.reconfirm(id).await
    }

    async fn resolve_instance(&self, id: &WorkspaceId) -> Result<Option<InstanceId>, StoreError> {
        self.hook(Point::Resolve).await;
        self.inner.resolve_instance(id).await
    }

    async fn claim(&self, claim: &Claim) -> Result<bool, StoreError> {
        self.hook(Point::Claim).await;
        self.inner.claim(claim).await
    }
}

/// One dead workspace; kill at `at` during the first pass; then a clean pass.
async fn killed_then_recovered(variant: Variant, at: Point) {
    let t = test_db().await;
    let admin = &t.db.admin;
    let id = WorkspaceId::from("ws-1");
    world::insert(admin, &row("ws-1", Status::Online, Some("i-1"), None, 10))
        .await
        .unwrap();
    let before = world::row(admin, &id).await.unwrap();
    let store = KillingStore {
        inner: t.db.store.clone(),
        admin: admin.clone(),
        armed: Cell::new(Some(at)),
        kills: Cell::new(0),
    };
    let mut reconciler = Reconciler::new(
        variant,
        Config::default(),
        Some(store),
        Some(FixedCp(InstanceState::Terminated)),
        Recorder::default(),
    )
    .unwrap();

    let first = reconciler.pass().await;
    let store = reconciler.store().unwrap();
    assert_eq!(store.kills.get(), 1, "{variant} {at:?}: the kill happened");
    assert!(first.flipped.is_empty(), "{variant} {at:?}: {first:?}");
    let [(skipped, reason)] = first.skipped.as_slice() else {
        panic!("{variant} {at:?}: one skip expected: {first:?}");
    };
    assert_eq!(skipped, &id);
    // The error names the statement and the workspace, for the logs.
    let operation = match (at, reason) {
        (Point::Resolve, SkipReason::ProbeError(e)) => ("resolve instance ws-1", e),
        (Point::Reconfirm, SkipReason::ReconfirmError(e)) => ("re-confirm ws-1", e),
        (Point::Claim, SkipReason::FlipError(e)) => ("claim ws-1", e),
        _ => panic!("{variant} {at:?}: unexpected skip {reason:?}"),
    };
    assert!(operation.1.contains(operation.0), "{operation:?}");
    assert!(reconciler.handler().calls().is_empty(), "no flip");
    assert_eq!(
        world::row(admin, &id).await.unwrap(),
        before,
        "row unchanged"
    );

    let second = reconciler.pass().await;
    assert_eq!(
        second.flipped,
        std::slice::from_ref(&id),
        "{variant} {at:?}: {second:?}"
    );
    let proven = match variant {
        Variant::Legacy | Variant::Pr2283 => None,
        Variant::Hardened => Some(InstanceId::from("i-1")),
    };
    assert_eq!(
        reconciler.handler().calls(),
        [(id.clone(), proven)],
        "{variant} {at:?}: one flip"
    );
    let reconciler_writes = || async {
        world::audit(admin)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.application_name == pg_store::STORE_APPLICATION_NAME)
            .count()
    };
    match variant {
        Variant::Legacy | Variant::Pr2283 => {
            assert_eq!(
                world::row(admin, &id).await.unwrap(),
                before,
                "{variant} {at:?}: no status written"
            );
            assert_eq!(reconciler_writes().await, 0, "{variant} {at:?}");
        }
        Variant::Hardened => {
            let third = reconciler.pass().await;
            assert!(third.flipped.is_empty(), "{at:?}: {third:?}");
            assert_eq!(reconciler.handler().calls().len(), 1, "{at:?}");
            let after = world::row(admin, &id).await.unwrap().unwrap();
            assert_eq!(after.status, Status::Offline);
            assert_eq!(reconciler_writes().await, 1, "exactly the claim");
        }
    }
}

#[tokio::test]
async fn legacy_kill_before_the_instance_lookup() {
    killed_then_recovered(Variant::Legacy, Point::Resolve).await;
}

#[tokio::test]
async fn pr2283_kill_before_the_instance_lookup() {
    killed_then_recovered(Variant::Pr2283, Point::Resolve).await;
}

#[tokio::test]
async fn pr2283_kill_between_probe_and_reconfirm() {
    killed_then_recovered(Variant::Pr2283, Point::Reconfirm).await;
}

#[tokio::test]
async fn hardened_kill_before_the_claim() {
    killed_then_recovered(Variant::Hardened, Point::Claim).await;
}
