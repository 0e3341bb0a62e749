//! The fifteen behaviours PR #2283's own suite covered, each run against all
//! three variants, with each variant's real outcome written out.
//!
//! Where the PR's suite answered a race with a canned re-confirm result, these
//! tests make the race a real change to the fake table, applied right after
//! the candidate query returns ([`FakeStore::after_candidates`]); each variant
//! then sees it through the statements it actually runs. That is why `legacy`
//! flips in all four TOCTOU cases: it re-resolves the instance by workspace id
//! and has no check before it calls the offline handler.
//!
//! The flip is the merged one: `legacy` and `pr2283` only call the offline
//! handler (with the workspace id alone) and write no status, so a row they
//! flip stays as it was; `hardened` claims the row (`offline`) first and
//! hands the handler the instance it claimed it on.

mod common;

use std::time::Duration;

use common::*;
use reconciler_core::{
    CandidateQuery, Config, CpError, InstanceState, LEGACY_STATUSES, LIVE_STATUSES, Order,
    PassReport, Reconciler, SkipReason, Status, Variant, WorkspaceId,
};
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

per_variant!(
    not_running_flips,
    running_does_not_flip,
    transient_cp_error_does_not_flip,
    scope_predicate,
    mixed_batch,
    toctou_instance_changed,
    toctou_instance_cleared,
    toctou_status_moved,
    toctou_row_gone,
    degraded_row_flips,
    reconfirm_db_error_does_not_flip,
    candidate_query_error_probes_nothing,
    nil_db_pass_does_nothing,
    nil_checker_disables_the_loop,
    one_pass_at_boot_and_exit_on_cancel,
);

/// PR behaviour 1: A workspace whose instance is terminated is flipped (the
/// offline handler is called), by each variant through its own statements:
/// `legacy` and `pr2283` run no write and leave the row `online`; `hardened`
/// claims it, so it is `offline`.
async fn not_running_flips(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);

    let report = w.pass(variant).await;

    check(
        variant,
        &w,
        &report,
        &Expect {
            asked: vec!["i-1"],
            flipped: vec!["ws-1"],
            skipped: vec![],
        },
    );
    let statements = match variant {
        Variant::Legacy => vec![query(), on(Op::Resolve, "ws-1")],
        Variant::Pr2283 => vec![query(), on(Op::Resolve, "ws-1"), on(Op::Reconfirm, "ws-1")],
        Variant::Hardened => vec![query(), on(Op::Claim, "ws-1")],
    };
    assert_eq!(w.store.ops(), statements, "{variant}: statements run");
    let (status, proven) = match variant {
        Variant::Legacy | Variant::Pr2283 => (Status::Online, None),
        Variant::Hardened => (Status::Offline, Some("i-1".to_owned())),
    };
    assert_eq!(w.store.status("ws-1"), status, "{variant}: status after");
    assert_eq!(
        w.handler.calls(),
        [("ws-1".to_owned(), proven)],
        "{variant}: the handler's call"
    );
    assert_eq!((report.candidates, report.processed), (1, 1), "{variant}");
    assert!(!report.deadline_hit && !report.query_failed, "{variant}");
}

/// PR behaviour 2: A running instance is left alone.
async fn running_does_not_flip(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Running);

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => Expect {
            asked: vec!["i-1"],
            flipped: vec![],
            skipped: vec![("ws-1", SkipReason::Running)],
        },
    };
    check(variant, &w, &report, &expect);
    let statements = match variant {
        Variant::Legacy | Variant::Pr2283 => vec![query(), on(Op::Resolve, "ws-1")],
        Variant::Hardened => vec![query()],
    };
    assert_eq!(w.store.ops(), statements, "{variant}: no write issued");
    assert_eq!(w.store.status("ws-1"), Status::Online, "{variant}");
}

/// PR behaviour 3: A transport error, a non-2xx and an undecodable answer each
/// leave the row alone (fail-safe), and do not stop the batch.
async fn transient_cp_error_does_not_flip(variant: Variant) {
    let w = World::new(fleet(3));
    w.cp.error("i-01", CpError::Transport("connection reset".into()));
    w.cp.error("i-02", CpError::Status(503));
    w.cp.error("i-03", CpError::Decode("expected value at line 1".into()));

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => Expect {
            asked: vec!["i-01", "i-02", "i-03"],
            flipped: vec![],
            skipped: vec![
                (
                    "ws-01",
                    SkipReason::ProbeError(
                        "control plane transport error: connection reset".into(),
                    ),
                ),
                (
                    "ws-02",
                    SkipReason::ProbeError("control plane answered HTTP 503".into()),
                ),
                (
                    "ws-03",
                    SkipReason::ProbeError(
                        "control plane answer did not decode: expected value at line 1".into(),
                    ),
                ),
            ],
        },
    };
    check(variant, &w, &report, &expect);
    assert_eq!(w.store.count(Op::Claim), 0, "{variant}: no claim");
}

/// PR behaviour 4: The scope predicate, over a row of every kind. Every
/// instance is terminated, so anything probed would be flipped: what is asked
/// and flipped is exactly what is in scope. Only `hardened` writes a status
/// (its claims); the reference variants leave even the rows they flip as
/// they were.
async fn scope_predicate(variant: Variant) {
    let w = World::new(vec![
        Row::new("ws-a", Status::Online, Some("i-a"), 8), // runtime NULL: in
        Row::new("ws-b", Status::Offline, Some("i-b"), 7),
        Row::new("ws-c", Status::Provisioning, Some("i-c"), 6),
        Row::new("ws-d", Status::Online, None, 5), // instance NULL
        Row::new("ws-e", Status::Online, Some(""), 4), // instance ''
        Row::new("ws-f", Status::Online, Some("i-f"), 3).runtime(Some("external")),
        Row::new("ws-g", Status::Degraded, Some("i-g"), 2),
        Row::new("ws-h", Status::Online, Some("i-h"), 1).runtime(Some("ec2")),
        Row::new("ws-i", Status::Paused, Some("i-i"), 9),
        Row::new("ws-j", Status::Online, Some("i-j"), 0).runtime(Some("")), // COALESCE'd: in
        Row::new("ws-k", Status::Removed, Some("i-k"), 10),
        Row::new("ws-l", Status::Hibernating, Some("i-l"), 11),
        Row::new("ws-m", Status::Hibernated, Some("i-m"), 12),
        Row::new("ws-n", Status::Other("deleting".into()), Some("i-n"), 13),
    ]);
    for i in [
        "i-a", "i-b", "i-c", "i-f", "i-g", "i-h", "i-i", "i-j", "i-k", "i-l", "i-m", "i-n",
    ] {
        w.cp.state(i, InstanceState::Terminated);
    }

    let report = w.pass(variant).await;

    let (expect, asked_for) = match variant {
        // `status = 'online'` only: the degraded ws-g is not selected.
        Variant::Legacy => (
            Expect {
                asked: vec!["i-a", "i-h", "i-j"],
                flipped: vec!["ws-a", "ws-h", "ws-j"],
                skipped: vec![],
            },
            CandidateQuery {
                statuses: LEGACY_STATUSES,
                capture_instance: false,
                order: Order::UpdatedAtDesc,
                limit: 200,
            },
        ),
        Variant::Pr2283 => (
            Expect {
                asked: vec!["i-a", "i-g", "i-h", "i-j"],
                flipped: vec!["ws-a", "ws-g", "ws-h", "ws-j"],
                skipped: vec![],
            },
            CandidateQuery {
                statuses: LIVE_STATUSES,
                capture_instance: true,
                order: Order::UpdatedAtDesc,
                limit: 200,
            },
        ),
        Variant::Hardened => (
            Expect {
                asked: vec!["i-a", "i-g", "i-h", "i-j"],
                flipped: vec!["ws-a", "ws-g", "ws-h", "ws-j"],
                skipped: vec![],
            },
            CandidateQuery {
                statuses: LIVE_STATUSES,
                capture_instance: true,
                order: Order::IdAfter(None),
                limit: 200,
            },
        ),
    };
    check(variant, &w, &report, &expect);
    assert_eq!(w.store.queries(), [asked_for], "{variant}: the query asked");
    assert_eq!(report.candidates, expect.flipped.len(), "{variant}");
    // Out-of-scope rows are untouched.
    assert_eq!(w.store.status("ws-c"), Status::Provisioning, "{variant}");
    assert_eq!(w.store.status("ws-d"), Status::Online, "{variant}");
    assert_eq!(w.store.status("ws-e"), Status::Online, "{variant}");
    assert_eq!(w.store.status("ws-f"), Status::Online, "{variant}");
    assert_eq!(w.store.status("ws-i"), Status::Paused, "{variant}");
    assert_eq!(w.store.status("ws-k"), Status::Removed, "{variant}");
    assert_eq!(w.store.status("ws-l"), Status::Hibernating, "{variant}");
    assert_eq!(w.store.status("ws-m"), Status::Hibernated, "{variant}");
    // The flipped rows: written offline only by hardened's claims.
    let (ws_a, ws_g) = match variant {
        Variant::Legacy | Variant::Pr2283 => (Status::Online, Status::Degraded),
        Variant::Hardened => (Status::Offline, Status::Offline),
    };
    assert_eq!(w.store.status("ws-a"), ws_a, "{variant}");
    assert_eq!(w.store.status("ws-g"), ws_g, "{variant}");
}

/// PR behaviour 5: A mixed batch: dead, running and erroring rows in one pass;
/// each is decided on its own and an error does not end the pass.
async fn mixed_batch(variant: Variant) {
    let w = World::new(fleet(5));
    w.cp.state("i-01", InstanceState::Terminated);
    w.cp.state("i-02", InstanceState::Running);
    w.cp.error("i-03", CpError::Status(503));
    w.cp.state("i-04", InstanceState::ShuttingDown);
    w.cp.state("i-05", InstanceState::Running);

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => Expect {
            asked: vec!["i-01", "i-02", "i-03", "i-04", "i-05"],
            flipped: vec!["ws-01", "ws-04"],
            skipped: vec![
                ("ws-02", SkipReason::Running),
                (
                    "ws-03",
                    SkipReason::ProbeError("control plane answered HTTP 503".into()),
                ),
                ("ws-05", SkipReason::Running),
            ],
        },
    };
    check(variant, &w, &report, &expect);
    assert_eq!((report.candidates, report.processed), (5, 5), "{variant}");
}

/// PR behaviour 6: TOCTOU, instance changed: a reprovision replaces `i-old`
/// with `i-new` right after the candidate query. `i-old` is terminated; `i-new`
/// is still booting (`pending`), which `IsRunning` answers as "not running" —
/// so `legacy`, which re-resolves to `i-new`, flips a workspace whose new
/// instance is coming up (its restart would stop `i-new`). `pr2283` also asks
/// about `i-new` (the same re-resolve) but its re-confirm sees the changed
/// id; `hardened` asks about the captured `i-old`, and its claim no longer
/// matches.
async fn toctou_instance_changed(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-old", 1)]);
    w.cp.state("i-old", InstanceState::Terminated);
    w.cp.state("i-new", InstanceState::Pending);
    w.store
        .after_candidates(vec![Change::SetInstance("ws-1", Some("i-new"))]);

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy => Expect {
            asked: vec!["i-new"],
            flipped: vec!["ws-1"],
            skipped: vec![],
        },
        Variant::Pr2283 => Expect {
            asked: vec!["i-new"],
            flipped: vec![],
            skipped: vec![("ws-1", SkipReason::InstanceChanged("i-new".into()))],
        },
        Variant::Hardened => Expect {
            asked: vec!["i-old"],
            flipped: vec![],
            skipped: vec![("ws-1", SkipReason::GuardRejected)],
        },
    };
    check(variant, &w, &report, &expect);
    let row = w.store.row("ws-1").expect("row kept");
    assert_eq!(row.instance.as_deref(), Some("i-new"), "{variant}");
}

/// PR behaviour 7: TOCTOU, instance cleared: the orphan sweeper sets
/// `instance_id` to NULL (or `''`) right after the candidate query. `IsRunning`
/// then answers "not running" without asking the CP, so `legacy` flips;
/// `pr2283`'s re-confirm sees the cleared id; `hardened` asks about the
/// captured instance and its claim does not match.
async fn toctou_instance_cleared(variant: Variant) {
    for cleared in [None, Some("")] {
        let w = World::new(vec![online("ws-1", "i-1", 1)]);
        w.cp.state("i-1", InstanceState::Terminated);
        w.store
            .after_candidates(vec![Change::SetInstance("ws-1", cleared)]);

        let report = w.pass(variant).await;

        let expect = match variant {
            Variant::Legacy => Expect {
                asked: vec![],
                flipped: vec!["ws-1"],
                skipped: vec![],
            },
            Variant::Pr2283 => Expect {
                asked: vec![],
                flipped: vec![],
                skipped: vec![("ws-1", SkipReason::InstanceCleared)],
            },
            Variant::Hardened => Expect {
                asked: vec!["i-1"],
                flipped: vec![],
                skipped: vec![("ws-1", SkipReason::GuardRejected)],
            },
        };
        check(variant, &w, &report, &expect);
        assert_eq!(
            w.store.row("ws-1").expect("row kept").instance.as_deref(),
            cleared,
            "{variant}"
        );
    }
}

/// PR behaviour 8: TOCTOU, status moved: a restart moves the row to
/// `provisioning` right after the candidate query (its instance not yet
/// replaced). `legacy` flips it anyway — a second restart racing the one in
/// flight — though it writes nothing, so the row stays `provisioning`;
/// `pr2283`'s re-confirm sees the status; `hardened`'s claim does not match.
async fn toctou_status_moved(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);
    w.store
        .after_candidates(vec![Change::SetStatus("ws-1", Status::Provisioning)]);

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy => Expect {
            asked: vec!["i-1"],
            flipped: vec!["ws-1"],
            skipped: vec![],
        },
        Variant::Pr2283 => Expect {
            asked: vec!["i-1"],
            flipped: vec![],
            skipped: vec![("ws-1", SkipReason::StatusMoved("provisioning".into()))],
        },
        Variant::Hardened => Expect {
            asked: vec!["i-1"],
            flipped: vec![],
            skipped: vec![("ws-1", SkipReason::GuardRejected)],
        },
    };
    check(variant, &w, &report, &expect);
    let status_after = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => Status::Provisioning,
    };
    assert_eq!(w.store.status("ws-1"), status_after, "{variant}");
}

/// PR behaviour 9: TOCTOU, row gone: a concurrent delete right after the
/// candidate query. `IsRunning` finds no instance and answers "not running"
/// without asking, so `legacy` calls the offline handler for a deleted
/// workspace without a single statement after the lookup; `pr2283`'s
/// re-confirm sees the row gone; `hardened`'s claim matches no row.
async fn toctou_row_gone(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);
    w.store.after_candidates(vec![Change::Delete("ws-1")]);

    let report = w.pass(variant).await;

    let (expect, statements) = match variant {
        Variant::Legacy => (
            Expect {
                asked: vec![],
                flipped: vec!["ws-1"],
                skipped: vec![],
            },
            vec![query(), on(Op::Resolve, "ws-1")],
        ),
        Variant::Pr2283 => (
            Expect {
                asked: vec![],
                flipped: vec![],
                skipped: vec![("ws-1", SkipReason::RowGone)],
            },
            vec![query(), on(Op::Resolve, "ws-1"), on(Op::Reconfirm, "ws-1")],
        ),
        Variant::Hardened => (
            Expect {
                asked: vec!["i-1"],
                flipped: vec![],
                skipped: vec![("ws-1", SkipReason::GuardRejected)],
            },
            vec![query(), on(Op::Claim, "ws-1")],
        ),
    };
    check(variant, &w, &report, &expect);
    assert_eq!(w.store.ops(), statements, "{variant}: statements run");
    assert!(w.store.row("ws-1").is_none(), "{variant}");
}

/// PR behaviour 10: A degraded row with a dead instance is flipped — except by
/// `legacy`, whose query never selected degraded rows.
async fn degraded_row_flips(variant: Variant) {
    let w = World::new(vec![Row::new("ws-1", Status::Degraded, Some("i-1"), 1)]);
    w.cp.state("i-1", InstanceState::Terminated);

    let report = w.pass(variant).await;

    let (expect, candidates) = match variant {
        Variant::Legacy => (
            Expect {
                asked: vec![],
                flipped: vec![],
                skipped: vec![],
            },
            0,
        ),
        Variant::Pr2283 | Variant::Hardened => (
            Expect {
                asked: vec!["i-1"],
                flipped: vec!["ws-1"],
                skipped: vec![],
            },
            1,
        ),
    };
    check(variant, &w, &report, &expect);
    assert_eq!(report.candidates, candidates, "{variant}");
}

/// PR behaviour 11: The check before the flip errors. `pr2283`'s re-confirm
/// read fails, so it does not flip. `legacy` has no re-confirm, so it flips
/// regardless. `hardened` has no separate re-confirm; its analogue, the
/// claim, fails (both statements are made to fail for every variant), and
/// the offline handler is not called.
async fn reconfirm_db_error_does_not_flip(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);
    w.store.fail(Op::Reconfirm);
    w.store.fail(Op::Claim);

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy => Expect {
            asked: vec!["i-1"],
            flipped: vec!["ws-1"],
            skipped: vec![],
        },
        Variant::Pr2283 => Expect {
            asked: vec!["i-1"],
            flipped: vec![],
            skipped: vec![("ws-1", SkipReason::ReconfirmError(injected(Op::Reconfirm)))],
        },
        Variant::Hardened => Expect {
            asked: vec!["i-1"],
            flipped: vec![],
            skipped: vec![("ws-1", SkipReason::FlipError(injected(Op::Claim)))],
        },
    };
    check(variant, &w, &report, &expect);
    let (reconfirms, claims) = match variant {
        Variant::Legacy => (0, 0),
        Variant::Pr2283 => (1, 0),
        Variant::Hardened => (0, 1),
    };
    assert_eq!(w.store.count(Op::Reconfirm), reconfirms, "{variant}");
    assert_eq!(
        w.store.count(Op::Claim),
        claims,
        "{variant}: claims attempted"
    );
    assert_eq!(w.store.status("ws-1"), Status::Online, "{variant}");
}

/// PR behaviour 12: The candidate query fails: the pass ends with nothing
/// probed, nothing flipped, and no other statement run.
async fn candidate_query_error_probes_nothing(variant: Variant) {
    let w = World::new(fleet(3));
    for i in ["i-01", "i-02", "i-03"] {
        w.cp.state(i, InstanceState::Terminated);
    }
    w.store.fail(Op::Candidates);

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => Expect::default(),
    };
    check(variant, &w, &report, &expect);
    assert!(report.query_failed, "{variant}");
    assert_eq!((report.candidates, report.processed), (0, 0), "{variant}");
    assert_eq!(w.store.ops(), [query()], "{variant}: only the failed query");
}

/// PR behaviour 13: "Nil DB": without a store a pass does nothing; the loop
/// still runs (one no-op pass per interval).
async fn nil_db_pass_does_nothing(variant: Variant) {
    let cp = FakeCp::default();
    cp.state("i-1", InstanceState::Terminated);
    let handler = FakeHandler::default();
    let mut rec: Rec = Reconciler::new(
        variant,
        Config::default(),
        None,
        Some(cp.clone()),
        handler.clone(),
    )
    .expect("valid config");

    assert_eq!(rec.pass().await, PassReport::default(), "{variant}");

    let cancel = CancellationToken::new();
    let mut passes = Passes::default();
    tokio::join!(rec.run(&cancel, &mut passes), async {
        sleep(secs(130)).await;
        cancel.cancel();
    });
    let expected_starts = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => vec![0, 60, 120],
    };
    assert_eq!(passes.start_secs(), expected_starts, "{variant}");
    assert!(
        passes
            .finished
            .iter()
            .all(|(_, _, r)| *r == PassReport::default()),
        "{variant}: every pass is a no-op"
    );
    assert!(cp.asked().is_empty(), "{variant}");
    assert!(handler.called().is_empty(), "{variant}");
}

/// PR behaviour 14: "Nil checker": without a control plane `run` returns at
/// once, before any pass, and touches nothing; `pass` on its own does nothing
/// either.
async fn nil_checker_disables_the_loop(variant: Variant) {
    let w = World::new(fleet(2));
    let mut rec: Rec = Reconciler::new(
        variant,
        Config::default(),
        Some(w.store.clone()),
        None,
        w.handler.clone(),
    )
    .expect("valid config");
    let cancel = CancellationToken::new(); // never cancelled
    let mut passes = Passes::default();
    let start = Instant::now();

    tokio::time::timeout(secs(3600), rec.run(&cancel, &mut passes))
        .await
        .expect("run returns by itself without a control plane");

    let expected = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => Duration::ZERO,
    };
    assert_eq!(start.elapsed(), expected, "{variant}: returned at once");
    assert!(passes.started.is_empty(), "{variant}: no pass started");
    assert_eq!(rec.pass().await, PassReport::default(), "{variant}");
    assert!(w.store.calls().is_empty(), "{variant}: store untouched");
    assert!(w.handler.called().is_empty(), "{variant}");
}

/// PR behaviour 15: One pass at boot (without waiting an interval), then the
/// loop returns as soon as it is cancelled.
async fn one_pass_at_boot_and_exit_on_cancel(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Running);
    let mut rec = w.reconciler(variant);
    let cancel = CancellationToken::new();
    let mut passes = Passes::default();
    let start = Instant::now();

    let (returned_at, ()) = tokio::join!(
        async {
            rec.run(&cancel, &mut passes).await;
            start.elapsed()
        },
        async {
            sleep(secs(30)).await;
            cancel.cancel();
        }
    );

    let boot_report = match variant {
        Variant::Legacy | Variant::Pr2283 | Variant::Hardened => PassReport {
            candidates: 1,
            processed: 1,
            skipped: vec![(WorkspaceId::from("ws-1"), SkipReason::Running)],
            ..PassReport::default()
        },
    };
    assert_eq!(passes.start_secs(), [0], "{variant}: one pass, at boot");
    assert_eq!(
        passes.finished,
        [(0, Duration::ZERO, boot_report)],
        "{variant}"
    );
    assert_eq!(returned_at, secs(30), "{variant}: returned on cancel");
    assert_eq!(w.cp.asked(), ["i-1"], "{variant}");
}
