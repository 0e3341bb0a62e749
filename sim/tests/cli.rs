//! The `sim` binary as a user meets it: exit codes, replay output, and a
//! printed replay command that reproduces the finding when pasted.

use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("the sim binary runs")
}

#[test]
fn replay_is_byte_identical_across_runs() {
    let a = sim(&["replay", "--seed", "27", "--variant", "pr2283"]);
    let b = sim(&["replay", "--seed", "27", "--variant", "pr2283"]);
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.status.code(), b.status.code());
}

#[test]
fn explore_prints_a_replay_command_that_reproduces_the_violation() {
    let out = sim(&[
        "explore",
        "--variant",
        "pr2283",
        "--seeds",
        "5000",
        "--find",
        "unproven_flip/changed_after_reconfirm",
    ]);
    assert_eq!(out.status.code(), Some(1), "a violation exits 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let violation = stderr
        .lines()
        .skip_while(|l| !l.starts_with("VIOLATION"))
        .nth(1)
        .expect("the violation line follows the header")
        .trim()
        .to_owned();
    let command = stderr
        .lines()
        .skip_while(|l| !l.starts_with("replay with:"))
        .nth(1)
        .expect("a replay command is printed")
        .trim()
        .to_owned();
    let args: Vec<&str> = command
        .strip_prefix("cargo run -p sim --release -- ")
        .expect("the command is a cargo invocation of sim")
        .split_whitespace()
        .collect();
    let replay = sim(&args);
    assert_eq!(replay.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(
        stdout.lines().any(|l| l == violation),
        "replay did not show {violation:?}:\n{stdout}"
    );
}

#[test]
fn explore_is_clean_on_hardened_and_exits_zero() {
    let out = sim(&["explore", "--variant", "hardened", "--seeds", "200"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("seeds run        200"));
}

#[test]
fn bad_arguments_exit_two() {
    for args in [
        &["explore", "--variant", "nope"][..],
        &["explore", "--shard", "4/4"],
        &["explore", "--find", "nonsense"],
        &["explore", "--duration", "5x"],
        &["replay"],
        &["frobnicate"],
    ] {
        let out = sim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} must say what is wrong");
    }
}

#[test]
fn json_summary_is_machine_readable() {
    let out = sim(&["explore", "--variant", "legacy", "--seeds", "50", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON on stdout");
    assert_eq!(v["variant"], "legacy");
    assert!(
        v["finding"]["replay"]
            .as_str()
            .is_some_and(|r| r.contains("--variant legacy"))
    );
}

fn scenario_dir(case: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-run")
        .join(case);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temporary folder");
    d
}

const ORPHAN: &str = "\
name: orphan
about: the orphan sweeper strikes after the candidate query
fleet:
  - { id: ws-1, status: online, instance: i-1, state: terminated }
steps:
  - on: after select
    do: orphan_sweep ws-1
expect:
  legacy:   { flips: [ws-1], violations: [unproven_flip/instance_cleared] }
  pr2283:   { flips: [], violations: [] }
  hardened: { flips: [], violations: [] }
";

#[test]
fn run_prints_a_verdict_table_and_exits_zero_when_every_expectation_is_met() {
    let d = scenario_dir("met");
    std::fs::write(d.join("orphan.yaml"), ORPHAN).expect("written");
    let out = sim(&["run", d.to_str().expect("utf-8 path")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("orphan    legacy    ws-1   unproven_flip/instance_cleared  met"),
        "{stdout}"
    );
    assert!(stdout.contains("3 runs, every expectation met"), "{stdout}");
}

#[test]
fn run_exits_one_on_an_unmet_expectation_and_prints_the_replay_command() {
    let d = scenario_dir("unmet");
    let file = d.join("orphan.yaml");
    std::fs::write(
        &file,
        ORPHAN.replace("pr2283:   { flips: []", "pr2283:   { flips: [ws-1]"),
    )
    .expect("written");
    let path = file.to_str().expect("utf-8 path");
    let out = sim(&["run", path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("orphan    pr2283    -      -                               NOT MET"),
        "{stdout}"
    );
    assert!(
        stdout.contains("flips: expected [ws-1], got []"),
        "{stdout}"
    );
    let hint = format!("replay: sim run {path} --variant pr2283 --trace");
    assert!(stdout.contains(&hint), "{stdout}");
    // The hint works: one variant, with its trace.
    let replay = sim(&["run", path, "--variant", "pr2283", "--trace"]);
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1));
    assert!(text.contains("=== orphan / pr2283"), "{text}");
    assert!(
        text.contains("reconfirm ws-1 -> ws-1[online NULL"),
        "{text}"
    );
    assert!(
        !text.contains("legacy"),
        "--variant restricts the runs:\n{text}"
    );
}
