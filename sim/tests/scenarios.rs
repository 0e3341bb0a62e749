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
