//! Exhaustive mode and the `explore:` block, as `sim run` prints them: the
//! TOCTOU scenarios fail `legacy` in some placement and never `hardened`,
//! counts and caps are printed, and a printed placement or seed reproduces
//! its violation when pasted back.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("the sim binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn corpus(rel: &str) -> String {
    format!("{}/../scenarios/{rel}", env!("CARGO_MANIFEST_DIR"))
}

/// A scratch scenario file, unique per test.
fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("exhaustive");
    std::fs::create_dir_all(&dir).expect("the scratch folder can be created");
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("the scratch file can be written");
    path
}

/// The exhaustive line of `scenario` / `variant`.
fn exhaustive_line<'a>(out: &'a str, scenario: &str, variant: &str) -> Option<&'a str> {
    let prefix = format!("  {scenario} / {variant}: ");
    out.lines()
        .skip_while(|l| !l.starts_with("exhaustive"))
        .take_while(|l| !l.is_empty())
        .find(|l| l.starts_with(&prefix))
}

/// `(explored, violated)` from `… / V: N schedules, K violated; …`.
fn counts(line: &str) -> (u64, u64) {
    let after = line.split_once(": ").expect("a report line").1;
    let explored = after
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .expect("a schedule count");
    let violated = after
        .split_once("schedules, ")
        .or_else(|| after.split_once("schedule, "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|w| w.parse().ok())
        .expect("a violated count");
    (explored, violated)
}

/// The TOCTOU files in which a manual restart meets the restart of a
/// correct flip: on the platform as merged that race is the platform's, and
/// it harms every variant (the same race on the hardened platform is
/// `scenarios/platform/restart-stop-manual-restart-hardened.yaml`, clean).
const PLATFORM_RACES: [&str; 2] = [
    "toctou-restart-begins-after-answer",
    "toctou-restart-begins-before-flip",
];

#[test]
fn toctou_scenarios_fail_legacy_in_some_schedule_and_hardened_in_none() {
    let out = sim(&["run", &corpus("toctou"), "--exhaustive"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let names: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("exhaustive"))
        .filter_map(|l| l.strip_prefix("  ")?.split_once(" / legacy: "))
        .map(|(n, _)| n.to_owned())
        .collect();
    assert!(names.len() >= 2, "too few TOCTOU scenarios:\n{text}");
    for name in &names {
        let legacy = exhaustive_line(&text, name, "legacy").expect("a legacy line");
        let (explored, violated) = counts(legacy);
        assert!(explored >= 1 && violated >= 1, "{legacy}");
        assert!(
            legacy.ends_with(')') && legacy.contains("; met ("),
            "{legacy}"
        );
        if PLATFORM_RACES.contains(&name.as_str()) {
            continue;
        }
        if let Some(hardened) = exhaustive_line(&text, name, "hardened") {
            let (explored, violated) = counts(hardened);
            assert!(explored >= 1, "{hardened}");
            assert_eq!(violated, 0, "{hardened}");
            assert!(
                hardened.ends_with("met (clean in every schedule)"),
                "{hardened}"
            );
        }
    }
    for name in PLATFORM_RACES {
        let hardened = exhaustive_line(&text, name, "hardened").expect("hardened runs");
        assert!(
            hardened.contains(
                "met (restart_harm/during_manual_restart restart_harm/racing_provisions shown"
            ),
            "{hardened}"
        );
    }
    // Two steps over the probes and answers of two passes: 6 × 6 (every
    // row is probed in both passes; the flipped ones are back online on new
    // instances by the second).
    let two = "toctou-sweep-and-restart-two-passes";
    let legacy = exhaustive_line(&text, two, "legacy").expect("the two-step scenario runs");
    assert!(legacy.contains(": 36 schedules, 16 violated"), "{legacy}");
    let hardened = exhaustive_line(&text, two, "hardened").expect("hardened runs");
    assert!(
        hardened.contains(": 36 schedules, 0 violated"),
        "{hardened}"
    );
}

#[test]
fn the_cap_is_printed_never_silent() {
    let file = corpus("toctou/sweep-and-restart-two-passes.yaml");
    let out = sim(&["run", &file, "--max-schedules", "10"]);
    let text = stdout(&out);
    for variant in ["legacy", "pr2283", "hardened"] {
        let line = exhaustive_line(&text, "toctou-sweep-and-restart-two-passes", variant)
            .expect("every variant is reported");
        assert!(line.contains(": capped at 10 of 36 schedules, "), "{line}");
    }
}

/// The two-step TOCTOU scenario with `pr2283` wrongly expected clean, and
/// a harmless placement as written (the manual restart strikes after ws-3's
/// answer, when ws-2 has long been flipped; on the hardened platform its
/// claim is refused while the flip's restart holds the row).
const PR2283_CLEAN: &str = "\
name: pr2283-expected-clean
about: The two-step race, with pr2283 wrongly expected to stay clean.
variants: [pr2283]
passes: 2
platform: { mode: hardened }
fleet:
  - { id: ws-1, status: online, instance: i-1, state: terminated }
  - { id: ws-2, status: online, instance: i-2, state: terminated }
  - { id: ws-3, status: online, instance: i-3, state: running }
steps:
  - on: after probe
    nth: 1
    do: orphan_sweep ws-1
  - on: after answer
    nth: 3
    do: restart ws-2
exhaustive: true
explore:
  seeds: 50
  actors: { restart: 0.1 }
expect:
  pr2283: { flips: [ws-2], violations: [] }
";

#[test]
fn a_failing_schedule_prints_a_placement_that_reproduces_when_pasted() {
    let file = scratch("pasted", PR2283_CLEAN);
    let file = file.to_str().expect("a UTF-8 path");
    let out = sim(&["run", file]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("pr2283-expected-clean") && l.ends_with(" met")),
        "the placement as written is clean:\n{text}"
    );
    let line = exhaustive_line(&text, "pr2283-expected-clean", "pr2283").expect("a report");
    let placement = line
        .split_once("first violating schedule ")
        .and_then(|(_, rest)| rest.split_once(" shows "))
        .expect("the failing placement is printed")
        .0;
    let nths: Vec<&str> = placement
        .split(", ")
        .map(|p| p.rsplit_once("-> nth: ").expect("step -> nth").1)
        .collect();
    assert_eq!(nths.len(), 2, "{line}");
    let mut written = PR2283_CLEAN.split("    nth: ");
    let mut pasted = written
        .next()
        .expect("text before the first nth")
        .to_owned();
    for (n, rest) in nths.iter().zip(written) {
        let (_, after) = rest.split_once('\n').expect("the nth line ends");
        pasted.push_str(&format!("    nth: {n}\n{after}"));
    }
    assert_ne!(
        pasted, PR2283_CLEAN,
        "the failing placement is not the one written"
    );
    let pasted_file = scratch(
        "pasted-placement",
        &pasted.replace("exhaustive: true\n", ""),
    );
    let replay = sim(&["run", pasted_file.to_str().expect("a UTF-8 path")]);
    let replay_text = stdout(&replay);
    assert_eq!(replay.status.code(), Some(1), "{replay_text}");
    let shown = line.rsplit_once(" shows ").expect("labels").1;
    for label in shown.split_whitespace() {
        assert!(
            replay_text.contains(&format!("unexpected violation {label}")),
            "{label} not reproduced:\n{replay_text}"
        );
    }
}

#[test]
fn a_step_whose_firings_an_earlier_step_removed_is_counted_as_unfired() {
    let file = scratch(
        "unfired",
        "\
name: purge-then-degrade
about: A purge at either select removes ws-1's later probes.
variants: [hardened]
passes: 2
fleet:
  - { id: ws-1, status: online, instance: i-1, state: running }
steps:
  - on: after select
    do: purge ws-1
  - on: before probe ws-1
    do: degrade ws-1
exhaustive: true
expect:
  hardened: { flips: [], violations: [] }
",
    );
    let out = sim(&["run", file.to_str().expect("a UTF-8 path")]);
    let text = stdout(&out);
    let line = exhaustive_line(&text, "purge-then-degrade", "hardened").expect("a report");
    // (1,1) (1,2): no probe of ws-1 after the first select; (2,2): none in
    // the second pass. (2,1) degrades ws-1 in the first pass.
    assert!(
        line.contains(": 4 schedules, 0 violated (3 with a step that never fired)"),
        "{line}"
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
}

#[test]
fn firings_an_earlier_step_adds_are_counted_not_silently_skipped() {
    let file = scratch(
        "grown",
        "\
name: resume-then-degrade
about: A resume at a select adds probes of ws-1 that the baseline never had.
variants: [hardened]
passes: 3
fleet:
  - { id: ws-1, status: paused, instance: i-1, state: stopped }
steps:
  - on: after select
    do: resume ws-1
  - on: before probe ws-1
    do: degrade ws-1
exhaustive: true
expect:
  hardened: { flips: [], violations: [] }
",
    );
    let out = sim(&["run", file.to_str().expect("a UTF-8 path")]);
    let text = stdout(&out);
    let line = exhaustive_line(&text, "resume-then-degrade", "hardened").expect("a report");
    // The paused row is never probed in the baseline (one placement of the
    // second step); a resume after the first or second select makes it
    // probed later, after the third it is not.
    assert!(
        line.contains(
            ": 3 schedules, 0 violated (1 with a step that never fired) \
             (2 with more firings than the baseline, not enumerated)"
        ),
        "{line}"
    );
}

/// The explore line of `scenario` / `variant`.
fn explore_line<'a>(out: &'a str, scenario: &str, variant: &str) -> Option<&'a str> {
    let prefix = format!("  {scenario} / {variant}: ");
    out.lines()
        .skip_while(|l| !l.starts_with("explore"))
        .find(|l| l.starts_with(&prefix))
}

#[test]
fn explore_block_keeps_hardened_clean_and_is_deterministic() {
    let file = corpus("toctou/sweep-and-restart-two-passes.yaml");
    let a = sim(&["run", &file]);
    let b = sim(&["run", &file]);
    assert_eq!(a.stdout, b.stdout, "same file, same binary, same output");
    let text = stdout(&a);
    assert_eq!(a.status.code(), Some(0), "{text}");
    let name = "toctou-sweep-and-restart-two-passes";
    let hardened = explore_line(&text, name, "hardened").expect("hardened explored");
    assert!(
        hardened.ends_with(": 200 seeds, 0 violated; met (clean in every seed)"),
        "{hardened}"
    );
    let legacy = explore_line(&text, name, "legacy").expect("legacy explored");
    assert!(
        legacy.contains(": 200 seeds, ") && legacy.contains("met (violations allowed)"),
        "{legacy}"
    );
}

#[test]
fn a_failing_explore_seed_prints_a_replay_command_that_reproduces_it() {
    let file = scratch("explore", PR2283_CLEAN);
    let out = sim(&["run", file.to_str().expect("a UTF-8 path")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = explore_line(&text, "pr2283-expected-clean", "pr2283").expect("explored");
    assert!(line.contains(": 50 seeds, "), "{line}");
    assert!(line.contains("NOT MET: expected clean"), "{line}");
    let command = text
        .lines()
        .skip_while(|l| !l.starts_with("explore"))
        .find_map(|l| l.trim().strip_prefix("replay: sim "))
        .expect("a replay command");
    let args: Vec<&str> = command.split_whitespace().collect();
    assert!(args.contains(&"--explore-seed"), "{command}");
    let replay = sim(&args);
    let replay_text = stdout(&replay);
    assert_eq!(replay.status.code(), Some(1), "{replay_text}");
    let shown = line
        .split_once(" shows ")
        .expect("labels")
        .1
        .lines()
        .next()
        .expect("one line");
    for label in shown.split_whitespace() {
        assert!(
            replay_text.contains(&format!("violation: {label} ")),
            "{label} not reproduced:\n{replay_text}"
        );
    }
}

#[test]
fn explore_seed_needs_an_explore_block() {
    let out = sim(&[
        "run",
        &corpus("toctou/orphan-sweep-after-select.yaml"),
        "--explore-seed",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs an `explore:` block"));
}
