//! `sim merge` over shards produced here, the way the nightly workflow
//! produces them on separate runners: the merge of the shards of a run
//! equals the unsharded run (summary, digest, lowest failing seed), and
//! files that are not one run's shards are refused with the reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("the sim binary runs")
}

fn folder(case: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("merge")
        .join(case);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a temporary folder");
    d
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `sim explore ARGS --json --digest`, as an unsharded run or as shard
/// `I/N` written to `dir/shard-I.json`; returns the report.
fn explore(args: &[&str], shard: Option<(u64, u64, &Path)>) -> Value {
    let mut all: Vec<String> = ["explore", "--json", "--digest"]
        .iter()
        .chain(args)
        .map(ToString::to_string)
        .collect();
    if let Some((i, n, _)) = shard {
        all.extend(["--shard".to_owned(), format!("{i}/{n}")]);
    }
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = sim(&all);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some((i, _, dir)) = shard {
        std::fs::write(dir.join(format!("shard-{i}.json")), &out.stdout).expect("written");
    }
    json(&out)
}

fn merge(args: &[&str]) -> Output {
    let mut all = vec!["merge"];
    all.extend(args);
    sim(&all)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn four_shards_of_a_clean_run_merge_into_the_unsharded_run() {
    let dir = folder("clean");
    let args = [
        "--variant",
        "hardened",
        "--platform",
        "hardened",
        "--seeds",
        "2000",
    ];
    let whole = explore(&args, None);
    for i in 0..4 {
        explore(&args, Some((i, 4, &dir)));
    }
    let out = merge(&[path(&dir), "--json"]);
    assert_eq!(out.status.code(), Some(0), "clean: exit 0");
    let merged = json(&out);
    assert_eq!(merged["summary"], whole["summary"]);
    assert_eq!(merged["digest"], whole["digest"]);
    assert_eq!(merged["summary"]["seeds"], 2000);
    assert_eq!(merged["complete"], true);
    assert_eq!(merged["finding"], Value::Null);
    // The text form says the same.
    let text = merge(&[path(&dir)]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    let digest = whole["digest"].as_str().expect("a digest");
    assert!(stdout.contains(&format!("digest {digest}")), "{stdout}");
    assert!(stdout.contains("seeds run        2000"), "{stdout}");
    assert!(stdout.contains("no violation found"), "{stdout}");
}

#[test]
fn shards_of_a_failing_run_kept_going_merge_into_the_unsharded_run() {
    let dir = folder("keep-going");
    let args = [
        "--variant",
        "legacy",
        "--seeds",
        "400",
        "--find",
        "unproven_flip/instance_cleared",
        "--keep-going",
    ];
    let whole = explore(&args, None);
    for i in 0..4 {
        explore(&args, Some((i, 4, &dir)));
    }
    let out = merge(&[path(&dir), "--json"]);
    assert_eq!(out.status.code(), Some(1), "a violation: exit 1");
    let merged = json(&out);
    assert_eq!(merged["summary"], whole["summary"]);
    assert_eq!(merged["digest"], whole["digest"]);
    assert_eq!(merged["complete"], true);
    assert_eq!(merged["finding"]["seed"], whole["finding"]["seed"]);
    assert_eq!(merged["finding"]["replay"], whole["finding"]["replay"]);
    let text = String::from_utf8_lossy(&merge(&[path(&dir)]).stdout).into_owned();
    let seed = &whole["finding"]["seed"];
    assert!(
        text.contains(&format!("lowest failing seed {seed} ")),
        "{text}"
    );
    let replay = whole["finding"]["replay"]
        .as_str()
        .expect("a replay command");
    assert!(text.contains(replay), "{text}");
}

#[test]
fn shards_that_stopped_at_their_findings_still_give_the_lowest_failing_seed() {
    let dir = folder("stopped");
    let args = [
        "--variant",
        "legacy",
        "--seeds",
        "2000",
        "--find",
        "unproven_flip/instance_cleared",
    ];
    let whole = explore(&args, None);
    for i in 0..4 {
        explore(&args, Some((i, 4, &dir)));
    }
    let out = merge(&[path(&dir), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let merged = json(&out);
    assert_eq!(merged["finding"]["seed"], whole["finding"]["seed"]);
    assert_eq!(merged["complete"], false);
    assert!(
        !merged["stopped"]
            .as_array()
            .expect("a list of shards")
            .is_empty()
    );
    let text = String::from_utf8_lossy(&merge(&[path(&dir)]).stdout).into_owned();
    assert!(
        text.contains("stopped at their own first violation"),
        "{text}"
    );
}

/// Four clean shards of 200 seeds in `dir`.
fn clean_shards(dir: &Path) {
    for i in 0..4 {
        explore(&["--seeds", "200", "--passes", "1"], Some((i, 4, dir)));
    }
}

fn refused(args: &[&str], needle: &str) {
    let out = merge(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected {needle:?} in\n{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing merged, nothing printed");
}

#[test]
fn files_that_are_not_one_runs_shards_are_refused() {
    let dir = folder("refused");
    clean_shards(&dir);
    let shards: Vec<String> = (0..4)
        .map(|i| path(&dir.join(format!("shard-{i}.json"))).to_owned())
        .collect();
    let shard = |i: usize| shards[i].as_str();
    refused(&[shard(0), shard(1), shard(3)], "missing shard 2/4");
    refused(&[shard(0), shard(0), shard(1)], "shard 0/4 again");
    let other = folder("refused-other");
    explore(
        &["--seeds", "200", "--passes", "1", "--variant", "pr2283"],
        Some((2, 4, &other)),
    );
    let foreign = other.join("shard-2.json");
    refused(
        &[shard(0), shard(1), path(&foreign), shard(3)],
        "variant is pr2283",
    );
    let broken = other.join("broken.json");
    std::fs::write(
        &broken,
        "{\"variant\": \"hardened\",\n  \"start_seed\": 0,\n}",
    )
    .expect("written");
    refused(&[path(&broken)], "broken.json: line 3, column 1:");
    refused(&[path(&dir.join("nope"))], "no such file or folder");
    let empty = folder("refused-empty");
    refused(&[path(&empty)], "no shard reports");
}

#[test]
fn a_run_with_a_wall_clock_budget_cannot_be_merged() {
    let dir = folder("budget");
    let out = sim(&[
        "explore",
        "--platform",
        "hardened",
        "--duration",
        "1s",
        "--json",
        "--jobs",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let file = dir.join("budget.json");
    std::fs::write(&file, &out.stdout).expect("written");
    refused(&[path(&file)], "wall-clock budget");
}
