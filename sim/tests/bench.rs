//! `sim bench` with small budgets: it runs every figure, finds every known
//! bug, and judges its targets. Speeds are not asserted here — they depend
//! on the machine — only that the figures are measured and printed.

use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("the sim binary runs")
}

#[test]
fn a_small_bench_prints_all_five_figures() {
    let out = sim(&[
        "bench",
        "--day-passes",
        "5",
        "--throughput-seeds",
        "200",
        "--ranges",
        "1",
        "--hunt-cap",
        "30",
        "--baseline-cap",
        "1",
        "--memory-seeds",
        "50",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for heading in [
        "1. time compression",
        "2. exploration throughput",
        "3. time to first violation",
        "4. real-time baseline",
        "5. peak memory of explore",
    ] {
        assert!(stdout.contains(heading), "missing {heading:?}:\n{stdout}");
    }
    // Every known bug is found in its one seed range.
    let rows: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("3. "))
        .filter(|l| l.contains("legacy ") || l.contains("pr2283 "))
        .take(7)
        .collect();
    assert_eq!(rows.len(), 7, "{stdout}");
    for row in rows {
        assert!(row.contains(" 1/1 "), "not found: {row}");
    }
    assert!(stdout.contains("MiB"), "{stdout}");
}

#[test]
fn the_simulated_day_is_deterministic() {
    let hash = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.split_once("trace hash ").map(|(_, h)| h.to_owned()))
            .expect("the compression figure prints its trace hash")
    };
    let args = ["bench", "--only", "compression", "--day-passes", "20"];
    assert_eq!(hash(&sim(&args)), hash(&sim(&args)));
}

#[test]
fn an_unknown_figure_is_bad_input() {
    let out = sim(&["bench", "--only", "speed"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown figure"), "{stderr}");
}
