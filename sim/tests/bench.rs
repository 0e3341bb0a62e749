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
        "--week-passes",
        "7",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for heading in [
        "1. time compression",
        "2. exploration throughput",
        "3. time to first violation",
        "4. real-time baseline",
        "5. peak memory of explore and of long runs",
    ] {
        assert!(stdout.contains(heading), "missing {heading:?}:\n{stdout}");
    }
    // Every known bug is found in its one seed range.
    let known = sim::bench::KNOWN.len();
    let rows: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("3. "))
        .filter(|l| l.contains("legacy ") || l.contains("pr2283 "))
        .take(known)
        .collect();
    assert_eq!(rows.len(), known, "{stdout}");
    for row in rows {
        assert!(row.contains(" 1/1 "), "not found: {row}");
    }
    // Every long run of the memory figure ran, for the day and the week.
    for run in [
        "200-row swarm day run for 5 passes",
        "200-row swarm day run for 7 passes",
        "`passes: 5`",
        "`passes: 7`",
    ] {
        assert!(stdout.contains(run), "missing {run:?}:\n{stdout}");
    }
    assert!(stdout.contains("largest long run"), "{stdout}");
    assert!(stdout.contains("MiB"), "{stdout}");
}

#[test]
fn the_soak_scenario_is_a_valid_file_that_sim_run_runs() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("soak");
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    let file = dir.join("soak.yaml");
    std::fs::write(&file, sim::bench::soak_script(3)).expect("written");
    let out = sim(&["run", file.to_str().expect("UTF-8 path")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The file the memory figure runs is one a user could: valid, and
    // meeting its expectation (each dead row flipped once, nothing else).
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("soak"), "{stdout}");
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
