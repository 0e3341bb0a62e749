//! The two writes a flip can make: the reference's unconditional
//! `mark_offline`, and `hardened`'s guarded compare-and-set, which must write
//! only when every clause holds.

use pg_store::world;
use reconciler_core::{FlipGuard, InstanceId, Row, Status, Store, WorkspaceId};

use crate::fixtures::row;
use crate::support::postgres::{TestDb, test_db};

fn guard(id: &str, instance: &str) -> FlipGuard {
    FlipGuard {
        id: WorkspaceId::from(id),
        instance: InstanceId::from(instance),
    }
}

/// Inserts `stored`, tries `guard`, and checks the outcome and the row.
/// Cases share one database, each with its own workspace ids.
async fn case(t: &TestDb, name: &str, stored: Row, guard: FlipGuard, writes: bool) {
    let admin = &t.db.admin;
    world::insert(admin, &stored).await.unwrap();
    let wrote = t.db.store.flip_if_unchanged(&guard).await.unwrap();
    assert_eq!(wrote, writes, "{name}: write reported");
    let after = world::row(admin, &stored.id).await.unwrap().unwrap();
    if writes {
        assert_eq!(after.status, Status::Offline, "{name}");
        assert!(
            after.updated_at > stored.updated_at,
            "{name}: updated_at bumped"
        );
        assert_eq!(
            (&after.instance, &after.runtime),
            (&stored.instance, &stored.runtime),
            "{name}: nothing else changed"
        );
    } else {
        assert_eq!(after, stored, "{name}: row untouched");
    }
}

#[tokio::test]
async fn guarded_flip_writes_when_every_clause_matches() {
    let t = test_db().await;
    case(
        &t,
        "online",
        row("ws-1", Status::Online, Some("i-1"), None, 10),
        guard("ws-1", "i-1"),
        true,
    )
    .await;
    case(
        &t,
        "degraded, non-external runtime",
        row("ws-2", Status::Degraded, Some("i-2"), Some("saas"), 10),
        guard("ws-2", "i-2"),
        true,
    )
    .await;
}

#[tokio::test]
async fn guarded_flip_refuses_when_one_clause_fails() {
    let t = test_db().await;
    let online = |id| row(id, Status::Online, Some("i-1"), None, 10);
    case(&t, "other id", online("ws-a"), guard("ws-b", "i-1"), false).await;
    case(
        &t,
        "other instance",
        online("ws-c"),
        guard("ws-c", "i-2"),
        false,
    )
    .await;
    case(
        &t,
        "instance NULL",
        row("ws-d", Status::Online, None, None, 10),
        guard("ws-d", "i-1"),
        false,
    )
    .await;
    case(
        &t,
        "instance '' with an empty guard",
        row("ws-e", Status::Online, Some(""), None, 10),
        guard("ws-e", ""),
        false,
    )
    .await;
    for (id, status) in [
        ("ws-f", Status::Offline),
        ("ws-g", Status::Provisioning),
        ("ws-h", Status::Paused),
        ("ws-i", Status::Other("deleting".to_owned())),
    ] {
        case(
            &t,
            &format!("status {status}"),
            row(id, status.clone(), Some("i-1"), None, 10),
            guard(id, "i-1"),
            false,
        )
        .await;
    }
    case(
        &t,
        "runtime external",
        row("ws-j", Status::Online, Some("i-1"), Some("external"), 10),
        guard("ws-j", "i-1"),
        false,
    )
    .await;
    assert_eq!(
        world::row(&t.db.admin, &WorkspaceId::from("ws-b"))
            .await
            .unwrap(),
        None,
        "a guard for a missing row creates nothing"
    );
}

#[tokio::test]
async fn mark_offline_is_unconditional_and_quiet_on_a_missing_row() {
    let t = test_db().await;
    let admin = &t.db.admin;
    let rows = [
        row("ws-ext", Status::Online, Some("i-1"), Some("external"), 10),
        row("ws-prov", Status::Provisioning, Some("i-2"), None, 10),
        row("ws-null", Status::Paused, None, None, 10),
    ];
    for r in &rows {
        world::insert(admin, r).await.unwrap();
    }
    for r in &rows {
        t.db.store.mark_offline(&r.id).await.unwrap();
        let after = world::row(admin, &r.id).await.unwrap().unwrap();
        assert_eq!(after.status, Status::Offline, "{}", r.id);
        assert_eq!(after.instance, r.instance, "{}", r.id);
        assert!(after.updated_at > r.updated_at, "{}", r.id);
    }
    let before = world::audit(admin).await.unwrap().len();
    t.db.store
        .mark_offline(&WorkspaceId::from("ws-gone"))
        .await
        .unwrap();
    assert_eq!(
        world::row(admin, &WorkspaceId::from("ws-gone"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(world::audit(admin).await.unwrap().len(), before, "no write");
}
