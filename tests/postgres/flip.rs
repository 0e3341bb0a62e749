//! The flip on a real table. The merged reconciler (`legacy`, `pr2283`)
//! writes nothing: its flip is the offline handler's call, which records a
//! `WORKSPACE_OFFLINE` event. `hardened` writes one thing, its claim: a
//! compare-and-set that must write only when every clause holds, the quiet
//! guard of a "not found" claim included.

use std::time::Duration;

use pg_store::world;
use reconciler_core::{
    Claim, Config, InstanceId, InstanceState, Reconciler, Row, Status, Store, Variant, WorkspaceId,
};

use crate::fixtures::{FixedCp, Recorder, row, server_now};
use crate::support::postgres::{TestDb, test_db};

fn claim(id: &str, instance: &str, quiet_for: Option<Duration>) -> Claim {
    Claim {
        id: WorkspaceId::from(id),
        instance: InstanceId::from(instance),
        quiet_for,
    }
}

const MINUTE: Duration = Duration::from_secs(60);

/// Inserts `stored`, tries `claim`, and checks the outcome and the row.
/// Cases share one database, each with its own workspace ids.
async fn case(t: &TestDb, name: &str, stored: Row, claim: Claim, writes: bool) {
    let admin = &t.db.admin;
    world::insert(admin, &stored).await.unwrap();
    let wrote = t.db.store.claim(&claim).await.unwrap();
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
async fn claim_writes_when_every_clause_matches() {
    let t = test_db().await;
    case(
        &t,
        "online",
        row("ws-1", Status::Online, Some("i-1"), None, 10),
        claim("ws-1", "i-1", None),
        true,
    )
    .await;
    case(
        &t,
        "degraded, non-external runtime",
        row("ws-2", Status::Degraded, Some("i-2"), Some("saas"), 10),
        claim("ws-2", "i-2", None),
        true,
    )
    .await;
    case(
        &t,
        "written in 1970, quiet for a minute",
        row("ws-3", Status::Online, Some("i-3"), None, 10),
        claim("ws-3", "i-3", Some(MINUTE)),
        true,
    )
    .await;
}

#[tokio::test]
async fn claim_refuses_when_one_clause_fails() {
    let t = test_db().await;
    let online = |id| row(id, Status::Online, Some("i-1"), None, 10);
    case(
        &t,
        "other id",
        online("ws-a"),
        claim("ws-b", "i-1", None),
        false,
    )
    .await;
    case(
        &t,
        "other instance",
        online("ws-c"),
        claim("ws-c", "i-2", None),
        false,
    )
    .await;
    case(
        &t,
        "instance NULL",
        row("ws-d", Status::Online, None, None, 10),
        claim("ws-d", "i-1", None),
        false,
    )
    .await;
    case(
        &t,
        "instance '' with an empty claim",
        row("ws-e", Status::Online, Some(""), None, 10),
        claim("ws-e", "", None),
        false,
    )
    .await;
    for (id, status) in [
        ("ws-f", Status::Offline),
        ("ws-g", Status::Provisioning),
        ("ws-h", Status::Paused),
        ("ws-i", Status::Hibernating),
        ("ws-k", Status::Hibernated),
        ("ws-l", Status::Removed),
        ("ws-m", Status::Other("deleting".to_owned())),
    ] {
        case(
            &t,
            &format!("status {status}"),
            row(id, status.clone(), Some("i-1"), None, 10),
            claim(id, "i-1", None),
            false,
        )
        .await;
    }
    case(
        &t,
        "runtime external",
        row("ws-j", Status::Online, Some("i-1"), Some("external"), 10),
        claim("ws-j", "i-1", None),
        false,
    )
    .await;
    assert_eq!(
        world::row(&t.db.admin, &WorkspaceId::from("ws-b"))
            .await
            .unwrap(),
        None,
        "a claim for a missing row creates nothing"
    );
}

/// The quiet guard reads the server's clock: a row written less than
/// `quiet_for` before the claim is not claimed, one written longer ago is,
/// and without the guard the age does not matter.
#[tokio::test]
async fn claim_quiet_guard_refuses_a_row_written_too_recently() {
    let t = test_db().await;
    let now = server_now(&t.db.admin).await;
    let written = |id, ago: Duration| {
        let mut r = row(id, Status::Online, Some("i-1"), None, 0);
        r.updated_at = now - i64::try_from(ago.as_micros()).unwrap();
        r
    };
    case(
        &t,
        "written 30 s ago, quiet for a minute",
        written("ws-young", Duration::from_secs(30)),
        claim("ws-young", "i-1", Some(MINUTE)),
        false,
    )
    .await;
    case(
        &t,
        "written 2 min ago, quiet for a minute",
        written("ws-quiet", 2 * MINUTE),
        claim("ws-quiet", "i-1", Some(MINUTE)),
        true,
    )
    .await;
    case(
        &t,
        "written 30 s ago, no quiet guard",
        written("ws-fresh", Duration::from_secs(30)),
        claim("ws-fresh", "i-1", None),
        true,
    )
    .await;
    case(
        &t,
        "written 30 s ago, quiet for 10 s",
        written("ws-short", Duration::from_secs(30)),
        claim("ws-short", "i-1", Some(Duration::from_secs(10))),
        true,
    )
    .await;

    // A heartbeat just now (a status write bumps updated_at) starts the
    // quiet period over.
    let admin = &t.db.admin;
    let id = WorkspaceId::from("ws-beat");
    world::insert(
        admin,
        &row("ws-beat", Status::Online, Some("i-1"), None, 10),
    )
    .await
    .unwrap();
    world::set_status(admin, &id, &Status::Degraded)
        .await
        .unwrap();
    let c = claim("ws-beat", "i-1", Some(MINUTE));
    assert_eq!(t.db.store.claim(&c).await, Ok(false));
    let after = world::row(admin, &id).await.unwrap().unwrap();
    assert_eq!(after.status, Status::Degraded);
}

/// A quiet period too long for the server's timestamps is an error, never a
/// match: the claim fails safe.
#[tokio::test]
async fn claim_with_an_absurd_quiet_period_fails_without_writing() {
    let t = test_db().await;
    let stored = row("ws-1", Status::Online, Some("i-1"), None, 10);
    world::insert(&t.db.admin, &stored).await.unwrap();
    let err =
        t.db.store
            .claim(&claim("ws-1", "i-1", Some(Duration::MAX)))
            .await
            .unwrap_err();
    assert!(err.0.starts_with("claim ws-1: "), "{err}");
    assert_eq!(
        world::row(&t.db.admin, &stored.id).await.unwrap(),
        Some(stored)
    );
}

/// One dead workspace, two passes, nothing restarting it. `legacy` and
/// `pr2283` call the handler on both passes (two `WORKSPACE_OFFLINE` events)
/// and never write the table; `hardened` claims it once, with the instance,
/// and the second pass does not select it.
async fn two_passes_over_a_dead_row(variant: Variant) {
    let t = test_db().await;
    let admin = &t.db.admin;
    let id = WorkspaceId::from("ws-1");
    let stored = row("ws-1", Status::Online, Some("i-1"), None, 10);
    world::insert(admin, &stored).await.unwrap();
    let mut reconciler = Reconciler::new(
        variant,
        Config::default(),
        Some(t.db.store.clone()),
        Some(FixedCp(InstanceState::Terminated)),
        Recorder::recording_events(admin.clone()),
    )
    .unwrap();

    let first = reconciler.pass().await;
    let second = reconciler.pass().await;

    let reconciler_writes = world::audit(admin)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.application_name == pg_store::STORE_APPLICATION_NAME)
        .count();
    let events: Vec<(WorkspaceId, String)> = world::events(admin)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.workspace, e.event_type))
        .collect();
    let after = world::row(admin, &id).await.unwrap().unwrap();
    let offline = (id.clone(), world::WORKSPACE_OFFLINE.to_owned());
    match variant {
        Variant::Legacy | Variant::Pr2283 => {
            assert_eq!(first.flipped, std::slice::from_ref(&id), "{variant}");
            assert_eq!(second.flipped, std::slice::from_ref(&id), "{variant}");
            assert_eq!(
                reconciler.handler().calls(),
                [(id.clone(), None), (id.clone(), None)],
                "{variant}"
            );
            assert_eq!(events, [offline.clone(), offline], "{variant}");
            assert_eq!(reconciler_writes, 0, "{variant}: no write");
            assert_eq!(after, stored, "{variant}: row untouched");
        }
        Variant::Hardened => {
            assert_eq!(first.flipped, std::slice::from_ref(&id));
            assert_eq!((second.candidates, second.flipped.len()), (0, 0));
            assert_eq!(
                reconciler.handler().calls(),
                [(id.clone(), Some(InstanceId::from("i-1")))]
            );
            assert_eq!(events, [offline]);
            assert_eq!(reconciler_writes, 1, "the claim");
            assert_eq!(after.status, Status::Offline);
        }
    }
}

#[tokio::test]
async fn legacy_writes_nothing_and_flips_again() {
    two_passes_over_a_dead_row(Variant::Legacy).await;
}

#[tokio::test]
async fn pr2283_writes_nothing_and_flips_again() {
    two_passes_over_a_dead_row(Variant::Pr2283).await;
}

#[tokio::test]
async fn hardened_claims_once() {
    two_passes_over_a_dead_row(Variant::Hardened).await;
}
