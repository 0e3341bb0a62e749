//! The harness finds, on its own and with default settings, the bugs the
//! reference variants are known to have — and nothing in `hardened`.
//!
//! Each search has a bounded seed budget; the seeds-to-first-find are
//! printed (`cargo test -- --nocapture`) so that a drop in power shows.

use reconciler_core::Variant;
use sim::explore::{Find, Finding, Plan, Progress, Shard, explore};
use sim::oracle::Kind;

struct Quiet;

impl Progress for Quiet {
    fn seed_done(&mut self, _done: u64, _seed: u64) -> bool {
        true
    }
}

fn hunt(variant: Variant, find: &str, budget: u64) -> (u64, Option<Finding>) {
    let plan = Plan {
        variant,
        start_seed: 0,
        seeds: Some(budget),
        shard: Shard::ALL,
        passes: None,
        find: find.parse().expect("a known kind"),
    };
    let (summary, finding) = explore(&plan, &mut Quiet);
    (summary.seeds, finding)
}

fn must_find(variant: Variant, find: &str, budget: u64) -> Finding {
    let (seeds, finding) = hunt(variant, find, budget);
    let finding = finding.unwrap_or_else(|| {
        panic!("{variant}: no {find} in {budget} seeds — the harness lost its teeth")
    });
    println!(
        "{variant}: {find} after {seeds} seeds (seed {}): {}",
        finding.seed, finding.violation
    );
    finding
}

#[test]
fn legacy_flips_after_the_instance_is_cleared_under_it() {
    // HIGH-1: the row changes between the candidate query and IsRunning's
    // re-resolve, which then answers "not running" without asking the CP.
    let f = must_find(Variant::Legacy, "unproven_flip/instance_cleared", 2_000);
    assert_eq!(f.violation.kind, Kind::UnprovenFlip);
}

#[test]
fn legacy_flips_a_row_deleted_under_it() {
    must_find(Variant::Legacy, "unproven_flip/row_gone", 2_000);
}

#[test]
fn legacy_never_reconciles_a_dead_degraded_row() {
    // MED-3.
    let f = must_find(Variant::Legacy, "missed_dead/degraded_row", 2_000);
    assert_eq!(f.violation.kind, Kind::MissedDead);
}

#[test]
fn legacy_overruns_its_cycle_under_a_slow_control_plane() {
    // MED-2.
    must_find(Variant::Legacy, "cycle_overrun", 2_000);
}

#[test]
fn pr2283_flips_a_row_that_changed_after_its_reconfirm() {
    let f = must_find(
        Variant::Pr2283,
        "unproven_flip/changed_after_reconfirm",
        5_000,
    );
    assert!(
        f.violation.detail.contains("re-confirm"),
        "{}",
        f.violation.detail
    );
}

#[test]
fn pr2283_flips_a_stopped_instance() {
    must_find(Variant::Pr2283, "unproven_flip/non_terminal_answer", 2_000);
}

#[test]
fn pr2283_never_flips_a_workspace_whose_instance_is_gone() {
    // IsRunning treats the control plane's 404 as an error: a reaped
    // instance keeps its workspace online forever.
    must_find(Variant::Pr2283, "missed_dead", 2_000);
}

fn hardened_clean(start_seed: u64, seeds: u64) {
    let plan = Plan {
        variant: Variant::Hardened,
        start_seed,
        seeds: Some(seeds),
        shard: Shard::ALL,
        passes: None,
        find: Find::default(),
    };
    let (summary, finding) = explore(&plan, &mut Quiet);
    if let Some(f) = finding {
        panic!(
            "hardened: {} with seed {}\nreplay: {}\n{}",
            f.violation,
            f.seed,
            sim::explore::replay_command(f.seed, Variant::Hardened, None),
            f.tail
        );
    }
    assert_eq!(summary.seeds, seeds);
}

// 100,000 seeds in four parts, so a parallel test runner spreads them.
#[test]
fn hardened_is_clean_seeds_0_to_25k() {
    hardened_clean(0, 25_000);
}

#[test]
fn hardened_is_clean_seeds_25k_to_50k() {
    hardened_clean(25_000, 25_000);
}

#[test]
fn hardened_is_clean_seeds_50k_to_75k() {
    hardened_clean(50_000, 25_000);
}

#[test]
fn hardened_is_clean_seeds_75k_to_100k() {
    hardened_clean(75_000, 25_000);
}
