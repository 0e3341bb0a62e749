//! The audit trigger records every write with the row before and after, the
//! writing transaction and the writer: the history a stress test will check
//! against the oracle.

use pg_store::world::{self, AuditOp};
use reconciler_core::{FlipGuard, InstanceId, Status, Store, WorkspaceId};

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
    let flipped =
        t.db.store
            .flip_if_unchanged(&FlipGuard {
                id: id.clone(),
                instance: InstanceId::from("i-1"),
            })
            .await
            .unwrap();
    assert!(flipped);
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
    // The reconciler's flip, under its own application_name.
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
