//! The flip as the merged platform does it, and `hardened`'s claim.
//!
//! The merged reconciler's flip is one call to the offline handler
//! (`onWorkspaceOffline`: an event and a background restart) and writes no
//! status, so until the restart writes `provisioning` the row is still in
//! scope and every later pass — and every other replica — flips it again.
//! `hardened` claims the row first (a compare-and-set to `offline`), calls
//! the handler only when the claim matched, with the instance it claimed
//! on, and so flips a row once; a "not found" answer additionally needs the
//! row to have gone unwritten for `Config::not_found_quiet`.

mod common;

use std::time::Duration;

use common::*;
use reconciler_core::{Config, InstanceState, SkipReason, Status, Variant, WorkspaceId};
use tokio::time::advance;

per_variant!(
    flip_writes_no_status_until_claimed,
    two_replicas_flip_one_row,
);

/// One dead row, three passes, nothing restarting it in between the first
/// two. `legacy` and `pr2283` call the handler with the workspace id alone,
/// write nothing, and flip the same row again on the second pass; `hardened`
/// claims it (`offline`, `updated_at` bumped), hands the handler `i-1`, and
/// does not select it again. Then the restart the flip started writes
/// `provisioning`, and no variant flips it on the third pass.
async fn flip_writes_no_status_until_claimed(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", -5_000)]);
    w.cp.state("i-1", InstanceState::Terminated);
    let mut rec = w.reconciler(variant);

    let first = rec.pass().await;
    let after_first = w.store.row("ws-1").expect("row kept");
    advance(secs(60)).await;
    let second = rec.pass().await;
    w.store
        .apply(Change::SetStatus("ws-1", Status::Provisioning));
    let third = rec.pass().await;

    let flips: Vec<Vec<String>> = [&first, &second, &third]
        .iter()
        .map(|r| strs(&r.flipped))
        .collect();
    let one = vec!["ws-1".to_owned()];
    let (expected_flips, calls, status, updated_at, candidates) = match variant {
        Variant::Legacy | Variant::Pr2283 => (
            vec![one.clone(), one, vec![]],
            vec![("ws-1".to_owned(), None), ("ws-1".to_owned(), None)],
            Status::Online,
            -5_000,
            [1, 1, 0],
        ),
        Variant::Hardened => (
            vec![one, vec![], vec![]],
            vec![("ws-1".to_owned(), Some("i-1".to_owned()))],
            Status::Offline,
            0,
            [1, 0, 0],
        ),
    };
    assert_eq!(flips, expected_flips, "{variant}: flips per pass");
    assert_eq!(w.handler.calls(), calls, "{variant}: handler calls");
    assert_eq!(after_first.status, status, "{variant}: status after a flip");
    assert_eq!(after_first.updated_at, updated_at, "{variant}: updated_at");
    assert_eq!(
        [first.candidates, second.candidates, third.candidates],
        candidates,
        "{variant}: rows selected per pass"
    );
    let claims = match variant {
        Variant::Legacy | Variant::Pr2283 => 0,
        Variant::Hardened => 1,
    };
    assert_eq!(w.store.count(Op::Claim), claims, "{variant}");
    assert_eq!(w.store.status("ws-1"), Status::Provisioning, "{variant}");
}

/// Two replicas (two reconcilers, one table, one control plane, one
/// handler) pass at the same moment over the same dead row; the control
/// plane answers both after 1 s. Both reference variants flip it — two
/// restarts of one workspace, nothing coalescing them across processes —
/// while `hardened`'s two claims race and only the one that matched calls
/// the handler; the other replica reports its claim rejected.
async fn two_replicas_flip_one_row(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);
    w.cp.latency(secs(1));
    let mut a = w.reconciler(variant);
    let mut b = w.reconciler(variant);

    let (ra, rb) = tokio::join!(a.pass(), b.pass());

    let mut reports = [
        (strs(&ra.flipped), ra.skipped),
        (strs(&rb.flipped), rb.skipped),
    ];
    // Which replica's claim runs first is the scheduler's choice; list the
    // one that flipped first.
    if reports[0].0.is_empty() {
        reports.swap(0, 1);
    }
    let flipped = || (vec!["ws-1".to_owned()], vec![]);
    let (expected, calls) = match variant {
        Variant::Legacy | Variant::Pr2283 => (
            [flipped(), flipped()],
            vec![("ws-1".to_owned(), None), ("ws-1".to_owned(), None)],
        ),
        Variant::Hardened => (
            [
                flipped(),
                (
                    vec![],
                    vec![(WorkspaceId::from("ws-1"), SkipReason::GuardRejected)],
                ),
            ],
            vec![("ws-1".to_owned(), Some("i-1".to_owned()))],
        ),
    };
    assert_eq!(reports, expected, "{variant}: each replica's report");
    assert_eq!(w.handler.calls(), calls, "{variant}: handler calls");
    assert_eq!(w.cp.asked(), ["i-1", "i-1"], "{variant}: both probed");
}

/// A "not found" answer makes `hardened` claim with `quiet_for` set to
/// `Config::not_found_quiet` (90 s here, to tell it from the default): the
/// store refuses the claim while the row is younger than that, and accepts
/// it once the row has gone unwritten for that long. A status write in the
/// meantime (a heartbeat degrading the row) starts the quiet period over. A
/// `terminated` answer about an equally fresh row is proof on its own: its
/// claim carries no quiet guard and matches at once.
#[tokio::test(start_paused = true)]
async fn hardened_not_found_claim_waits_for_the_quiet_period() {
    let w = World::new(vec![online("ws-1", "i-1", 0), online("ws-2", "i-2", 0)]);
    w.cp.state("i-1", InstanceState::NotFound);
    w.cp.state("i-2", InstanceState::Terminated);
    let quiet = secs(90);
    let mut rec = w.reconciler_with(
        Variant::Hardened,
        Config {
            not_found_quiet: quiet,
            ..Config::default()
        },
    );
    let rejected = vec![(WorkspaceId::from("ws-1"), SkipReason::GuardRejected)];

    let at_0 = rec.pass().await;
    assert_eq!(strs(&at_0.flipped), ["ws-2"], "terminated: claimed at once");
    assert_eq!(at_0.skipped, rejected, "not found, written 0 s ago");
    let quiet_for: Vec<(String, Option<Duration>)> = w
        .store
        .claims()
        .into_iter()
        .map(|c| (c.id.0, c.quiet_for))
        .collect();
    assert_eq!(
        quiet_for,
        [("ws-1".to_owned(), Some(quiet)), ("ws-2".to_owned(), None)]
    );

    advance(secs(60)).await;
    w.store.apply(Change::SetStatus("ws-1", Status::Degraded));
    advance(secs(30)).await;
    let at_90 = rec.pass().await;
    assert_eq!(at_90.skipped, rejected, "90 s old, but written 30 s ago");
    assert_eq!(w.store.status("ws-1"), Status::Degraded, "not claimed");

    advance(Duration::from_millis(59_999)).await;
    let just_short = rec.pass().await;
    assert_eq!(just_short.skipped, rejected, "1 ms short of quiet");

    advance(Duration::from_millis(1)).await;
    let quiet_enough = rec.pass().await;
    assert_eq!(strs(&quiet_enough.flipped), ["ws-1"]);
    assert!(quiet_enough.skipped.is_empty());
    let row = w.store.row("ws-1").expect("row kept");
    assert_eq!(row.status, Status::Offline);
    assert_eq!(row.updated_at, 150_000, "claimed at 150 s");
    assert_eq!(
        w.handler.calls(),
        [
            ("ws-2".to_owned(), Some("i-2".to_owned())),
            ("ws-1".to_owned(), Some("i-1".to_owned()))
        ]
    );
    assert_eq!(w.cp.asked(), ["i-1", "i-2", "i-1", "i-1", "i-1"]);
}

/// Every way a claim can match no row, each staged right after the
/// candidate query so that the probe has already proved the instance dead:
/// the row deleted, reprovisioned onto another instance, claimed first by
/// the platform's Hibernate flow, claimed first by another replica
/// (`offline`), moved to an `external` runtime, and — for a "not found"
/// answer — written too recently. None of these claims calls the offline
/// handler, and none writes.
#[tokio::test(start_paused = true)]
async fn hardened_claim_that_matches_no_row_never_calls_the_handler() {
    let w = World::new(vec![
        online("ws-1", "i-1", -600_000),
        online("ws-2", "i-2", -600_000),
        online("ws-3", "i-3", -600_000),
        online("ws-4", "i-4", -600_000),
        online("ws-5", "i-5", -600_000),
        online("ws-6", "i-6", -600_000),
    ]);
    for i in ["i-1", "i-2", "i-3", "i-4", "i-5"] {
        w.cp.state(i, InstanceState::Terminated);
    }
    w.cp.state("i-6", InstanceState::NotFound);
    w.store.after_candidates(vec![
        Change::Delete("ws-1"),
        Change::SetInstance("ws-2", Some("i-2b")),
        Change::SetStatus("ws-3", Status::Hibernating),
        Change::SetStatus("ws-4", Status::Offline),
        Change::SetRuntime("ws-5", Some("external")),
        // A heartbeat: the row is written now, so not quiet.
        Change::SetStatus("ws-6", Status::Degraded),
    ]);

    let report = w.pass(Variant::Hardened).await;

    let ids = ["ws-1", "ws-2", "ws-3", "ws-4", "ws-5", "ws-6"];
    assert_eq!(w.cp.asked(), ["i-1", "i-2", "i-3", "i-4", "i-5", "i-6"]);
    assert!(report.flipped.is_empty());
    let skipped: Vec<(WorkspaceId, SkipReason)> = ids
        .iter()
        .map(|id| (WorkspaceId::from(*id), SkipReason::GuardRejected))
        .collect();
    assert_eq!(report.skipped, skipped);
    let claimed: Vec<String> = w.store.claims().into_iter().map(|c| c.id.0).collect();
    assert_eq!(claimed, ids, "every row was claimed, none matched");
    assert!(w.handler.calls().is_empty(), "no flip");
    assert!(w.store.row("ws-1").is_none());
    let after: Vec<(Status, Option<String>)> = ids[1..]
        .iter()
        .map(|id| {
            let r = w.store.row(id).expect("row kept");
            (r.status, r.instance)
        })
        .collect();
    assert_eq!(
        after,
        [
            (Status::Online, Some("i-2b".to_owned())),
            (Status::Hibernating, Some("i-3".to_owned())),
            (Status::Offline, Some("i-4".to_owned())),
            (Status::Online, Some("i-5".to_owned())),
            (Status::Degraded, Some("i-6".to_owned())),
        ],
        "as the racing writes left them"
    );
}
