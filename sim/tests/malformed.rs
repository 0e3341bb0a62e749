//! Malformed scenario files: each is rejected by the real `sim run` with
//! exit code 2, an error naming the file, the line and column of the
//! offending node and what was expected — and nothing runs (no verdict
//! table on stdout), even when other files given with it are fine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A valid scenario; each case breaks one thing in it.
const GOOD: &str = "\
name: good
about: a valid scenario the cases below break
fleet:
  - { id: ws-1, status: online, instance: i-1, state: terminated }
  - { id: ws-2, status: online, instance: i-2, state: running }
steps:
  - on: after select
    do: orphan_sweep ws-1
expect:
  legacy:   { flips: [ws-1], violations: [unproven_flip/instance_cleared] }
  pr2283:   { flips: [], violations: [] }
  hardened: { flips: [], violations: [] }
";

fn dir(case: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("malformed")
        .join(case);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temporary folder");
    d
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("the case file is written");
    p
}

fn sim_run(paths: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .arg("run")
        .args(paths)
        .output()
        .expect("the sim binary runs")
}

/// Runs `text` as a scenario; asserts exit 2, an error at `line:column`
/// of the file containing `expected`, and an empty stdout.
fn rejects(case: &str, text: &str, line: u64, column: u64, expected: &str) {
    let d = dir(case);
    let file = write(&d, "case.yaml", text);
    let out = sim_run(&[&file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{case}: exit code\n{stderr}");
    let located = format!("{}:{line}:{column}: error:", file.display());
    let head = stderr
        .lines()
        .find(|l| l.starts_with(&located))
        .unwrap_or_else(|| panic!("{case}: no error at {located}\n{stderr}"));
    assert!(
        head.contains(expected),
        "{case}: the error at {line}:{column} does not say {expected:?}:\n{stderr}"
    );
    assert!(
        stderr.contains("nothing was run"),
        "{case}: stderr should say nothing ran\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{case}: something ran:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn good_with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "the base scenario contains {from:?}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn the_base_scenario_is_valid_and_runs() {
    let d = dir("good");
    let file = write(&d, "good.yaml", GOOD);
    let out = sim_run(&[&file]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("every expectation met"));
}

#[test]
fn bad_yaml_syntax() {
    rejects(
        "syntax",
        &good_with(
            "  - { id: ws-2, status: online, instance: i-2, state: running }",
            "  - { id: ws-2, status: online, instance: i-2, state: running",
        ),
        7,
        3,
        "\"-\" is only valid inside a block",
    );
}

#[test]
fn unknown_field() {
    rejects(
        "unknown-field",
        &good_with("about:", "colour: red\nabout:"),
        2,
        1,
        "unknown field `colour`, expected one of",
    );
}

#[test]
fn unknown_field_in_a_fleet_row() {
    rejects(
        "unknown-row-field",
        &good_with("state: running }", "state: running, owner: bob }"),
        5,
        64,
        "unknown field `owner`",
    );
}

#[test]
fn wrong_type() {
    rejects(
        "wrong-type",
        &good_with("steps:", "passes: many\nsteps:"),
        6,
        9,
        "invalid u64: expected a whole number of 0 or more",
    );
}

#[test]
fn unknown_action() {
    rejects(
        "unknown-action",
        &good_with("do: orphan_sweep ws-1", "do: explode ws-1"),
        8,
        9,
        "unknown action \"explode\": expected one of delete WS",
    );
}

#[test]
fn unknown_hook_point() {
    rejects(
        "unknown-hook",
        &good_with("on: after select", "on: after teleport"),
        7,
        9,
        "unknown hook point \"teleport\": expected one of select, resolve",
    );
}

#[test]
fn step_names_a_missing_workspace() {
    rejects(
        "missing-workspace",
        &good_with(
            "do: orphan_sweep ws-1",
            "do: [degrade ws-2, orphan_sweep ws-9]",
        ),
        8,
        24,
        "names workspace \"ws-9\", which is not in the fleet: expected one of ws-1, ws-2",
    );
}

#[test]
fn step_names_a_missing_instance() {
    rejects(
        "missing-instance",
        &good_with("do: orphan_sweep ws-1", "do: terminate i-9"),
        8,
        9,
        "names instance \"i-9\", which no fleet row holds: expected one of i-1, i-2",
    );
}

#[test]
fn duplicate_workspace_ids() {
    rejects(
        "duplicate-ids",
        &good_with("{ id: ws-2,", "{ id: ws-1,"),
        5,
        11,
        "duplicate workspace id \"ws-1\" (first defined at line 4)",
    );
}

#[test]
fn both_on_and_at() {
    rejects(
        "on-and-at",
        &good_with(
            "    do: orphan_sweep ws-1",
            "    at: 30s\n    do: orphan_sweep ws-1",
        ),
        7,
        5,
        "both `on` and `at`: expected exactly one",
    );
}

#[test]
fn neither_on_nor_at() {
    rejects(
        "neither-on-nor-at",
        &good_with("  - on: after select\n", "  - nth: 2\n"),
        7,
        5,
        "neither `on` nor `at`: expected exactly one",
    );
}

#[test]
fn nth_zero() {
    rejects(
        "nth-zero",
        &good_with(
            "    do: orphan_sweep ws-1",
            "    nth: 0\n    do: orphan_sweep ws-1",
        ),
        8,
        10,
        "expected `nth` of at least 1",
    );
}

#[test]
fn bad_duration() {
    rejects(
        "bad-duration",
        &good_with("  - on: after select", "  - at: 30 seconds"),
        7,
        9,
        "expected a duration like 250ms, 30s, 2m or 1h",
    );
}

#[test]
fn negative_latency() {
    rejects(
        "negative-latency",
        &good_with("steps:", "cp: { latency: -5ms }\nsteps:"),
        6,
        16,
        "expected a latency of zero or more",
    );
}

#[test]
fn expect_missing_a_variant() {
    rejects(
        "expect-missing-variant",
        &good_with("  pr2283:   { flips: [], violations: [] }\n", ""),
        10,
        3,
        "`expect` has no entry for pr2283: expected one entry per listed variant",
    );
}

#[test]
fn expect_names_an_unlisted_variant() {
    rejects(
        "expect-unlisted-variant",
        &good_with("fleet:", "variants: [legacy, hardened]\nfleet:"),
        12,
        13,
        "`expect` has an entry for pr2283, which `variants` does not list",
    );
}

#[test]
fn unknown_variant() {
    rejects(
        "unknown-variant",
        &good_with("fleet:", "variants: [legacy, pr2284]\nfleet:"),
        3,
        20,
        "unknown variant `pr2284`, expected one of",
    );
}

#[test]
fn unknown_violation_kind() {
    rejects(
        "unknown-kind",
        &good_with("unproven_flip/instance_cleared", "unproved_flip"),
        10,
        43,
        "unknown violation kind \"unproved_flip\": expected one of unproven_flip",
    );
}

#[test]
fn unknown_violation_sub_reason() {
    rejects(
        "unknown-sub",
        &good_with(
            "unproven_flip/instance_cleared",
            "unproven_flip/instance_nulled",
        ),
        10,
        43,
        "unknown sub-reason \"instance_nulled\" of unproven_flip: expected one of row_gone",
    );
}

#[test]
fn state_for_a_null_instance() {
    rejects(
        "state-null-instance",
        &good_with(
            "instance: i-2, state: running",
            "instance: null, state: running",
        ),
        5,
        56,
        "has a `state` but its instance is NULL",
    );
}

#[test]
fn live_instance_without_state() {
    rejects(
        "missing-state",
        &good_with("instance: i-2, state: running", "instance: i-2"),
        5,
        43,
        "holds instance \"i-2\" but has no `state`",
    );
}

#[test]
fn probability_outside_zero_one() {
    rejects(
        "probability",
        &format!("{GOOD}explore:\n  seeds: 10\n  adversaries: {{ delete: 1.5 }}\n"),
        15,
        26,
        "expected a probability in [0, 1], found 1.5",
    );
}

#[test]
fn one_bad_file_among_good_ones_runs_nothing_and_all_errors_are_printed() {
    let d = dir("mixed");
    let good = write(&d, "a-good.yaml", GOOD);
    let bad = write(
        &d,
        "b-bad.yaml",
        &good_with("name: good", "name: bad")
            .replace("do: orphan_sweep ws-1", "do: explode ws-1")
            .replace("on: after select", "on: after teleport"),
    );
    let dup = write(&d, "c-dup.yaml", GOOD);
    let out = sim_run(&[&d]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "something ran");
    for needle in [
        format!("{}:8:9: error: unknown action", bad.display()),
        format!("{}:7:9: error: unknown hook point", bad.display()),
        format!(
            "{}:1:7: error: scenario name \"good\" is already used by {}",
            dup.display(),
            good.display()
        ),
    ] {
        assert!(stderr.contains(&needle), "missing {needle:?} in\n{stderr}");
    }
    assert!(stderr.contains("3 errors in the scenario files; nothing was run"));
}

#[test]
fn a_missing_path_is_bad_input() {
    let out = sim_run(&[Path::new("/nonexistent/scenarios")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/scenarios"));
    assert!(out.stdout.is_empty());
}
