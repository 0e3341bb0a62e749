//! Where the variants part ways beyond the PR's own cases: which control-plane
//! answers prove death (an empty or unknown state included), what happens
//! when `IsRunning`'s instance lookup fails, what `hardened`'s claim checks,
//! and a failing claim.

mod common;

use std::time::Duration;

use common::*;
use reconciler_core::{Config, InstanceState, SkipReason, Status, Variant};

per_variant!(
    non_running_states,
    unrecognized_answer,
    not_found_answer,
    instance_lookup_error,
    runtime_turned_external_after_the_query,
    claim_error_fires_no_flip,
);

/// Ten minutes, in the store's milliseconds: how long before the test began
/// a row was last written when it must be quiet for `not_found_quiet`.
const TEN_MINUTES_AGO: i64 = -600_000;

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

/// The CP answers 2xx with a state that is empty or unknown (a body such as
/// `{}`). The merged `IsRunning` reads any 2xx state but `running` as "not
/// running, no error", so `legacy` and `pr2283` flip the row; `hardened`
/// takes only terminal states as proof and skips it.
async fn unrecognized_answer(variant: Variant) {
    let w = World::new(fleet(2));
    w.cp.state("i-01", InstanceState::Unrecognized);
    w.cp.state("i-02", InstanceState::Running);

    let report = w.pass(variant).await;

    let asked = vec!["i-01", "i-02"];
    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 => Expect {
            asked,
            flipped: vec!["ws-01"],
            skipped: vec![("ws-02", SkipReason::Running)],
        },
        Variant::Hardened => Expect {
            asked,
            flipped: vec![],
            skipped: vec![
                ("ws-01", SkipReason::NotTerminal),
                ("ws-02", SkipReason::Running),
            ],
        },
    };
    check(variant, &w, &report, &expect);
    assert_eq!(w.store.status("ws-01"), Status::Online, "{variant}");
    assert_eq!(w.store.count(Op::Claim), 0, "{variant}: no claim");
}

/// The CP does not know the instance (HTTP 404), and the row was last
/// written ten minutes ago. The merged `IsRunning` treats any non-2xx as an
/// error, so `legacy` and `pr2283` never flip such a row; `hardened` takes
/// it as proof of death for a row that quiet, and claims it with the quiet
/// guard set.
async fn not_found_answer(variant: Variant) {
    let w = World::new(vec![online("ws-1", "i-1", TEN_MINUTES_AGO)]);
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
    let claims: Vec<Option<Duration>> = w.store.claims().iter().map(|c| c.quiet_for).collect();
    let expected_claims = match variant {
        Variant::Legacy | Variant::Pr2283 => vec![],
        Variant::Hardened => vec![Some(Config::default().not_found_quiet)],
    };
    assert_eq!(
        claims, expected_claims,
        "{variant}: claims and their quiet guard"
    );
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
/// reference variants flip a row now outside the scope; `hardened`'s claim
/// includes the runtime clause.
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

/// `hardened`'s claim of `ws-01` fails: it does not call the offline
/// handler, and the pass goes on to the next row. `legacy` and `pr2283` make
/// no claim, so the failing statement never runs and they flip both rows,
/// writing nothing.
async fn claim_error_fires_no_flip(variant: Variant) {
    let w = World::new(fleet(2));
    w.cp.state("i-01", InstanceState::Terminated);
    w.cp.state("i-02", InstanceState::Terminated);
    w.store.fail_for(Op::Claim, "ws-01");

    let report = w.pass(variant).await;

    let asked = vec!["i-01", "i-02"];
    let expect = match variant {
        Variant::Legacy | Variant::Pr2283 => Expect {
            asked,
            flipped: vec!["ws-01", "ws-02"],
            skipped: vec![],
        },
        Variant::Hardened => Expect {
            asked,
            flipped: vec!["ws-02"],
            skipped: vec![("ws-01", SkipReason::FlipError(injected(Op::Claim)))],
        },
    };
    check(variant, &w, &report, &expect);
    assert_eq!(w.store.status("ws-01"), Status::Online, "{variant}");
}
