//! The scenario corpus, and the scripted director's rules.
//!
//! Every `scenarios/**/*.yaml` runs against every variant it names, and each
//! run's expectation, verdict, violations and full trace is one insta
//! snapshot (`snapshots/scenarios__<variant>@<topic>__<file>.snap`). A change
//! of behaviour of the reconciler, the world or the oracle therefore shows up
//! as a snapshot diff to review (`cargo insta review`), and a scenario
//! committed without its snapshots fails under CI, where insta never writes
//! snapshots. Independently of the snapshots, the corpus test fails if any
//! run misses its file's expectation (listing every miss), and a snapshot
//! whose scenario was renamed or removed fails the stale-snapshot test.
//!
//! The other tests pin the director's rules (nth, workspace filter, timed
//! steps, per-instance control plane, label matching) on inline scripts.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use reconciler_core::{Variant, WorkspaceId};
use sim::run::sim_runtime;
use sim::scenario::{Expected, Script, ScriptRun, collect_files, load, load_all, run_script};

/// The corpus folder.
fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Every scenario of the corpus; fails on any load error, including a name
/// used twice.
fn corpus_scripts() -> Vec<Script> {
    let files = collect_files(&[corpus()]).expect("the corpus is readable");
    load_all(&files).unwrap_or_else(|errors| {
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("the corpus does not load:\n{}", text.join("\n"))
    })
}

#[test]
fn every_scenario_matches_its_snapshots_and_its_expectations() {
    let scripts = corpus_scripts();
    assert!(
        scripts.len() >= 25,
        "the corpus must hold at least 25 scenarios, it holds {}",
        scripts.len()
    );
    let rt = sim_runtime();
    let mut unmet: Vec<String> = Vec::new();
    let mut runs = 0usize;
    insta::glob!("../../scenarios", "**/*.yaml", |path| {
        let script = load(path).unwrap_or_else(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{} does not load:\n{}", path.display(), text.join("\n"))
        });
        for &variant in &script.variants {
            let run = run_script(&rt, &script, variant);
            runs += 1;
            insta::assert_snapshot!(variant.as_str(), render(&script, variant, &run));
            if !run.verdict.met() {
                unmet.push(format!(
                    "{} / {variant} ({}): {}",
                    script.name,
                    corpus_path(&script.file),
                    run.verdict.differences.join("; ")
                ));
            }
        }
    });
    let expected_runs: usize = scripts.iter().map(|s| s.variants.len()).sum();
    assert_eq!(runs, expected_runs, "every file of the corpus was globbed");
    assert!(
        unmet.is_empty(),
        "{} of {runs} runs missed their expectation:\n{}",
        unmet.len(),
        unmet.join("\n")
    );
}

#[test]
fn no_snapshot_outlives_its_scenario() {
    let wanted: BTreeSet<String> = corpus_scripts()
        .iter()
        .flat_map(|s| {
            let file = corpus_path(&s.file)
                .trim_start_matches("scenarios/")
                .replace('/', "__");
            s.variants
                .iter()
                .map(move |v| format!("scenarios__{v}@{file}.snap"))
        })
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    // No folder yet (a fresh checkout before the first snapshot): nothing
    // can be stale.
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let stale: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("scenarios__") && n.ends_with(".snap"))
        .filter(|n| !wanted.contains(n))
        .collect();
    assert!(
        stale.is_empty(),
        "snapshots without a scenario x variant (renamed or removed files; delete them):\n{}",
        stale.join("\n")
    );
}

/// The snapshot text: what was expected, what happened, why, and the trace.
fn render(script: &Script, variant: Variant, run: &ScriptRun) -> String {
    let expected = script.expect.get(&variant).cloned().unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(s, "scenario   {}", script.name);
    let _ = writeln!(s, "file       {}", corpus_path(&script.file));
    let _ = writeln!(s, "variant    {variant}");
    let _ = writeln!(s, "expected   {}", describe(&expected));
    let _ = writeln!(
        s,
        "got        flips {} violations {}",
        list(run.verdict.flips.iter().map(WorkspaceId::to_string)),
        list(run.verdict.labels.iter().cloned())
    );
    let verdict = if run.verdict.met() {
        "met".to_owned()
    } else {
        format!("NOT MET: {}", run.verdict.differences.join("; "))
    };
    let _ = writeln!(s, "verdict    {verdict}");
    for v in &run.outcome.violations {
        let _ = writeln!(s, "violation  {v}");
    }
    let _ = writeln!(s, "--- trace");
    s.push_str(&run.outcome.trace.render());
    s
}

fn describe(e: &Expected) -> String {
    format!(
        "flips {} violations {}",
        list(e.flips.iter().map(WorkspaceId::to_string)),
        list(e.violations.iter().map(ToString::to_string))
    )
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

/// A scenario file's path from the repository root (`scenarios/…`), with
/// `/` separators, so snapshots do not depend on where the repository is.
fn corpus_path(file: &Path) -> String {
    let parts: Vec<String> = file
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let start = parts.iter().rposition(|p| p == "scenarios").unwrap_or(0);
    parts[start..].join("/")
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
    // id order); nth: 2 is ws-2's probe, so ws-2 is purged just before
    // it and only ws-1 flips.
    let s = script(&format!(
        "{TWO_DEAD}steps:\n  - on: before probe\n    nth: 2\n    do: purge ws-2\n"
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
    let purges = run.outcome.trace.render().matches("purge ws-2").count();
    assert_eq!(purges, 1, "the step fires once");
}

#[test]
fn a_workspace_filter_counts_only_firings_about_that_workspace() {
    // nth: 1 among `before probe ws-2` firings is ws-2's probe, even though
    // ws-1's came first.
    let s = script(&format!(
        "{TWO_DEAD}steps:\n  - on: before probe ws-2\n    do: purge ws-1\n"
    ));
    let run = run_script(&sim_runtime(), &s, reconciler_core::Variant::Hardened);
    // ws-1 was flipped before ws-2's probe; purging it afterwards changes
    // nothing, and ws-2 flips too.
    assert_eq!(run.verdict.flips, vec!["ws-1".into(), "ws-2".into()]);
    let trace = run.outcome.trace.render();
    let purge = trace.find("purge ws-1").expect("the step fired");
    let flip1 = trace.find("FLIP      ws-1").expect("ws-1 flipped");
    assert!(
        flip1 < purge,
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
        "{TWO_DEAD}passes: 2\nsteps:\n  - at: 30s\n    do: [purge ws-1, cp_error 2 5xx]\n"
    ));
    let run = run_script(&sim_runtime(), &s, reconciler_core::Variant::Hardened);
    let trace = run.outcome.trace.render();
    assert!(
        trace.contains("   30.000s    actor     [timed] purge ws-1"),
        "{trace}"
    );
    assert!(
        trace.contains("   30.000s    actor     [timed] cp_error 2 5xx"),
        "{trace}"
    );
}
