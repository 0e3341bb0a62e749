//! The harness finds, on its own and with default settings, the bugs the
//! reference variants are known to have — the race flips, and what they
//! cost on the platform as merged — and nothing in `hardened` on the
//! platform with the fix it needs.
//!
//! Each search has a bounded seed budget; the seeds-to-first-find are
//! printed (`cargo test -- --nocapture`) so that a drop in power shows.

use reconciler_core::Variant;
use sim::director::Overrides;
use sim::explore::{Find, Finding, Plan, Progress, Shard, explore};
use sim::oracle::Kind;
use sim::world::PlatformMode;

struct Quiet;

impl Progress for Quiet {
    fn seed_done(&mut self, _done: u64, _seed: u64) -> bool {
        true
    }
}

fn plan(variant: Variant, platform: PlatformMode, start_seed: u64, seeds: u64, find: Find) -> Plan {
    Plan {
        variant,
        start_seed,
        seeds: Some(seeds),
        shard: Shard::ALL,
        overrides: Overrides {
            passes: None,
            platform,
            ..Overrides::default()
        },
        find,
    }
}

fn must_find_on(variant: Variant, platform: PlatformMode, find: &str, budget: u64) -> Finding {
    let label: Find = find.parse().expect("a known label");
    let (summary, finding) = explore(&plan(variant, platform, 0, budget, label), &mut Quiet);
    let finding = finding.unwrap_or_else(|| {
        panic!("{variant}: no {find} in {budget} seeds — the harness lost its teeth")
    });
    println!(
        "{variant}: {find} after {} seeds (seed {}): {}",
        summary.seeds, finding.seed, finding.violation
    );
    finding
}

fn must_find(variant: Variant, find: &str, budget: u64) -> Finding {
    must_find_on(variant, PlatformMode::AsMerged, find, budget)
}

#[test]
fn legacy_flips_after_the_instance_is_cleared_under_it() {
    // HIGH-1: the row changes between the candidate query and IsRunning's
    // re-resolve, which then answers "not running" without asking the CP.
    let f = must_find(Variant::Legacy, "unproven_flip/instance_cleared", 2_000);
    assert_eq!(f.violation.kind(), Kind::UnprovenFlip);
}

#[test]
fn legacy_flips_a_row_deleted_under_it() {
    must_find(Variant::Legacy, "unproven_flip/row_gone", 2_000);
}

#[test]
fn legacy_never_reconciles_a_dead_degraded_row() {
    // MED-3.
    let f = must_find(Variant::Legacy, "missed_dead/degraded_row", 2_000);
    assert_eq!(f.violation.kind(), Kind::MissedDead);
}

#[test]
fn legacy_overruns_its_cycle_under_a_slow_control_plane() {
    // MED-2.
    must_find(Variant::Legacy, "cycle_overrun", 2_000);
}

#[test]
fn legacy_restarts_kill_live_instances() {
    must_find(Variant::Legacy, "restart_harm/killed_live_instance", 2_000);
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
fn pr2283_flips_a_stopped_or_booting_instance() {
    must_find(Variant::Pr2283, "unproven_flip/non_terminal_answer", 2_000);
}

#[test]
fn pr2283_leaves_a_dead_workspace_online() {
    // IsRunning treats the control plane's 404 as an error, and a slow
    // control plane starves the tail of ORDER BY updated_at DESC.
    must_find(Variant::Pr2283, "missed_dead", 2_000);
}

#[test]
fn pr2283_restarts_kill_live_instances() {
    // The cost of a non-terminal (or empty, or unknown) answer taken as
    // death: RestartByID stops what the control plane holds.
    must_find(Variant::Pr2283, "restart_harm/killed_live_instance", 2_000);
}

#[test]
fn pr2283_restarts_race_each_other() {
    // The row stays online after a flip, so a second replica (or a manual
    // restart) starts a second provision of the same workspace.
    must_find(Variant::Pr2283, "restart_harm/racing_provisions", 2_000);
}

#[test]
fn pr2283_restarts_undo_the_owner() {
    must_find(Variant::Pr2283, "restart_harm/undid_owner", 2_000);
}

#[test]
fn pr2283_restarts_storm_when_they_give_up() {
    // No status is written, so a restart that gives up leaves the row to
    // be flipped again, and again.
    must_find(Variant::Pr2283, "restart_storm", 10_000);
}

#[test]
fn hardened_alone_cannot_close_the_platforms_own_races() {
    // On the platform as merged, an owner's unguarded multi-step flow can
    // interleave with the restart a correct flip starts.
    let f = must_find_on(
        Variant::Hardened,
        PlatformMode::AsMerged,
        "restart_harm",
        2_000,
    );
    assert_eq!(f.violation.kind(), Kind::RestartHarm);
}

fn hardened_clean(start_seed: u64, seeds: u64) {
    let plan = plan(
        Variant::Hardened,
        PlatformMode::Hardened,
        start_seed,
        seeds,
        Find::default(),
    );
    let (summary, finding) = explore(&plan, &mut Quiet);
    if let Some(f) = finding {
        panic!(
            "hardened: {} with seed {}\nreplay: {}\n{}",
            f.violation,
            f.seed,
            sim::explore::replay_command(f.seed, Variant::Hardened, plan.overrides),
            f.tail
        );
    }
    assert_eq!(summary.seeds, seeds);
}

// A bounded part of the 100,000-seed run (`sim explore --variant hardened
// --platform hardened --seeds 100000`), in two parts so a parallel test
// runner spreads them.
#[test]
fn hardened_on_the_fixed_platform_is_clean_seeds_0_to_5k() {
    hardened_clean(0, 5_000);
}

#[test]
fn hardened_on_the_fixed_platform_is_clean_seeds_5k_to_10k() {
    hardened_clean(5_000, 5_000);
}
