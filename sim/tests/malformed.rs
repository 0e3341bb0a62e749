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
fn duplicate_instance_ids() {
    rejects(
        "duplicate-instances",
        &good_with("instance: i-2,", "instance: i-1,"),
        5,
        43,
        "instance \"i-1\" is already held by the row at line 4",
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
        3,
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
        "unknown variant \"pr2284\": expected one of legacy, pr2283, hardened",
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
        &format!("{GOOD}explore:\n  seeds: 10\n  actors: {{ delete: 1.5 }}\n"),
        15,
        21,
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

/// Runs `text` as a scenario; asserts exit 2, that nothing ran, that the
/// error says `expected` (naming the limit), that no line of the report is
/// wider than a terminal can read, and that no parser-internal text (a
/// Rust Debug rendering) reached the user. Returns stderr.
fn refused(case: &str, text: &str, expected: &str) -> String {
    let d = dir(case);
    let file = write(&d, "case.yaml", text);
    let out = sim_run(&[&file]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{case}: exit code\n{stderr}");
    assert!(out.stdout.is_empty(), "{case}: something ran");
    assert!(
        stderr.contains(expected),
        "{case}: does not say {expected:?}:\n{stderr}"
    );
    assert!(
        stderr.contains("nothing was run"),
        "{case}: stderr should say nothing ran\n{stderr}"
    );
    for line in stderr.lines() {
        assert!(
            line.chars().count() <= 600,
            "{case}: a {}-character line:\n{}",
            line.chars().count(),
            line.chars().take(300).collect::<String>()
        );
    }
    for internal in [
        "budget breached",
        "Nodes {",
        "Depth {",
        "BudgetBreach",
        "Error {",
    ] {
        assert!(
            !stderr.contains(internal),
            "{case}: parser-internal text {internal:?}:\n{stderr}"
        );
    }
    stderr
}

/// `n` fleet rows in flow style, `ws-0` onwards, none live.
fn rows(n: usize) -> String {
    (0..n)
        .map(|i| format!("  - {{ id: ws-{i}, status: offline }}\n"))
        .collect()
}

/// A scenario around `fleet` rows (expected to do nothing).
fn fleet_of(fleet: &str, extra: &str) -> String {
    format!(
        "name: big\nabout: a fleet of many rows\nvariants: [hardened]\n{extra}fleet:\n{fleet}expect:\n  hardened: {{ flips: [], violations: [] }}\n"
    )
}

#[test]
fn four_billion_passes_are_refused_at_the_field_naming_the_maximum() {
    rejects(
        "passes-4e9",
        &good_with("steps:", "passes: 4000000000\nsteps:"),
        6,
        9,
        "passes is 4,000,000,000: the maximum is 10,080",
    );
}

#[test]
fn a_200000_row_fleet_is_refused_by_its_size_in_a_sentence() {
    let stderr = refused(
        "fleet-200k",
        &fleet_of(&rows(200_000), ""),
        "the maximum is 1,048,576 bytes (1 MiB) for a scenario file",
    );
    assert!(
        stderr.contains("case.yaml: error: the file is "),
        "{stderr}"
    );
}

#[test]
fn a_fleet_over_the_yaml_value_budget_is_refused_where_the_budget_ran_out() {
    // Compact rows: under the size limit, over the YAML value budget.
    let compact = "- {id: w, status: o}\n".repeat(41_000);
    let text = fleet_of(&compact, "");
    assert!(text.len() < 1 << 20);
    let stderr = refused(
        "fleet-nodes",
        &text,
        "the file holds more than 200,000 YAML values (keys, values, lists and maps): the maximum is 200,000",
    );
    let head = stderr.lines().next().unwrap_or_default();
    assert!(
        head.contains("case.yaml:40003:3:"),
        "located where it ran out: {head}"
    );
}

#[test]
fn a_fleet_over_the_row_limit_is_refused_at_the_fleet() {
    rejects(
        "fleet-6000",
        &fleet_of(&rows(6_000), ""),
        5,
        3,
        "the fleet's number of rows is 6,000: the maximum is 5,000",
    );
}

#[test]
fn passes_times_rows_over_the_work_limit_is_refused_at_passes() {
    rejects(
        "row-passes",
        &fleet_of(&rows(1_000), "passes: 5000\n"),
        4,
        9,
        "passes × fleet rows is 5,000 × 1,000 = 5,000,000: the maximum is 2,500,000",
    );
}

#[test]
fn a_100000_deep_one_line_file_is_refused_at_the_limit_with_a_cut_line() {
    let deep = format!(
        "name: deep\nabout: x\nfleet: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let stderr = refused(
        "deep-flow",
        &deep,
        "lists and maps nest more than 16 deep here: the maximum nesting is 16",
    );
    let head = stderr.lines().next().unwrap_or_default();
    assert!(head.contains("case.yaml:3:"), "located on line 3: {head}");
    let source = stderr
        .lines()
        .find(|l| l.starts_with("3 | "))
        .expect("the source line is quoted");
    assert!(source.chars().count() < 120, "{source}");
}

#[test]
fn deep_block_nesting_is_refused_at_the_limit() {
    let mut deep = String::from("name: deep\nabout: x\nfleet:\n");
    for level in 1..40 {
        deep.push_str(&"  ".repeat(level));
        deep.push_str("a:\n");
    }
    refused(
        "deep-block",
        &deep,
        "lists and maps nest more than 16 deep here: the maximum nesting is 16",
    );
}

#[test]
fn a_duration_over_a_week_is_refused_where_it_is_written() {
    rejects(
        "duration-long",
        &good_with("  - on: after select", "  - at: 9999h"),
        7,
        9,
        "duration \"9999h\" is too long: the maximum is 168h (a week)",
    );
    rejects(
        "duration-overflow",
        &good_with("  - on: after select", "  - at: 99999999999999999999999ms"),
        7,
        9,
        "is too long: the maximum is 168h (a week)",
    );
    rejects(
        "duration-in-an-action",
        &good_with("do: orphan_sweep ws-1", "do: cp_partition for 200h"),
        8,
        9,
        "duration \"200h\" is too long: the maximum is 168h",
    );
}

#[test]
fn counts_past_their_maxima_are_refused_naming_them() {
    rejects(
        "missed-dead-bound",
        &good_with("steps:", "missed_dead_bound: 50000\nsteps:"),
        6,
        20,
        "missed_dead_bound is 50,000: the maximum is 10,080",
    );
    rejects(
        "limit",
        &good_with("fleet:", "config: { limit: 100000 }\nfleet:"),
        3,
        18,
        "limit is 100,000: the maximum is 5,000",
    );
    rejects(
        "nth",
        &good_with(
            "    do: orphan_sweep ws-1",
            "    nth: 2000000\n    do: orphan_sweep ws-1",
        ),
        8,
        10,
        "nth is 2,000,000: the maximum is 1,000,000",
    );
    rejects(
        "explore-seeds",
        &format!("{GOOD}explore:\n  seeds: 1000000\n"),
        14,
        10,
        "explore seeds is 1,000,000: the maximum is 100,000",
    );
    rejects(
        "long-id",
        &good_with("{ id: ws-2,", &format!("{{ id: ws-{},", "x".repeat(100))),
        5,
        11,
        "a workspace id has 103 characters: the maximum is 64",
    );
}

#[test]
fn more_steps_than_the_maximum_are_refused_at_the_first_one_over() {
    let steps: String = "  - { on: after select, do: degrade ws-2 }\n".repeat(1_001);
    rejects(
        "steps",
        &good_with(
            "steps:\n  - on: after select\n    do: orphan_sweep ws-1\n",
            &format!("steps:\n{steps}"),
        ),
        1_007,
        5,
        "the number of steps is 1,001: the maximum is 1,000",
    );
}

#[test]
fn a_second_document_is_refused() {
    refused(
        "two-documents",
        &format!("{GOOD}---\n{GOOD}"),
        "the file holds more than one YAML document (`---`): expected one scenario per file",
    );
}

#[test]
fn anchors_past_the_limit_are_refused() {
    // Anchors and aliases are how a small file expands into a huge one.
    let anchored: String = (0..120)
        .map(|i| format!("  - &r{i} {{ id: ws-{i}, status: offline }}\n"))
        .collect();
    refused(
        "anchors",
        &fleet_of(&anchored, ""),
        "the file uses more YAML anchors and aliases (`&name`, `*name`) than a scenario may: the maximum is 100 of each",
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let stderr = refused(
        "too-big",
        &format!("{GOOD}#{}\n", "x".repeat(2 << 20)),
        "the maximum is 1,048,576 bytes (1 MiB)",
    );
    assert!(stderr.contains("the file is 2,097,"), "{stderr}");
}

#[test]
fn a_huge_token_is_cut_in_the_message_and_the_quoted_line() {
    let word = "z".repeat(50_000);
    let stderr = refused(
        "huge-token",
        &good_with("do: orphan_sweep ws-1", &format!("do: {word} ws-1")),
        "characters cut",
    );
    assert!(
        stderr.contains("case.yaml:8:9: error: unknown action"),
        "{stderr}"
    );
}

#[test]
fn the_yaml_layer_speaks_of_the_file_not_of_its_rust_types() {
    rejects(
        "duplicate-key",
        &good_with("about:", "name: again\nabout:"),
        2,
        1,
        "`name` is written twice in this mapping: expected each key once",
    );
    rejects(
        "not-a-list",
        &good_with("fleet:\n", "fleet: 5\nx:\n"),
        3,
        8,
        "expected a list (`- item` lines or `[a, b]`) here",
    );
    rejects(
        "null-name",
        &good_with("name: good", "name:"),
        1,
        5,
        "expected a text value here, found nothing (null)",
    );
    rejects(
        "state-as-a-map",
        &good_with("state: running }", "state: { running: 1 } }"),
        5,
        66,
        "expected just a name here (e.g. `running`), not a list or mapping",
    );
}

#[test]
fn a_file_with_thousands_of_errors_shows_the_first_fifty_and_counts_the_rest() {
    let dup = "  - { id: ws-2, status: online, instance: i-2, state: running }\n";
    let text = good_with(dup, &dup.repeat(3_000));
    let stderr = refused(
        "many-errors",
        &text,
        "5,948 more errors from here on are not shown (the first 50 are above)",
    );
    assert_eq!(
        stderr.matches(": error: ").count(),
        51,
        "fifty errors and the count"
    );
}

#[test]
fn the_authoring_guide_states_every_scenario_limit() {
    use sim::limits::*;
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/scenario-authoring.md"
    ))
    .expect("the authoring guide");
    let section = guide
        .split("### Limits")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("a Limits section");
    let duration = sim::scenario::duration::Dur(MAX_DURATION_MS).to_string();
    for (row, value) in [
        ("file size", thousands(MAX_FILE_BYTES)),
        ("nesting", format!("{MAX_NESTING} deep")),
        ("YAML values", thousands(MAX_YAML_NODES as u64)),
        ("anchors", format!("{MAX_YAML_ALIASES} of each")),
        ("`fleet` rows", thousands(MAX_FLEET_ROWS)),
        ("`passes` |", thousands(MAX_PASSES)),
        ("`passes` ×", thousands(MAX_ROW_PASSES)),
        ("`steps`", thousands(MAX_STEPS)),
        ("actions", thousands(MAX_ACTIONS)),
        ("`nth`", thousands(MAX_NTH)),
        ("`missed_dead_bound`", thousands(MAX_PASSES)),
        ("`config.limit`", thousands(MAX_FLEET_ROWS)),
        ("entries", thousands(MAX_EXPECTED)),
        ("`explore.seeds`", thousands(MAX_FILE_SEEDS)),
        ("a name", format!("{MAX_ID_CHARS} characters")),
        ("any duration", duration),
    ] {
        let line = section
            .lines()
            .find(|l| l.starts_with(&format!("| {row}")))
            .unwrap_or_else(|| panic!("no row for {row:?} in the Limits section"));
        assert!(line.contains(&value), "{row:?} should say {value}: {line}");
    }
    assert!(section.contains(&format!("first {MAX_ERRORS_SHOWN} errors")));
}
