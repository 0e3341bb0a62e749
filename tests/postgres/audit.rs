//! The audit trigger records every write with the row before and after, the
//! writing transaction and the writer: the history a stress test will check
//! against the oracle. And the platform's event table, where the offline
//! handler records each flip — the only trace a flip of the merged
//! reconciler leaves, since it writes no status.

use pg_store::world::{self, AuditOp, Event, WORKSPACE_OFFLINE};
use pg_store::{Micros, empty};
use reconciler_core::{Claim, InstanceId, Status, Store, WorkspaceId};

use crate::fixtures::row;
use crate::support::postgres::test_db;

#[tokio::test]
async fn every_write_is_recorded_with_old_and_new_rows() {
    let t = test_db().await;
    let admin = &t.db.admin;
    let id = WorkspaceId::from("ws-1");
    let inserted = row("ws-1", Status::Online, Some("i-1"), None, 10);
    world::insert(admin, &inserted).await.unwrap();
    world::orphan_sweep(admin, &id).await.unwrap();
    world::set_instance(admin, &id, Some(&InstanceId::from("i-1")))
        .await
        .unwrap();
    let claimed =
        t.db.store
            .claim(&Claim {
                id: id.clone(),
                instance: InstanceId::from("i-1"),
                quiet_for: None,
            })
            .await
            .unwrap();
    assert!(claimed);
    let final_row = world::row(admin, &id).await.unwrap().unwrap();
    // Two writes in one transaction share a txid.
    let mut tx = admin.begin().await.unwrap();
    world::reprovision(&mut *tx, &id, &InstanceId::from("i-2"))
        .await
        .unwrap();
    world::set_status(&mut *tx, &id, &Status::Online)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    world::delete(admin, &id).await.unwrap();

    let log = world::audit(admin).await.unwrap();
    let ops: Vec<AuditOp> = log.iter().map(|e| e.op).collect();
    use AuditOp::*;
    assert_eq!(
        ops,
        [Insert, Update, Update, Update, Update, Update, Delete]
    );
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(log.iter().all(|e| e.id == id));

    assert_eq!(log[0].old, None);
    assert_eq!(log[0].new.as_ref(), Some(&inserted));
    // The sweep: NULL, not ''.
    assert_eq!(log[1].new.as_ref().unwrap().instance, None);
    assert_eq!(log[1].old.as_ref().unwrap().instance, inserted.instance);
    // The reconciler's claim, under its own application_name.
    let flip = &log[3];
    assert_eq!(flip.application_name, pg_store::STORE_APPLICATION_NAME);
    assert_eq!(flip.old.as_ref().unwrap().status, Status::Online);
    assert_eq!(flip.new.as_ref(), Some(&final_row));
    assert_eq!(flip.new.as_ref().unwrap().updated_at, flip.tx_ts.0, "now()");
    assert!(flip.tx_ts <= flip.clock_ts);
    for e in log.iter().filter(|e| e.seq != flip.seq) {
        assert_eq!(e.application_name, pg_store::ADMIN_APPLICATION_NAME);
    }
    // One transaction, two writes; each row image chains to the next.
    assert_eq!(log[4].txid, log[5].txid);
    assert_ne!(log[3].txid, log[4].txid);
    assert_eq!(log[4].new.as_ref().unwrap().status, Status::Provisioning);
    assert_eq!(log[5].new.as_ref().unwrap().status, Status::Online);
    for w in log.windows(2) {
        assert_eq!(w[0].new, w[1].old, "history chains at seq {}", w[1].seq);
    }
    assert_eq!(log[6].new, None);
}

/// `record_event` appends to `structure_events` — for any workspace id, as
/// the platform does, even one with no row — and never writes `workspaces`
/// (so no audit entry); `events` reads them back in order with the writing
/// transaction's time; `empty` clears them and restarts their ids.
#[tokio::test]
async fn events_are_recorded_in_order_and_emptied_with_the_tables() {
    let t = test_db().await;
    let admin = &t.db.admin;
    let ws1 = WorkspaceId::from("ws-1");
    let gone = WorkspaceId::from("ws-gone");
    world::insert(admin, &row("ws-1", Status::Online, Some("i-1"), None, 10))
        .await
        .unwrap();
    let audited = world::audit(admin).await.unwrap().len();

    let mut tx = admin.begin().await.unwrap();
    let first = world::record_event(&mut *tx, &ws1, WORKSPACE_OFFLINE)
        .await
        .unwrap();
    let tx_now: i64 = sqlx::query_scalar("SELECT (extract(epoch FROM now()) * 1000000)::int8")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let second = world::record_event(admin, &gone, WORKSPACE_OFFLINE)
        .await
        .unwrap();
    let third = world::record_event(admin, &ws1, "WORKSPACE_ONLINE")
        .await
        .unwrap();
    assert_eq!((first, second, third), (1, 2, 3));

    let events = world::events(admin).await.unwrap();
    let summary: Vec<(i64, &str, &str)> = events
        .iter()
        .map(|e| (e.id, e.workspace.0.as_str(), e.event_type.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "ws-1", "WORKSPACE_OFFLINE"),
            (2, "ws-gone", "WORKSPACE_OFFLINE"),
            (3, "ws-1", "WORKSPACE_ONLINE"),
        ]
    );
    assert_eq!(
        events[0],
        Event {
            id: 1,
            workspace: ws1.clone(),
            event_type: WORKSPACE_OFFLINE.to_owned(),
            created_at: Micros(tx_now),
        },
        "created_at is the recording transaction's now()"
    );
    assert!(events[0].created_at <= events[1].created_at);
    assert!(events[1].created_at <= events[2].created_at);
    assert_eq!(
        world::audit(admin).await.unwrap().len(),
        audited,
        "no write to workspaces"
    );
    assert_eq!(world::row(admin, &gone).await.unwrap(), None);

    empty(admin).await.unwrap();
    assert!(world::events(admin).await.unwrap().is_empty());
    assert!(world::rows(admin).await.unwrap().is_empty());
    assert!(world::audit(admin).await.unwrap().is_empty());
    assert_eq!(
        world::record_event(admin, &ws1, WORKSPACE_OFFLINE)
            .await
            .unwrap(),
        1,
        "ids restart"
    );
}
