//! Deadlines, timeouts and cancellation, in paused (simulated) time: a pass
//! that runs into its 45 s deadline under a slow control plane, a candidate
//! query the deadline cuts short, the 10 s probe cap, the 5 s cap on the
//! check before the flip, per-call timeouts capped by the pass deadline, and
//! cancellation while a call is in flight.

mod common;

use std::time::Duration;

use common::*;
use reconciler_core::{InstanceState, PassReport, SkipReason, Status, Variant, WorkspaceId};
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

per_variant!(
    deadline_hit_mid_pass,
    candidate_query_cut_by_the_deadline,
    probe_timeout,
    slow_check_before_the_write,
    deadline_caps_the_call_in_flight,
    cancel_while_a_probe_is_in_flight,
    cancel_during_the_write_step,
);

/// Twenty running rows, 8 s per CP answer. `pr2283` and `hardened` stop at
/// the 45 s deadline: five answers by 40 s, the sixth probe (started at 40 s)
/// is cut short at 45 s, fourteen rows are left. `legacy` has no deadline
/// and takes 20 × 8 s = 160 s.
async fn deadline_hit_mid_pass(variant: Variant) {
    let w = World::new(fleet(20));
    for k in 1..=20 {
        w.cp.state(&format!("i-{k:02}"), InstanceState::Running);
    }
    w.cp.latency(secs(8));
    let mut rec = w.reconciler(variant);
    let start = Instant::now();

    let report = rec.pass().await;
    let took = start.elapsed();

    let running = |a: usize, b: usize| -> Vec<(WorkspaceId, SkipReason)> {
        (a..=b)
            .map(|k| (WorkspaceId(format!("ws-{k:02}")), SkipReason::Running))
            .collect()
    };
    let (expected, expected_took) = match variant {
        Variant::Legacy => (
            PassReport {
                candidates: 20,
                processed: 20,
                skipped: running(1, 20),
                ..PassReport::default()
            },
            secs(160),
        ),
        Variant::Pr2283 | Variant::Hardened => {
            let mut skipped = running(1, 5);
            skipped.push(("ws-06".into(), SkipReason::ProbeTimeout));
            (
                PassReport {
                    candidates: 20,
                    processed: 6,
                    skipped,
                    deadline_hit: true,
                    ..PassReport::default()
                },
                secs(45),
            )
        }
    };
    assert_eq!(report, expected, "{variant}");
    assert_eq!(took, expected_took, "{variant}: simulated pass duration");
    // The bound the brief states: never past the deadline plus the last call.
    if variant != Variant::Legacy {
        assert!(took <= secs(45) + secs(8), "{variant}");
    }
    let expected_asks = match variant {
        Variant::Legacy => 20,
        Variant::Pr2283 | Variant::Hardened => 6,
    };
    assert_eq!(w.cp.asked().len(), expected_asks, "{variant}");
    // The probes were sent back to back, 8 s apart.
    let at: Vec<u64> = w.cp.asked_at().iter().map(|(_, t)| t.as_secs()).collect();
    let expected_at: Vec<u64> = (0..expected_asks as u64).map(|k| k * 8).collect();
    assert_eq!(at, expected_at, "{variant}");
}

/// The candidate query takes 50 s, past the 45 s pass deadline (a locked or
/// overloaded table). The merged code issues it with the cycle context, so
/// `pr2283` (and `hardened`) give up on it at 45 s: the pass ends there
/// with nothing probed and nothing flipped, reported as a failed query that
/// hit the deadline. `legacy` has no deadline: it waits the 50 s out and
/// goes on to probe and flip.
async fn candidate_query_cut_by_the_deadline(variant: Variant) {
    let w = World::new(fleet(2));
    w.cp.state("i-01", InstanceState::Terminated);
    w.cp.state("i-02", InstanceState::Running);
    w.store.latency(Op::Candidates, secs(50));
    let start = Instant::now();

    let report = w.pass(variant).await;
    let took = start.elapsed();

    let (expect, expected_report, expected_took) = match variant {
        Variant::Legacy => (
            Expect {
                asked: vec!["i-01", "i-02"],
                flipped: vec!["ws-01"],
                skipped: vec![("ws-02", SkipReason::Running)],
            },
            PassReport {
                candidates: 2,
                processed: 2,
                flipped: vec!["ws-01".into()],
                skipped: vec![("ws-02".into(), SkipReason::Running)],
                ..PassReport::default()
            },
            secs(50),
        ),
        Variant::Pr2283 | Variant::Hardened => (
            Expect::default(),
            PassReport {
                query_failed: true,
                deadline_hit: true,
                ..PassReport::default()
            },
            secs(45),
        ),
    };
    check(variant, &w, &report, &expect);
    assert_eq!(report, expected_report, "{variant}");
    assert_eq!(took, expected_took, "{variant}: simulated pass duration");
    let statements = match variant {
        Variant::Legacy => vec![query(), on(Op::Resolve, "ws-01"), on(Op::Resolve, "ws-02")],
        Variant::Pr2283 | Variant::Hardened => vec![query()],
    };
    assert_eq!(w.store.ops(), statements, "{variant}: statements run");
}

/// The CP answers `terminated`, but only after 12 s: past the 10 s probe cap.
/// Every variant gives up at 10 s and does not flip; the next row (answered
/// at once) is still handled.
async fn probe_timeout(variant: Variant) {
    let w = World::new(fleet(2));
    w.cp.state("i-01", InstanceState::Terminated);
    w.cp.latency_for("i-01", secs(12));
    w.cp.state("i-02", InstanceState::Terminated);
    let start = Instant::now();

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => Expect {
            asked: vec!["i-01", "i-02"],
            flipped: vec!["ws-02"],
            skipped: vec![("ws-01", SkipReason::ProbeTimeout)],
        },
    };
    check(variant, &w, &report, &expect);
    assert_eq!(start.elapsed(), secs(10), "{variant}: the probe cap");
    assert_eq!(w.handler.called_at(), [("ws-02".to_owned(), secs(10))]);
    // The late answer never lands: nothing more happens afterwards.
    sleep(secs(60)).await;
    assert_eq!(w.store.status("ws-01"), Status::Online, "{variant}");
    assert_eq!(w.handler.called(), ["ws-02"], "{variant}");
}

/// The statement that checks before the flip takes 6 s, past its 5 s cap:
/// `pr2283`'s re-confirm times out (no flip); `hardened`'s claim times out
/// (no flip); `legacy` has no such statement and flips at once.
async fn slow_check_before_the_write(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);
    w.store.latency(Op::Reconfirm, secs(6));
    w.store.latency(Op::Claim, secs(6));
    let start = Instant::now();

    let report = w.pass(variant).await;

    let (expect, took) = match variant {
        Variant::Legacy => (
            Expect {
                asked: vec!["i-1"],
                flipped: vec!["ws-1"],
                skipped: vec![],
            },
            Duration::ZERO,
        ),
        Variant::Pr2283 => (
            Expect {
                asked: vec!["i-1"],
                flipped: vec![],
                skipped: vec![("ws-1", SkipReason::ReconfirmError("timed out".into()))],
            },
            secs(5),
        ),
        Variant::Hardened => (
            Expect {
                asked: vec!["i-1"],
                flipped: vec![],
                skipped: vec![("ws-1", SkipReason::FlipError("timed out".into()))],
            },
            secs(5),
        ),
    };
    check(variant, &w, &report, &expect);
    assert_eq!(start.elapsed(), took, "{variant}");
    assert_eq!(
        w.store.count(Op::Claim),
        usize::from(variant == Variant::Hardened),
        "{variant}: claims issued"
    );
    assert_eq!(w.store.status("ws-1"), Status::Online, "{variant}");
}

/// Per-call timeouts are capped by the pass deadline. Five running rows take
/// 8 s each (40 s); `ws-06`'s instance answers `terminated` at 44 s; the
/// check before the flip then needs 3 s, which would end at 47 s.
/// `pr2283`'s re-confirm and `hardened`'s claim are cut at 45 s (no flip);
/// `legacy`, with no deadline and no re-confirm, flips at 44 s. A second
/// pass shows who comes back for `ws-06`: `hardened` resumes at the row the
/// deadline cut short and claims and flips it; `pr2283` starts over from the
/// head and is cut at the same place again; `legacy`, having written no
/// status, reads the same six rows and flips `ws-06` a second time.
async fn deadline_caps_the_call_in_flight(variant: Variant) {
    let w = World::new(fleet(6));
    for k in 1..=5 {
        w.cp.state(&format!("i-{k:02}"), InstanceState::Running);
    }
    w.cp.latency(secs(8));
    w.cp.state("i-06", InstanceState::Terminated);
    w.cp.latency_for("i-06", secs(4));
    w.store.latency(Op::Reconfirm, secs(3));
    w.store.latency(Op::Claim, secs(3));
    let mut rec = w.reconciler(variant);

    let start = Instant::now();
    let first = rec.pass().await;
    let first_took = start.elapsed();
    let start = Instant::now();
    let second = rec.pass().await;
    let second_took = start.elapsed();

    let last = |r: &PassReport| r.skipped.last().cloned().map(|(w, r)| (w.0, r));
    match variant {
        Variant::Legacy => {
            assert_eq!(strs(&first.flipped), ["ws-06"]);
            assert_eq!(first_took, secs(44));
            assert!(!first.deadline_hit);
            assert_eq!(second.processed, 6, "ws-06 is still online");
            assert_eq!(strs(&second.flipped), ["ws-06"], "flipped again");
            assert_eq!(second_took, secs(44));
            assert_eq!(w.store.status("ws-06"), Status::Online);
        }
        Variant::Pr2283 => {
            let cut = Some((
                "ws-06".to_owned(),
                SkipReason::ReconfirmError("timed out".into()),
            ));
            assert_eq!(last(&first), cut);
            assert_eq!(first_took, secs(45));
            assert!(first.flipped.is_empty());
            assert_eq!(last(&second), cut, "cut at the same place again");
            assert_eq!(second_took, secs(45));
            assert!(second.flipped.is_empty());
            assert_eq!(w.store.status("ws-06"), Status::Online);
        }
        Variant::Hardened => {
            assert_eq!(
                last(&first),
                Some((
                    "ws-06".to_owned(),
                    SkipReason::FlipError("timed out".into())
                ))
            );
            assert_eq!(first_took, secs(45));
            assert!(first.flipped.is_empty());
            assert_eq!(second.processed, 1, "resumes at ws-06");
            assert_eq!(strs(&second.flipped), ["ws-06"]);
            assert_eq!(second_took, secs(7));
            assert_eq!(w.store.status("ws-06"), Status::Offline, "claimed");
        }
    }
    assert!(first.processed == 6, "{variant}");
    let ws06 = |proven: Option<&str>| ("ws-06".to_owned(), proven.map(str::to_owned));
    assert_eq!(
        w.handler.calls(),
        match variant {
            Variant::Legacy => vec![ws06(None), ws06(None)],
            Variant::Pr2283 => vec![],
            Variant::Hardened => vec![ws06(Some("i-06"))],
        },
        "{variant}"
    );
}

/// Runs the loop and cancels it `at` into the run; returns when `run`
/// returned and what the observer saw.
async fn run_until_cancelled(rec: &mut Rec, at: Duration) -> (Duration, Passes) {
    let cancel = CancellationToken::new();
    let mut passes = Passes::default();
    let start = Instant::now();
    let (returned_at, ()) = tokio::join!(
        async {
            rec.run(&cancel, &mut passes).await;
            start.elapsed()
        },
        async {
            sleep(at).await;
            cancel.cancel();
        }
    );
    (returned_at, passes)
}

/// Cancellation lands 5 s into an 8 s probe of a dead instance: the loop
/// returns at once, the pass never finishes, and no claim or flip follows.
async fn cancel_while_a_probe_is_in_flight(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);
    w.cp.latency(secs(8));
    let mut rec = w.reconciler(variant);

    let (returned_at, passes) = run_until_cancelled(&mut rec, secs(5)).await;
    sleep(secs(120)).await; // and nothing happens later either

    let statements = match variant {
        Variant::Legacy | Variant::Pr2283 => vec![query(), on(Op::Resolve, "ws-1")],
        Variant::Hardened => vec![query()],
    };
    assert_eq!(returned_at, secs(5), "{variant}: returned on cancel");
    assert_eq!(passes.start_secs(), [0], "{variant}");
    assert!(
        passes.finished.is_empty(),
        "{variant}: the pass was abandoned"
    );
    assert_eq!(w.cp.asked(), ["i-1"], "{variant}");
    assert_eq!(w.store.ops(), statements, "{variant}: no claim issued");
    assert!(w.handler.called().is_empty(), "{variant}: no flip");
    assert_eq!(w.store.status("ws-1"), Status::Online, "{variant}");
}

/// The CP answers `terminated` at once; the statements between the answer
/// and the flip each take 3 s; cancellation lands at 1 s. `pr2283` and
/// `hardened` are inside that statement (the re-confirm, the claim): the
/// loop returns at once, no later statement is issued and the offline
/// handler is never called. `legacy` has no statement there: it flipped at
/// 0 s, finished its boot pass, and is cancelled while waiting for the next
/// tick.
async fn cancel_during_the_write_step(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);
    for op in [Op::Reconfirm, Op::Claim] {
        w.store.latency(op, secs(3));
    }
    let mut rec = w.reconciler(variant);

    let (returned_at, passes) = run_until_cancelled(&mut rec, secs(1)).await;
    sleep(secs(120)).await;

    let (statements, finished, flips) = match variant {
        // Nothing between the answer and the flip: the pass ended at 0 s.
        Variant::Legacy => (
            vec![query(), on(Op::Resolve, "ws-1")],
            vec![0],
            vec![("ws-1".to_owned(), Duration::ZERO)],
        ),
        // Cancelled inside the re-confirm: the handler is never called.
        Variant::Pr2283 => (
            vec![query(), on(Op::Resolve, "ws-1"), on(Op::Reconfirm, "ws-1")],
            vec![],
            vec![],
        ),
        // Cancelled inside the claim.
        Variant::Hardened => (vec![query(), on(Op::Claim, "ws-1")], vec![], vec![]),
    };
    assert_eq!(returned_at, secs(1), "{variant}");
    let finished_at: Vec<u64> = passes
        .finished
        .iter()
        .map(|(_, t, _)| t.as_secs())
        .collect();
    assert_eq!(finished_at, finished, "{variant}: passes finished");
    assert_eq!(w.store.ops(), statements, "{variant}");
    assert_eq!(w.handler.called_at(), flips, "{variant}: flips");
    assert_eq!(w.store.status("ws-1"), Status::Online, "{variant}");
}
