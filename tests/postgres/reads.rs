//! The re-confirm and `IsRunning`'s instance lookup: NULL, `''`, a value, and
//! a missing row are four different answers in the table and must come back
//! as the reference defines them.

use pg_store::world;
use reconciler_core::{InstanceId, RowView, Status, Store, WorkspaceId};

use crate::fixtures::row;
use crate::support::postgres::test_db;

#[tokio::test]
async fn reconfirm_reads_null_and_empty_as_empty_and_missing_as_none() {
    let t = test_db().await;
    let admin = &t.db.admin;
    world::insert(admin, &row("ws-null", Status::Online, None, None, 1))
        .await
        .unwrap();
    world::insert(admin, &row("ws-empty", Status::Degraded, Some(""), None, 1))
        .await
        .unwrap();
    world::insert(admin, &row("ws-set", Status::Paused, Some("i-1"), None, 1))
        .await
        .unwrap();
    let store = &t.db.store;
    let view = |status, instance: &str| {
        Some(RowView {
            status,
            instance: InstanceId::from(instance),
        })
    };
    assert_eq!(
        store
            .reconfirm(&WorkspaceId::from("ws-null"))
            .await
            .unwrap(),
        view(Status::Online, "")
    );
    assert_eq!(
        store
            .reconfirm(&WorkspaceId::from("ws-empty"))
            .await
            .unwrap(),
        view(Status::Degraded, "")
    );
    assert_eq!(
        store.reconfirm(&WorkspaceId::from("ws-set")).await.unwrap(),
        view(Status::Paused, "i-1")
    );
    assert_eq!(
        store
            .reconfirm(&WorkspaceId::from("ws-gone"))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn resolve_instance_is_none_for_null_empty_and_missing() {
    let t = test_db().await;
    let admin = &t.db.admin;
    world::insert(admin, &row("ws-null", Status::Online, None, None, 1))
        .await
        .unwrap();
    world::insert(admin, &row("ws-empty", Status::Online, Some(""), None, 1))
        .await
        .unwrap();
    world::insert(admin, &row("ws-set", Status::Online, Some("i-1"), None, 1))
        .await
        .unwrap();
    let store = &t.db.store;
    for id in ["ws-null", "ws-empty", "ws-gone"] {
        assert_eq!(
            store
                .resolve_instance(&WorkspaceId::from(id))
                .await
                .unwrap(),
            None,
            "{id}"
        );
    }
    assert_eq!(
        store
            .resolve_instance(&WorkspaceId::from("ws-set"))
            .await
            .unwrap(),
        Some(InstanceId::from("i-1"))
    );
}

#[tokio::test]
async fn world_rows_round_trip_exactly() {
    let t = test_db().await;
    let admin = &t.db.admin;
    let mut rows = vec![
        row("ws-b", Status::Online, None, None, 1_700_000_000),
        row("ws-a", Status::Degraded, Some(""), Some("external"), 0),
        row("ws-c", Status::Other("x".to_owned()), Some("i-9"), None, -5),
    ];
    // Sub-second precision survives too.
    rows[0].updated_at += 123_457;
    for r in &rows {
        world::insert(admin, r).await.unwrap();
    }
    assert_eq!(
        world::row(admin, &WorkspaceId::from("ws-b")).await.unwrap(),
        Some(rows[0].clone())
    );
    assert_eq!(
        world::row(admin, &WorkspaceId::from("nope")).await.unwrap(),
        None
    );
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(world::rows(admin).await.unwrap(), rows);
}
