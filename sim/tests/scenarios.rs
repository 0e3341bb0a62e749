//! The committed scenarios load, and every expectation in them is met.

use std::path::Path;

use sim::run::sim_runtime;
use sim::scenario::{load_all, run_script};

#[test]
fn every_committed_scenario_meets_its_expectations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let files = sim::scenario::collect_files(&[root]).expect("the corpus is readable");
    let scripts = load_all(&files).unwrap_or_else(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("the corpus does not load:\n{}", text.join("\n"))
    });
    let rt = sim_runtime();
    let mut unmet = Vec::new();
    let mut runs = 0;
    for s in &scripts {
        for &v in &s.variants {
            runs += 1;
            let run = run_script(&rt, s, v);
            if !run.verdict.met() {
                unmet.push(format!("{} / {v}: {:?}", s.name, run.verdict.differences));
            }
        }
    }
    assert!(runs >= 12, "only {runs} runs");
    assert!(unmet.is_empty(), "{}", unmet.join("\n"));
}

#[test]
fn a_scripted_run_is_deterministic() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/toctou/orphan-sweep-after-select.yaml");
    let script = sim::scenario::load(&file).expect("loads");
    let a = run_script(&sim_runtime(), &script, reconciler_core::Variant::Legacy);
    let b = run_script(&sim_runtime(), &script, reconciler_core::Variant::Legacy);
    assert_eq!(a.outcome.trace.render(), b.outcome.trace.render());
    assert_eq!(a.firings, b.firings);
}

fn script(text: &str) -> sim::scenario::Script {
    sim::scenario::load_str(Path::new("inline.yaml"), text).unwrap_or_else(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("{}", text.join("\n"))
    })
}

const TWO_DEAD: &str = "\
name: inline
about: two dead workspaces
variants: [hardened]
fleet:
  - { id: ws-1, status: online, instance: i-1, state: terminated }
  - { id: ws-2, status: online, instance: i-2, state: terminated }
expect:
  hardened: { flips: [ws-1, ws-2], violations: [] }
";

#[test]
fn a_hook_step_fires_at_its_nth_matching_firing_only() {
    // `before probe` fires once per row (ws-1, then ws-2 for hardened's
    // id order); nth: 2 is ws-2's probe, so ws-2 is deleted just before
    // it and only ws-1 flips.
    let s = script(&format!(
        "{TWO_DEAD}steps:\n  - on: before probe\n    nth: 2\n    do: delete ws-2\n"
    ));
    let run = run_script(&sim_runtime(), &s, reconciler_core::Variant::Hardened);
    assert_eq!(run.verdict.flips, vec!["ws-1".into()]);
    let probes: Vec<_> = run
        .firings
        .iter()
        .filter(|f| f.hook.to_string() == "before probe")
        .map(|f| f.ws.clone())
        .collect();
    assert_eq!(probes, vec![Some("ws-1".into()), Some("ws-2".into())]);
    let deletes = run.outcome.trace.render().matches("delete ws-2").count();
    assert_eq!(deletes, 1, "the step fires once");
}

#[test]
fn a_workspace_filter_counts_only_firings_about_that_workspace() {
    // nth: 1 among `before probe ws-2` firings is ws-2's probe, even though
    // ws-1's came first.
    let s = script(&format!(
        "{TWO_DEAD}steps:\n  - on: before probe ws-2\n    do: delete ws-1\n"
    ));
    let run = run_script(&sim_runtime(), &s, reconciler_core::Variant::Hardened);
    // ws-1 was flipped before ws-2's probe; deleting it afterwards changes
    // nothing, and ws-2 flips too.
    assert_eq!(run.verdict.flips, vec!["ws-1".into(), "ws-2".into()]);
    let trace = run.outcome.trace.render();
    let delete = trace.find("delete ws-1").expect("the step fired");
    let flip1 = trace.find("FLIP      ws-1").expect("ws-1 flipped");
    assert!(
        flip1 < delete,
        "the filter skipped ws-1's own probe:\n{trace}"
    );
}

#[test]
fn per_instance_latency_and_failure_reach_the_control_plane() {
    let s = script(&TWO_DEAD.replace(
        "expect:",
        "cp:\n  latency: 50ms\n  instances:\n    i-1: { latency: 12s }\n    i-2: { fail: garbage }\nexpect:",
    ));
    let run = run_script(&sim_runtime(), &s, reconciler_core::Variant::Hardened);
    let trace = run.outcome.trace.render();
    // i-1 takes 12 s, past the 10 s probe timeout: abandoned, no flip.
    assert!(trace.contains("abandoned probe i-1 (timeout)"), "{trace}");
    assert!(trace.contains("answer    i-2 ERROR"), "{trace}");
    assert!(run.verdict.flips.is_empty(), "{trace}");
    assert!(!run.verdict.met());
    assert_eq!(
        run.verdict.differences,
        vec!["flips: expected [ws-1, ws-2], got []".to_owned()]
    );
}

#[test]
fn an_expected_bare_kind_covers_its_sub_reasons_and_unexpected_ones_are_named() {
    let text = "\
name: inline
about: legacy flips a cleared row
variants: [legacy]
fleet:
  - { id: ws-1, status: online, instance: i-1, state: terminated }
steps:
  - on: after select
    do: orphan_sweep ws-1
expect:
  legacy: { flips: [ws-1], violations: [unproven_flip] }
";
    let run = run_script(
        &sim_runtime(),
        &script(text),
        reconciler_core::Variant::Legacy,
    );
    assert!(run.verdict.met(), "{:?}", run.verdict.differences);
    let wrong = text.replace("[unproven_flip]", "[unproven_flip/row_gone]");
    let run = run_script(
        &sim_runtime(),
        &script(&wrong),
        reconciler_core::Variant::Legacy,
    );
    assert_eq!(
        run.verdict.differences.len(),
        2,
        "{:?}",
        run.verdict.differences
    );
    assert!(
        run.verdict.differences[0]
            .contains("expected violation unproven_flip/row_gone did not happen")
    );
    assert!(
        run.verdict.differences[1].contains("unexpected violation unproven_flip/instance_cleared")
    );
}

#[test]
fn a_timed_step_acts_at_its_instant() {
    let s = script(&format!(
        "{TWO_DEAD}passes: 2\nsteps:\n  - at: 30s\n    do: [delete ws-1, cp_error 2 5xx]\n"
    ));
    let run = run_script(&sim_runtime(), &s, reconciler_core::Variant::Hardened);
    let trace = run.outcome.trace.render();
    assert!(
        trace.contains("   30.000s actor     [timed] delete ws-1"),
        "{trace}"
    );
    assert!(
        trace.contains("   30.000s actor     [timed] cp_error 2 5xx"),
        "{trace}"
    );
}
