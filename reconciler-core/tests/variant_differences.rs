//! Where the variants part ways beyond the PR's own cases: which control-plane
//! answers prove death, what happens when `IsRunning`'s instance lookup
//! fails, what the flip's write checks, and a failing write.

mod common;

use common::*;
use reconciler_core::{InstanceState, SkipReason, Status, Variant};

per_variant!(
    non_running_states,
    not_found_answer,
    instance_lookup_error,
    runtime_turned_external_after_the_query,
    flip_write_error_fires_no_restart,
);

/// `pending`, `stopping` and `stopped` are states an instance comes back
/// from (a restart booting, a pause): `IsRunning` calls them "not running",
/// so `legacy` and `pr2283` flip them; `hardened` flips only terminal
/// states.
async fn non_running_states(variant: Variant) {
    let w = World::new(fleet(6));
    w.cp.state("i-01", InstanceState::Pending);
    w.cp.state("i-02", InstanceState::Running);
    w.cp.state("i-03", InstanceState::Stopping);
    w.cp.state("i-04", InstanceState::Stopped);
    w.cp.state("i-05", InstanceState::ShuttingDown);
    w.cp.state("i-06", InstanceState::Terminated);

    let report = w.pass(variant).await;

    let asked = vec!["i-01", "i-02", "i-03", "i-04", "i-05", "i-06"];
    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 => Expect {
            asked,
            flipped: vec!["ws-01", "ws-03", "ws-04", "ws-05", "ws-06"],
            skipped: vec![("ws-02", SkipReason::Running)],
        },
        Variant::Hardened => Expect {
            asked,
            flipped: vec!["ws-05", "ws-06"],
            skipped: vec![
                ("ws-01", SkipReason::NotTerminal),
                ("ws-02", SkipReason::Running),
                ("ws-03", SkipReason::NotTerminal),
                ("ws-04", SkipReason::NotTerminal),
            ],
        },
    };
    check(variant, &w, &report, &expect);
}

/// The CP does not know the instance (HTTP 404). The merged `IsRunning`
/// treats any non-2xx as an error, so `legacy` and `pr2283` never flip such a
/// row; `hardened` takes it as proof of death.
async fn not_found_answer(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::NotFound);

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 => Expect {
            asked: vec!["i-1"],
            flipped: vec![],
            skipped: vec![(
                "ws-1",
                SkipReason::ProbeError("control plane answered HTTP 404".into()),
            )],
        },
        Variant::Hardened => Expect {
            asked: vec!["i-1"],
            flipped: vec!["ws-1"],
            skipped: vec![],
        },
    };
    check(variant, &w, &report, &expect);
}

/// `IsRunning`'s instance lookup fails: `legacy` and `pr2283` skip without
/// asking the CP (`(true, err)`); `hardened` does no lookup — it asks about
/// the captured instance — so the failing statement does not affect it.
async fn instance_lookup_error(variant: Variant) {
    let w = World::new(fleet(2));
    w.cp.state("i-01", InstanceState::Terminated);
    w.cp.state("i-02", InstanceState::Terminated);
    w.store.fail_for(Op::Resolve, "ws-01");

    let report = w.pass(variant).await;

    let (expect, lookups) = match variant {
        Variant::Legacy | Variant::Pr2283 => (
            Expect {
                asked: vec!["i-02"],
                flipped: vec!["ws-02"],
                skipped: vec![("ws-01", SkipReason::ProbeError(injected(Op::Resolve)))],
            },
            2,
        ),
        Variant::Hardened => (
            Expect {
                asked: vec!["i-01", "i-02"],
                flipped: vec!["ws-01", "ws-02"],
                skipped: vec![],
            },
            0,
        ),
    };
    check(variant, &w, &report, &expect);
    assert_eq!(w.store.count(Op::Resolve), lookups, "{variant}");
}

/// The row's runtime becomes `external` right after the candidate query.
/// Neither `IsRunning` nor `pr2283`'s re-confirm reads the runtime, so both
/// reference variants flip a row now outside the scope; `hardened`'s guarded
/// write includes the runtime clause.
async fn runtime_turned_external_after_the_query(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", 1)]);
    w.cp.state("i-1", InstanceState::Terminated);
    w.store
        .after_candidates(vec![Change::SetRuntime("ws-1", Some("external"))]);

    let report = w.pass(variant).await;

    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 => Expect {
            asked: vec!["i-1"],
            flipped: vec!["ws-1"],
            skipped: vec![],
        },
        Variant::Hardened => Expect {
            asked: vec!["i-1"],
            flipped: vec![],
            skipped: vec![("ws-1", SkipReason::GuardRejected)],
        },
    };
    check(variant, &w, &report, &expect);
}

/// The flip's write fails: no variant fires the restart, and the pass goes on
/// to the next row.
async fn flip_write_error_fires_no_restart(variant: Variant) {
    let w = World::new(fleet(2));
    w.cp.state("i-01", InstanceState::Terminated);
    w.cp.state("i-02", InstanceState::Terminated);
    w.store.fail_for(Op::MarkOffline, "ws-01");
    w.store.fail_for(Op::FlipIfUnchanged, "ws-01");

    let report = w.pass(variant).await;

    let failed_write = match variant {
        Variant::Legacy | Variant::Pr2283 => Op::MarkOffline,
        Variant::Hardened => Op::FlipIfUnchanged,
    };
    let expect = Expect {
        asked: vec!["i-01", "i-02"],
        flipped: vec!["ws-02"],
        skipped: vec![("ws-01", SkipReason::FlipError(injected(failed_write)))],
    };
    check(variant, &w, &report, &expect);
    assert_eq!(w.store.status("ws-01"), Status::Online, "{variant}");
}
