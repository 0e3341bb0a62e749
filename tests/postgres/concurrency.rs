//! `hardened`'s claim under a real row lock, READ COMMITTED (the default): a
//! second session holds the row in an open transaction; the claim must wait
//! for it, then decide on the row as that transaction left it — instance,
//! status and, for a "not found" claim, `updated_at`.

use std::time::Duration;

use pg_store::world;
use reconciler_core::{
    Claim, Config, InstanceId, InstanceState, Reconciler, Row, Status, Store, Variant, WorkspaceId,
};
use sqlx::PgPool;

use crate::fixtures::{FixedCp, Recorder, row};
use crate::support::postgres::test_db;

/// Waits until the reconciler's backend in this database is blocked on a
/// lock, i.e. the claim really is waiting for the other transaction. Fails
/// the test if that never happens (the claim did not block).
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
    panic!("the claim never waited on the row lock");
}

/// The write another session holds the row with.
#[derive(Clone, Copy, Debug)]
enum Racer {
    /// A reprovision onto `i-2` (status `provisioning`).
    Reprovision,
    /// A heartbeat moving the row to `degraded`: still in scope, same
    /// instance, but `updated_at` bumped to now.
    Heartbeat,
}

/// Inserts ws-1 (online on `i-1`, last written in 1970), opens a
/// transaction that makes `racer`'s write, starts a claim of `i-1` with
/// `quiet_for`, and once the claim is blocked ends the transaction with
/// `commit` or rollback. Returns whether the claim wrote, and the row.
async fn claim_racing(racer: Racer, quiet_for: Option<Duration>, commit: bool) -> (bool, Row) {
    let t = test_db().await;
    let admin = &t.db.admin;
    let id = WorkspaceId::from("ws-1");
    world::insert(admin, &row("ws-1", Status::Online, Some("i-1"), None, 10))
        .await
        .unwrap();
    let mut tx = admin.begin().await.unwrap();
    let wrote = match racer {
        Racer::Reprovision => world::reprovision(&mut *tx, &id, &InstanceId::from("i-2")).await,
        Racer::Heartbeat => world::set_status(&mut *tx, &id, &Status::Degraded).await,
    };
    assert!(wrote.unwrap());
    let claim = Claim {
        id: id.clone(),
        instance: InstanceId::from("i-1"),
        quiet_for,
    };
    let (wrote, ()) = tokio::join!(t.db.store.claim(&claim), async {
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

const MINUTE: Option<Duration> = Some(Duration::from_secs(60));

#[tokio::test]
async fn claim_blocked_by_a_reprovision_that_commits_writes_nothing() {
    let (wrote, after) = claim_racing(Racer::Reprovision, None, true).await;
    assert!(!wrote, "EvalPlanQual re-check must reject the changed row");
    assert_eq!(after.status, Status::Provisioning);
    assert_eq!(after.instance, Some(InstanceId::from("i-2")));
}

#[tokio::test]
async fn claim_blocked_by_a_reprovision_that_rolls_back_writes() {
    let (wrote, after) = claim_racing(Racer::Reprovision, None, false).await;
    assert!(wrote, "the row is unchanged after the rollback");
    assert_eq!(after.status, Status::Offline);
    assert_eq!(after.instance, Some(InstanceId::from("i-1")));
}

/// A heartbeat leaves the row in scope on the same instance: a claim proven
/// by a terminal state (no quiet guard) still matches after it commits, but
/// a "not found" claim re-checks `updated_at` on the new row version, finds
/// it written just now, and matches nothing.
#[tokio::test]
async fn quiet_claim_blocked_by_a_heartbeat_that_commits_writes_nothing() {
    let (wrote, after) = claim_racing(Racer::Heartbeat, MINUTE, true).await;
    assert!(!wrote, "the re-check sees the bumped updated_at");
    assert_eq!(after.status, Status::Degraded);

    let (wrote, after) = claim_racing(Racer::Heartbeat, None, true).await;
    assert!(
        wrote,
        "without the quiet guard the heartbeat changes nothing"
    );
    assert_eq!(after.status, Status::Offline);
}

#[tokio::test]
async fn quiet_claim_blocked_by_a_heartbeat_that_rolls_back_writes() {
    let (wrote, after) = claim_racing(Racer::Heartbeat, MINUTE, false).await;
    assert!(wrote, "the row is still quiet after the rollback");
    assert_eq!(after.status, Status::Offline);
}

/// A claim that waits on a row lock longer than the reconciler's write
/// timeout must not commit after the reconciler gave up: if it did, the row
/// would end up offline with no flip (no offline handler call), and no later
/// pass would select it again. The row stays in scope instead, and the next
/// pass claims it and flips it exactly once.
#[tokio::test]
async fn a_claim_the_reconciler_gave_up_on_never_commits_later() {
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
        "the claim waited past its timeout"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    tx.commit().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = world::row(admin, &id).await.unwrap().unwrap();
    assert_eq!(
        after.status,
        Status::Degraded,
        "the abandoned claim committed once the lock was released"
    );
    assert!(reconciler.handler().calls().is_empty());

    reconciler.pass().await;
    let after = world::row(admin, &id).await.unwrap().unwrap();
    assert_eq!(after.status, Status::Offline);
    assert_eq!(
        reconciler.handler().calls(),
        [(id, Some(InstanceId::from("i-1")))]
    );
}
