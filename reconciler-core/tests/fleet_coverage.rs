//! Which rows a pass reaches, and in what order, over successive passes: the
//! candidate order, `LIMIT`, `hardened`'s keyset cursor, and what a slow
//! control plane does to coverage of the fleet (`pr2283` re-reads the head of
//! `ORDER BY updated_at DESC` every pass and starves the tail; `hardened`
//! resumes where the deadline stopped it).

mod common;

use common::*;
use reconciler_core::{Config, InstanceState, Order, SkipReason, Variant, WorkspaceId};
use tokio::time::Instant;

per_variant!(
    candidate_order,
    limit_and_paging,
    keyset_wraps_after_an_exact_last_page,
    slow_cp_coverage_over_passes,
    deadline_shorter_than_one_probe_still_progresses,
);

/// Legacy and pr2283 probe in `updated_at DESC` order (ties by id);
/// hardened in id order.
async fn candidate_order(variant: Variant) {
    let w = World::new(vec![
        online("ws-a", "i-a", 1),
        online("ws-b", "i-b", 3),
        online("ws-c", "i-c", 2),
        online("ws-d", "i-d", 3),
    ]);
    for i in ["i-a", "i-b", "i-c", "i-d"] {
        w.cp.state(i, InstanceState::Running);
    }

    w.pass(variant).await;

    let asked = match variant {
        Variant::Legacy | Variant::Pr2283 => vec!["i-b", "i-d", "i-c", "i-a"],
        Variant::Hardened => vec!["i-a", "i-b", "i-c", "i-d"],
    };
    assert_eq!(w.cp.asked(), asked, "{variant}");
}

/// With `LIMIT 2` over five rows, the reference variants read the same two
/// rows every pass; hardened pages through the fleet and starts over after a
/// short page.
async fn limit_and_paging(variant: Variant) {
    let w = World::new(fleet(5));
    for k in 1..=5 {
        w.cp.state(&format!("i-{k:02}"), InstanceState::Running);
    }
    let mut rec = w.reconciler_with(
        variant,
        Config {
            limit: 2,
            ..Config::default()
        },
    );

    let mut per_pass = Vec::new();
    for _ in 0..4 {
        w.cp.clear_asked();
        let report = rec.pass().await;
        assert_eq!(report.candidates, w.cp.asked().len(), "{variant}");
        per_pass.push(w.cp.asked());
    }

    let expected: Vec<Vec<&str>> = match variant {
        Variant::Legacy | Variant::Pr2283 => vec![vec!["i-01", "i-02"]; 4],
        Variant::Hardened => vec![
            vec!["i-01", "i-02"],
            vec!["i-03", "i-04"],
            vec!["i-05"],
            vec!["i-01", "i-02"],
        ],
    };
    assert_eq!(per_pass, expected, "{variant}: instances asked, per pass");
    let orders: Vec<Order> = w.store.queries().into_iter().map(|q| q.order).collect();
    let expected_orders = match variant {
        Variant::Legacy | Variant::Pr2283 => vec![Order::UpdatedAtDesc; 4],
        Variant::Hardened => vec![
            Order::IdAfter(None),
            Order::IdAfter(Some("ws-02".into())),
            Order::IdAfter(Some("ws-04".into())),
            Order::IdAfter(None),
        ],
    };
    assert_eq!(orders, expected_orders, "{variant}: queries asked");
}

/// Four rows, `LIMIT 2`: hardened's second page is full and ends the fleet,
/// so its third pass reads an empty page after the cursor and wraps to the
/// start within the same pass.
async fn keyset_wraps_after_an_exact_last_page(variant: Variant) {
    let w = World::new(fleet(4));
    for k in 1..=4 {
        w.cp.state(&format!("i-{k:02}"), InstanceState::Running);
    }
    let mut rec = w.reconciler_with(
        variant,
        Config {
            limit: 2,
            ..Config::default()
        },
    );
    for _ in 0..2 {
        rec.pass().await;
    }
    w.cp.clear_asked();
    let queries_before = w.store.queries().len();

    let report = rec.pass().await;

    let third_pass_orders: Vec<Order> = w.store.queries()[queries_before..]
        .iter()
        .map(|q| q.order.clone())
        .collect();
    let (asked, orders) = match variant {
        Variant::Legacy | Variant::Pr2283 => (vec!["i-01", "i-02"], vec![Order::UpdatedAtDesc]),
        Variant::Hardened => (
            vec!["i-01", "i-02"],
            vec![Order::IdAfter(Some("ws-04".into())), Order::IdAfter(None)],
        ),
    };
    assert_eq!(w.cp.asked(), asked, "{variant}");
    assert_eq!(third_pass_orders, orders, "{variant}");
    assert_eq!(report.candidates, 2, "{variant}");
}

/// Twenty rows, a control plane that takes 8 s per answer, the reference
/// 45 s pass deadline: a pass gets five clean answers, and the sixth probe is
/// cut short by the deadline. `ws-06` and `ws-20` are dead, the rest run.
///
/// * `legacy` has no deadline: every pass reaches every row (in 160 s), and,
///   writing no status, flips both dead rows again in every pass.
/// * `pr2283` re-reads the head of `updated_at DESC` every pass: it asks
///   about `i-01`…`i-06` forever, the sixth always cut short, and never
///   reaches `i-07`…`i-20`. Both dead rows stay online: starvation.
/// * `hardened` resumes after the last row it finished, retrying the row the
///   deadline cut short: within four passes every row has had a clean answer
///   and both dead rows are flipped.
async fn slow_cp_coverage_over_passes(variant: Variant) {
    let w = World::new(fleet(20));
    for k in 1..=20 {
        w.cp.state(&format!("i-{k:02}"), InstanceState::Running);
    }
    w.cp.state("i-06", InstanceState::Terminated);
    w.cp.state("i-20", InstanceState::Terminated);
    w.cp.latency(secs(8));
    let mut rec = w.reconciler(variant);

    let mut asked = Vec::new();
    let mut flipped = Vec::new();
    let mut durations = Vec::new();
    let mut answered_cleanly = std::collections::BTreeSet::new();
    for _ in 0..4 {
        w.cp.clear_asked();
        let start = Instant::now();
        let report = rec.pass().await;
        durations.push(start.elapsed().as_secs());
        asked.push(w.cp.asked());
        flipped.push(strs(&report.flipped));
        answered_cleanly.extend(report.flipped.iter().map(|w| w.0.clone()));
        answered_cleanly.extend(
            report
                .skipped
                .iter()
                .filter(|(_, r)| *r == SkipReason::Running)
                .map(|(w, _)| w.0.clone()),
        );
    }

    let range =
        |a: usize, b: usize| -> Vec<String> { (a..=b).map(|k| format!("i-{k:02}")).collect() };
    let none: Vec<String> = vec![];
    match variant {
        Variant::Legacy => {
            assert_eq!(
                asked,
                [range(1, 20), range(1, 20), range(1, 20), range(1, 20)],
                "legacy: every row, every pass"
            );
            assert_eq!(flipped, vec![vec!["ws-06", "ws-20"]; 4]);
            assert_eq!(durations, [160, 160, 160, 160]);
        }
        Variant::Pr2283 => {
            assert_eq!(
                asked,
                [range(1, 6), range(1, 6), range(1, 6), range(1, 6)],
                "pr2283: the head of the order, every pass"
            );
            assert_eq!(flipped, [none.clone(), none.clone(), none.clone(), none]);
            assert_eq!(durations, [45, 45, 45, 45]);
            assert_eq!(w.store.status("ws-06"), reconciler_core::Status::Online);
            assert_eq!(w.store.status("ws-20"), reconciler_core::Status::Online);
            assert!(
                !asked.iter().flatten().any(|i| i == "i-20"),
                "pr2283 never reaches the tail"
            );
            assert_eq!(
                answered_cleanly.into_iter().collect::<Vec<_>>(),
                ["ws-01", "ws-02", "ws-03", "ws-04", "ws-05"],
                "pr2283: only the head ever gets a clean answer"
            );
        }
        Variant::Hardened => {
            assert_eq!(
                asked,
                [range(1, 6), range(6, 11), range(11, 16), range(16, 20)],
                "hardened: resumes at the row the deadline cut short"
            );
            assert_eq!(flipped, [vec![], vec!["ws-06"], vec![], vec!["ws-20"]]);
            assert_eq!(durations, [45, 45, 45, 40]);
            assert_eq!(
                w.store.offline_ids(),
                ["ws-06", "ws-20"],
                "hardened: claimed"
            );
            assert_eq!(
                answered_cleanly.into_iter().collect::<Vec<_>>(),
                (1..=20).map(|k| format!("ws-{k:02}")).collect::<Vec<_>>(),
                "hardened: every row answered cleanly"
            );
        }
    }
}

/// A pass deadline (5 s) shorter than one answer (8 s, under the 10 s probe
/// cap): every call a deadline-bound pass makes is cut short. `legacy`
/// ignores the deadline and answers all three rows every pass; `pr2283`
/// asks about the head every pass; `hardened` still moves on by one row per
/// pass (the first row of a pass is never retried), so it does not stick on
/// one row.
async fn deadline_shorter_than_one_probe_still_progresses(variant: Variant) {
    let w = World::new(fleet(3));
    for k in 1..=3 {
        w.cp.state(&format!("i-{k:02}"), InstanceState::Running);
    }
    w.cp.latency(secs(8));
    let mut rec = w.reconciler_with(
        variant,
        Config {
            pass_deadline: secs(5),
            ..Config::default()
        },
    );

    let mut per_pass = Vec::new();
    for _ in 0..4 {
        w.cp.clear_asked();
        rec.pass().await;
        per_pass.push(w.cp.asked());
    }

    let expected: Vec<Vec<&str>> = match variant {
        Variant::Legacy => vec![vec!["i-01", "i-02", "i-03"]; 4],
        Variant::Pr2283 => vec![vec!["i-01"]; 4],
        Variant::Hardened => vec![vec!["i-01"], vec!["i-02"], vec!["i-03"], vec!["i-01"]],
    };
    assert_eq!(per_pass, expected, "{variant}");
}

/// The boundary of `hardened`'s retry rule: the deadline cuts short the
/// *second* row of a pass (the first answered in 1 s, the second needs 8 s
/// against a 5 s deadline). A row the deadline cut is undecided, and only
/// the first row of a pass is exempt from retrying it, so the next pass
/// resumes *at* `ws-02` (and, being its first row, moves past it even though
/// it is cut again); the pass after that reaches the rest of the fleet.
#[tokio::test(start_paused = true)]
async fn hardened_retries_a_second_row_the_deadline_cut() {
    let w = World::new(fleet(4));
    for k in 1..=4 {
        w.cp.state(&format!("i-{k:02}"), InstanceState::Running);
    }
    w.cp.latency(secs(1));
    w.cp.latency_for("i-02", secs(8));
    let mut rec = w.reconciler_with(
        Variant::Hardened,
        Config {
            pass_deadline: secs(5),
            ..Config::default()
        },
    );

    let mut per_pass = Vec::new();
    let mut reports = Vec::new();
    for _ in 0..3 {
        w.cp.clear_asked();
        reports.push(rec.pass().await);
        per_pass.push(w.cp.asked());
    }

    assert_eq!(
        per_pass,
        vec![vec!["i-01", "i-02"], vec!["i-02"], vec!["i-03", "i-04"]],
        "the row cut short as the second of a pass is retried first next pass"
    );
    assert!(reports[0].deadline_hit && reports[1].deadline_hit);
    assert_eq!(reports[0].processed, 2);
    assert_eq!(
        reports[0].skipped.last(),
        Some(&(WorkspaceId::from("ws-02"), SkipReason::ProbeTimeout))
    );
    assert!(
        !reports[2].deadline_hit,
        "the last two rows fit in one pass"
    );
}
