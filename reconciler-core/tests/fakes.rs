//! Checks of the fakes themselves: every other test trusts the fake table to
//! evaluate the reference statements faithfully, so its semantics are pinned
//! here, statement by statement, independently of the reconciler.

mod common;

use common::*;
use std::time::Duration;

use reconciler_core::{
    CandidateQuery, Claim, ControlPlane, CpError, InstanceId, InstanceState, LEGACY_STATUSES,
    LIVE_STATUSES, OfflineHandler, Order, RowView, Status, Store, StoreError, WorkspaceId,
};
use tokio::time::{Instant, advance};

fn q(order: Order, limit: u32) -> CandidateQuery {
    CandidateQuery {
        statuses: LIVE_STATUSES,
        capture_instance: true,
        order,
        limit,
    }
}

fn ids(c: &[reconciler_core::Candidate]) -> Vec<String> {
    c.iter().map(|c| c.id.0.clone()).collect()
}

fn wid(s: &str) -> WorkspaceId {
    WorkspaceId::from(s)
}

fn table() -> FakeStore {
    FakeStore::new(vec![
        online("ws-a", "i-a", 1),
        online("ws-b", "i-b", 5),
        Row::new("ws-c", Status::Degraded, Some("i-c"), 5),
        online("ws-d", "i-d", 3),
        Row::new("ws-e", Status::Online, None, 9),
        Row::new("ws-f", Status::Online, Some(""), 9),
        online("ws-g", "i-g", 9).runtime(Some("external")),
        Row::new("ws-h", Status::Offline, Some("i-h"), 9),
    ])
}

#[tokio::test(start_paused = true)]
async fn candidates_scope_order_and_limit() {
    let s = table();
    let all = s.candidates(&q(Order::UpdatedAtDesc, 200)).await.unwrap();
    // updated_at DESC, ties (ws-b, ws-c at 5) by id; out of scope excluded.
    assert_eq!(ids(&all), ["ws-b", "ws-c", "ws-d", "ws-a"]);
    assert_eq!(all[0].instance, Some(InstanceId::from("i-b")));
    let two = s.candidates(&q(Order::UpdatedAtDesc, 2)).await.unwrap();
    assert_eq!(ids(&two), ["ws-b", "ws-c"]);
    let by_id = s.candidates(&q(Order::IdAfter(None), 200)).await.unwrap();
    assert_eq!(ids(&by_id), ["ws-a", "ws-b", "ws-c", "ws-d"]);
    let after = s
        .candidates(&q(Order::IdAfter(Some(wid("ws-b"))), 1))
        .await
        .unwrap();
    assert_eq!(ids(&after), ["ws-c"]);
    let legacy = CandidateQuery {
        statuses: LEGACY_STATUSES,
        capture_instance: false,
        order: Order::UpdatedAtDesc,
        limit: 200,
    };
    let rows = s.candidates(&legacy).await.unwrap();
    assert_eq!(ids(&rows), ["ws-b", "ws-d", "ws-a"]);
    assert!(rows.iter().all(|c| c.instance.is_none()), "id only");
    assert_eq!(s.queries().len(), 5);
    assert_eq!(s.queries()[4], legacy);
}

#[tokio::test(start_paused = true)]
async fn reconfirm_resolve_null_versus_empty() {
    let s = table();
    assert_eq!(
        s.reconfirm(&wid("ws-c")).await.unwrap(),
        Some(RowView {
            status: Status::Degraded,
            instance: InstanceId::from("i-c"),
        })
    );
    // COALESCE(instance_id, ''): NULL and '' read the same.
    for id in ["ws-e", "ws-f"] {
        assert_eq!(
            s.reconfirm(&wid(id)).await.unwrap().unwrap().instance,
            InstanceId::from("")
        );
        assert_eq!(s.resolve_instance(&wid(id)).await.unwrap(), None, "{id}");
    }
    assert_eq!(s.reconfirm(&wid("nope")).await.unwrap(), None);
    assert_eq!(s.resolve_instance(&wid("nope")).await.unwrap(), None);
    assert_eq!(
        s.resolve_instance(&wid("ws-a")).await.unwrap(),
        Some(InstanceId::from("i-a"))
    );
    // The table itself keeps NULL and '' apart.
    assert_eq!(s.row("ws-e").unwrap().instance, None);
    assert_eq!(s.row("ws-f").unwrap().instance.as_deref(), Some(""));
}

fn claim(id: &str, i: &str, quiet_for: Option<Duration>) -> Claim {
    Claim {
        id: wid(id),
        instance: InstanceId::from(i),
        quiet_for,
    }
}

#[tokio::test(start_paused = true)]
async fn claim_is_a_compare_and_set() {
    let s = table();
    // Each failed condition: wrong instance, empty instance in claim and
    // row, NULL row instance, non-live status, external runtime, no row.
    for (c, why) in [
        (claim("ws-a", "i-x", None), "instance differs"),
        (claim("ws-f", "", None), "empty instance"),
        (claim("ws-e", "", None), "NULL instance"),
        (claim("ws-h", "i-h", None), "offline"),
        (claim("ws-g", "i-g", None), "external"),
        (claim("nope", "i-a", None), "no row"),
    ] {
        assert_eq!(s.claim(&c).await, Ok(false), "{why}");
    }
    assert_eq!(s.offline_ids(), ["ws-h"], "nothing written");
    for status in [
        Status::Provisioning,
        Status::Paused,
        Status::Hibernating,
        Status::Hibernated,
        Status::Removed,
    ] {
        s.apply(Change::SetStatus("ws-b", status.clone()));
        assert_eq!(
            s.claim(&claim("ws-b", "i-b", None)).await,
            Ok(false),
            "{status}"
        );
        assert_eq!(s.status("ws-b"), status, "untouched");
    }
    advance(secs(7)).await;
    assert_eq!(s.claim(&claim("ws-a", "i-a", None)).await, Ok(true));
    assert_eq!(
        s.row("ws-a").unwrap().updated_at,
        7_000,
        "the claim's write bumps updated_at to the store's now"
    );
    assert_eq!(
        s.claim(&claim("ws-c", "i-c", None)).await,
        Ok(true),
        "degraded"
    );
    s.apply(Change::SetRuntime("ws-d", Some("ec2")));
    assert_eq!(s.claim(&claim("ws-d", "i-d", None)).await, Ok(true));
    assert_eq!(s.offline_ids(), ["ws-a", "ws-c", "ws-d", "ws-h"]);
    assert_eq!(
        s.claim(&claim("ws-a", "i-a", None)).await,
        Ok(false),
        "a second claim does not match"
    );
    assert_eq!(s.claims().len(), 15, "every claim is logged");
    assert_eq!(s.count(Op::Claim), 15);
}

/// The quiet guard: with `quiet_for = q`, a row matches only if
/// `updated_at <= now - q` on the store's clock (milliseconds of paused
/// tokio time since the store was built), boundary included.
#[tokio::test(start_paused = true)]
async fn claim_quiet_guard_compares_updated_at_with_the_store_clock() {
    let s = FakeStore::new(vec![
        online("ws-old", "i-1", -60_000),
        online("ws-new", "i-2", 0),
        online("ws-none", "i-3", 0),
    ]);
    let quiet = Some(secs(60));
    assert_eq!(s.now_ms(), 0);
    assert_eq!(
        s.claim(&claim("ws-old", "i-1", quiet)).await,
        Ok(true),
        "written exactly 60 s ago: quiet"
    );
    assert_eq!(
        s.claim(&claim("ws-new", "i-2", quiet)).await,
        Ok(false),
        "written just now"
    );
    assert_eq!(
        s.claim(&claim("ws-none", "i-3", None)).await,
        Ok(true),
        "no quiet guard: a fresh row is claimed"
    );
    advance(Duration::from_millis(59_999)).await;
    assert_eq!(s.now_ms(), 59_999);
    assert_eq!(s.claim(&claim("ws-new", "i-2", quiet)).await, Ok(false));
    assert_eq!(s.status("ws-new"), Status::Online);
    advance(Duration::from_millis(1)).await;
    assert_eq!(s.claim(&claim("ws-new", "i-2", quiet)).await, Ok(true));
    assert_eq!(s.status("ws-new"), Status::Offline);
    assert_eq!(s.row("ws-new").unwrap().updated_at, 60_000);
}

/// A status write bumps `updated_at` to the store's now (and so restarts the
/// quiet period); an instance write leaves it alone, as the orphan sweeper's
/// does.
#[tokio::test(start_paused = true)]
async fn status_changes_bump_updated_at_and_instance_changes_do_not() {
    let s = table();
    advance(secs(5)).await;
    s.apply(Change::SetStatus("ws-a", Status::Degraded));
    assert_eq!(s.row("ws-a").unwrap().updated_at, 5_000);
    s.apply(Change::SetInstance("ws-b", None));
    s.apply(Change::SetRuntime("ws-b", Some("ec2")));
    assert_eq!(s.row("ws-b").unwrap().updated_at, 5, "as it was");
}

#[tokio::test(start_paused = true)]
async fn injected_errors_latency_and_the_after_query_hook() {
    let s = table();
    s.fail_for(Op::Reconfirm, "ws-a");
    assert_eq!(
        s.reconfirm(&wid("ws-a")).await,
        Err(StoreError("injected Reconfirm failure".into()))
    );
    assert_eq!(
        injected(Op::Reconfirm),
        "store error: injected Reconfirm failure"
    );
    assert!(s.reconfirm(&wid("ws-b")).await.is_ok(), "only ws-a fails");
    s.fail(Op::Resolve);
    assert!(s.resolve_instance(&wid("ws-b")).await.is_err());

    s.latency(Op::Candidates, secs(2));
    s.after_candidates(vec![
        Change::Delete("ws-b"),
        Change::SetInstance("ws-d", Some("i-d2")),
    ]);
    let start = Instant::now();
    let rows = s.candidates(&q(Order::UpdatedAtDesc, 200)).await.unwrap();
    assert_eq!(start.elapsed(), secs(2));
    // The result is the table before the change; the table after it.
    assert_eq!(ids(&rows), ["ws-b", "ws-c", "ws-d", "ws-a"]);
    assert_eq!(rows[2].instance, Some(InstanceId::from("i-d")));
    assert!(s.row("ws-b").is_none());
    assert_eq!(s.row("ws-d").unwrap().instance.as_deref(), Some("i-d2"));
    // Applied once only.
    let again = s.candidates(&q(Order::UpdatedAtDesc, 200)).await.unwrap();
    assert_eq!(ids(&again), ["ws-c", "ws-d", "ws-a"]);
    assert_eq!(
        s.ops(),
        [
            on(Op::Reconfirm, "ws-a"),
            on(Op::Reconfirm, "ws-b"),
            on(Op::Resolve, "ws-b"),
            query(),
            query(),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn control_plane_and_handler_record_what_they_were_asked() {
    let cp = FakeCp::default();
    cp.state("i-1", InstanceState::Stopped);
    cp.error("i-2", CpError::Status(500));
    cp.latency_for("i-1", secs(3));
    let start = Instant::now();
    assert_eq!(
        cp.instance_state(&InstanceId::from("i-1")).await,
        Ok(InstanceState::Stopped)
    );
    assert_eq!(start.elapsed(), secs(3));
    assert_eq!(
        cp.instance_state(&InstanceId::from("i-2")).await,
        Err(CpError::Status(500))
    );
    assert_eq!(
        cp.instance_state(&InstanceId::from("i-unknown")).await,
        Ok(InstanceState::NotFound),
        "an id the cloud does not know"
    );
    assert_eq!(cp.asked(), ["i-1", "i-2", "i-unknown"]);

    let h = FakeHandler::default();
    h.on_offline(&wid("ws-1"), None).await;
    advance(secs(2)).await;
    h.on_offline(&wid("ws-2"), Some(&InstanceId::from("i-2")))
        .await;
    assert_eq!(h.called(), ["ws-1", "ws-2"]);
    assert_eq!(
        h.calls(),
        [
            ("ws-1".to_owned(), None),
            ("ws-2".to_owned(), Some("i-2".to_owned()))
        ]
    );
    assert_eq!(
        h.called_at(),
        [
            ("ws-1".to_owned(), Duration::ZERO),
            ("ws-2".to_owned(), secs(2))
        ]
    );
}
