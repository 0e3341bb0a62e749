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
    let picture = stderr
        .lines()
        .skip_while(|l| !l.starts_with("picture with:"))
        .nth(1)
        .expect("the command that draws the picture is printed")
        .trim();
    assert!(
        picture.starts_with(&command) && picture.contains(" --html "),
        "{picture}"
    );
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
    let out = sim(&[
        "explore",
        "--variant",
        "hardened",
        "--platform",
        "hardened",
        "--seeds",
        "200",
    ]);
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
        &["explore", "--jobs", "0"],
        &["explore", "--jobs", "many"],
        &["run", "scenarios", "--jobs", "100000"],
        &["merge"],
        &["replay"],
        &["frobnicate"],
    ] {
        let out = sim(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} must say what is wrong");
    }
}

#[test]
fn find_refuses_an_unknown_kind_or_sub_reason_and_lists_the_valid_ones() {
    for (find, valid) in [
        (
            "unproven_flip/typo",
            "unknown sub-reason \"typo\" of unproven_flip: expected one of row_gone, status_moved",
        ),
        ("unproven_flip/", "unknown sub-reason \"\" of unproven_flip"),
        (
            "unproven_flip/row",
            "unknown sub-reason \"row\" of unproven_flip",
        ),
        (
            "unproven",
            "unknown violation kind \"unproven\": expected one of unproven_flip, flip_after_error",
        ),
    ] {
        // One seed: were the flag accepted, this would run and exit 0.
        let out = sim(&["explore", "--seeds", "1", "--find", find]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--find {find}: {stderr}");
        assert!(stderr.contains(valid), "--find {find}: {stderr}");
        assert!(
            !stderr.contains("seeds run"),
            "--find {find}: it explored:\n{stderr}"
        );
    }
    let shrink = sim(&[
        "shrink",
        "--seed",
        "27",
        "--variant",
        "pr2283",
        "--find",
        "missed_dead/typo",
        "-o",
        "/nonexistent/never-written.yaml",
    ]);
    assert_eq!(shrink.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&shrink.stderr).contains("degraded_row, online_row"));
}

#[test]
fn find_accepts_every_kind_and_sub_reason_the_oracle_reports() {
    for kind in sim::oracle::Kind::ALL {
        let labels = std::iter::once(kind.to_string()).chain(kind.subs().map(|s| s.to_string()));
        for label in labels {
            let parsed: Result<sim::explore::Find, _> = label.parse();
            assert!(parsed.is_ok(), "{label}: {parsed:?}");
        }
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
    // The picture hint works too: it writes one page.
    let picture = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("picture: sim "))
        .expect("a NOT MET run prints the picture command");
    let page = d.join("orphan-pr2283.html");
    let args: Vec<&str> = picture
        .split_whitespace()
        .map(|a| {
            if a == "orphan-pr2283.html" {
                page.to_str().expect("utf-8")
            } else {
                a
            }
        })
        .collect();
    let drawn = sim(&args);
    assert_eq!(
        drawn.status.code(),
        Some(1),
        "{:?}",
        String::from_utf8_lossy(&drawn.stderr)
    );
    let html = std::fs::read_to_string(&page).expect("the page is written");
    assert!(html.contains("id=\"data\"") && html.contains("orphan.yaml"));
}

/// A fleet of 50 dead workspaces, `ws-200` to `ws-249`, all flipped by
/// hardened in one pass.
fn fifty_flips() -> String {
    let ids: Vec<String> = (200..250).map(|i| format!("ws-{i}")).collect();
    let rows: String = ids
        .iter()
        .enumerate()
        .map(|(k, id)| {
            format!("  - {{ id: {id}, status: online, instance: i-{k}, state: terminated }}\n")
        })
        .collect();
    format!(
        "name: fifty\nabout: fifty dead workspaces flip in one pass\nvariants: [hardened]\nfleet:\n{rows}expect:\n  hardened: {{ flips: [{}], violations: [] }}\n",
        ids.join(", ")
    )
}

#[test]
fn run_cuts_long_lists_in_the_table_and_keeps_them_whole_in_json() {
    let d = scenario_dir("fifty");
    let file = d.join("fifty.yaml");
    std::fs::write(&file, fifty_flips()).expect("written");
    let path = file.to_str().expect("utf-8 path");
    let out = sim(&["run", path]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("fifty     hardened  ws-200 … ws-249, 50 rows  -           met"),
        "{stdout}"
    );
    assert!(
        stdout.lines().all(|l| l.chars().count() <= 100),
        "a row is wider than 100 characters:\n{stdout}"
    );

    let out = sim(&["run", path, "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("only JSON on stdout");
    let run = &v["runs"][0];
    assert_eq!(run["scenario"], "fifty");
    assert_eq!(run["variant"], "hardened");
    assert_eq!(run["met"], true);
    let flips: Vec<&str> = run["flips"]
        .as_array()
        .expect("a flips array")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    let expected: Vec<String> = (200..250).map(|i| format!("ws-{i}")).collect();
    assert_eq!(flips, expected);
    assert_eq!(v["not_met"], 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 runs, every expectation met"));
}

#[test]
fn run_json_reports_an_unmet_expectation_with_its_replay_command_and_exits_one() {
    let d = scenario_dir("json-unmet");
    let file = d.join("orphan.yaml");
    std::fs::write(
        &file,
        ORPHAN.replace("pr2283:   { flips: []", "pr2283:   { flips: [ws-1]"),
    )
    .expect("written");
    let path = file.to_str().expect("utf-8 path");
    let out = sim(&["run", path, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("only JSON on stdout");
    assert_eq!(v["not_met"], 1);
    let unmet = v["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["met"] == false)
        .expect("the unmet run");
    assert_eq!(unmet["variant"], "pr2283");
    assert_eq!(
        unmet["replay"],
        format!("sim run {path} --variant pr2283 --trace")
    );
    assert_eq!(unmet["differences"][0], "flips: expected [ws-1], got []");
}

#[test]
fn help_names_the_exit_codes_and_every_command_line_maximum() {
    use sim::limits::{MAX_PASSES, MAX_SCHEDULES, MAX_SEEDS, MAX_SHARDS, thousands};
    let top = String::from_utf8_lossy(&sim(&["--help"]).stdout).into_owned();
    for code in [
        sim::exit::Exit::Clean,
        sim::exit::Exit::Violation,
        sim::exit::Exit::BadInput,
    ] {
        assert!(top.contains(&format!("  {}  ", code.code())), "{top}");
    }
    let help = |cmd: &str| String::from_utf8_lossy(&sim(&[cmd, "--help"]).stdout).into_owned();
    let explore = help("explore");
    for max in [MAX_SEEDS, MAX_PASSES, MAX_SHARDS] {
        assert!(explore.contains(&thousands(max)), "{max}: {explore}");
    }
    assert!(explore.contains("at most 168h"), "{explore}");
    assert!(explore.contains("Exit codes:"), "{explore}");
    assert!(help("run").contains(&thousands(MAX_SCHEDULES)));
    assert!(help("replay").contains(&thousands(MAX_PASSES)));
    assert!(help("shrink").contains(&thousands(MAX_PASSES)));
}

#[test]
fn command_line_counts_past_their_maximum_are_refused_naming_it() {
    for (args, says) in [
        (
            &["explore", "--passes", "4000000000"][..],
            "the maximum is 10,080",
        ),
        (&["explore", "--seeds", "0"], "at least 1"),
        (
            &["explore", "--seeds", "99999999999"],
            "the maximum is 1,000,000,000",
        ),
        (&["explore", "--shard", "0/20000"], "the maximum is 10,000"),
        (&["explore", "--duration", "200h"], "the maximum is 168h"),
        (
            &["replay", "--seed", "1", "--passes", "20000"],
            "the maximum is 10,080",
        ),
        (
            &["bench", "--day-passes", "1000000"],
            "expected 1 to 14,400",
        ),
        (&["bench", "--hunt-cap", "0"], "expected 1 to 3,600"),
    ] {
        let out = sim(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} ran");
    }
}

#[test]
fn explore_duration_takes_the_scenario_language_units() {
    // 1ms of wall time runs at least the first seed and stops: accepted.
    let out = sim(&["explore", "--duration", "1ms", "--platform", "hardened"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A bare number was seconds for the old parser; the language needs a unit.
    let out = sim(&["explore", "--duration", "30"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the unit is missing"));
}
