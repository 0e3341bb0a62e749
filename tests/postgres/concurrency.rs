//! The guarded flip under a real row lock, READ COMMITTED (the default): a
//! second session holds the row in an open transaction; the flip must wait
//! for it, then decide on the row as that transaction left it.

use std::time::Duration;

use pg_store::world;
use reconciler_core::{
    Config, FlipGuard, InstanceId, InstanceState, Reconciler, Status, Store, Variant, WorkspaceId,
};
use sqlx::PgPool;

use crate::fixtures::{FixedCp, Recorder, row};
use crate::support::postgres::test_db;

/// Waits until the reconciler's backend in this database is blocked on a
/// lock, i.e. the flip really is waiting for the other transaction. Fails
/// the test if that never happens (the flip did not block).
async fn until_reconciler_waits_on_a_lock(admin: &PgPool) {
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = $1 AND datname = current_database() \
             AND wait_event_type = 'Lock'",
        )
        .bind(pg_store::STORE_APPLICATION_NAME)
        .fetch_one(admin)
        .await
        .unwrap();
        if waiting == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the guarded flip never waited on the row lock");
}

/// Opens a transaction that reprovisions ws-1, starts the flip, and once
/// the flip is blocked ends the transaction with `commit` or rollback.
/// Returns whether the flip wrote.
async fn flip_racing_reprovision(commit: bool) -> (bool, reconciler_core::Row) {
    let t = test_db().await;
    let admin = &t.db.admin;
    let id = WorkspaceId::from("ws-1");
    world::insert(admin, &row("ws-1", Status::Online, Some("i-1"), None, 10))
        .await
        .unwrap();
    let mut tx = admin.begin().await.unwrap();
    assert!(
        world::reprovision(&mut *tx, &id, &InstanceId::from("i-2"))
            .await
            .unwrap()
    );
    let guard = FlipGuard {
        id: id.clone(),
        instance: InstanceId::from("i-1"),
    };
    let (wrote, ()) = tokio::join!(t.db.store.flip_if_unchanged(&guard), async {
        until_reconciler_waits_on_a_lock(admin).await;
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
    });
    let after = world::row(admin, &id).await.unwrap().unwrap();
    (wrote.unwrap(), after)
}

#[tokio::test]
async fn flip_blocked_by_a_reprovision_that_commits_writes_nothing() {
    let (wrote, after) = flip_racing_reprovision(true).await;
    assert!(!wrote, "EvalPlanQual re-check must reject the changed row");
    assert_eq!(after.status, Status::Provisioning);
    assert_eq!(after.instance, Some(InstanceId::from("i-2")));
}

#[tokio::test]
async fn flip_blocked_by_a_reprovision_that_rolls_back_writes() {
    let (wrote, after) = flip_racing_reprovision(false).await;
    assert!(wrote, "the row is unchanged after the rollback");
    assert_eq!(after.status, Status::Offline);
    assert_eq!(after.instance, Some(InstanceId::from("i-1")));
}

/// A guarded flip that waits on a row lock longer than the reconciler's
/// write timeout must not commit after the reconciler gave up: if it did,
/// the row would end up offline with no restart fired, and no later pass
/// would select it again. The row stays in scope instead, and the next pass
/// flips it and restarts it exactly once.
#[tokio::test]
async fn a_flip_the_reconciler_gave_up_on_never_commits_later() {
    let t = test_db().await;
    let admin = &t.db.admin;
    let id = WorkspaceId::from("ws-1");
    world::insert(admin, &row("ws-1", Status::Online, Some("i-1"), None, 10))
        .await
        .unwrap();
    let config = Config {
        reconfirm_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let store =
        t.db.store
            .clone()
            .with_flip_budget(config.reconfirm_timeout / 2);
    let mut reconciler = Reconciler::new(
        Variant::Hardened,
        config,
        Some(store),
        Some(FixedCp(InstanceState::Terminated)),
        Recorder::default(),
    )
    .unwrap();

    // Another session holds the row (a heartbeat moving it to degraded,
    // which keeps it in scope) across the whole pass.
    let mut tx = admin.begin().await.unwrap();
    world::set_status(&mut *tx, &id, &Status::Degraded)
        .await
        .unwrap();
    let report = reconciler.pass().await;
    assert!(
        report.flipped.is_empty(),
        "the write waited past its timeout"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    tx.commit().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = world::row(admin, &id).await.unwrap().unwrap();
    assert_eq!(
        after.status,
        Status::Degraded,
        "the abandoned flip committed once the lock was released"
    );
    assert!(reconciler.handler().0.borrow().is_empty());

    reconciler.pass().await;
    let after = world::row(admin, &id).await.unwrap().unwrap();
    assert_eq!(after.status, Status::Offline);
    assert_eq!(*reconciler.handler().0.borrow(), vec![id]);
}
