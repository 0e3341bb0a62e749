//! The reconciler's own log lines in simulated time: `sim replay --log
//! info` interleaves them with the world's events at the instant each was
//! emitted, and without `--log` the trace and its digest are what they were.

use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the sim binary runs")
}

const SEED: [&str; 8] = [
    "replay",
    "--seed",
    "0",
    "--variant",
    "hardened",
    "--platform",
    "hardened",
    "--digest",
];

/// The digest of this replay's trace before logs existed: the default
/// must not move.
const DIGEST_WITHOUT_LOGS: &str = "digest af6eb27872a0452d";

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

#[test]
fn the_guarded_write_that_matched_no_row_is_logged_at_its_instant() {
    let mut args = SEED.to_vec();
    args.extend(["--log", "info"]);
    let text = stdout(&sim(&args));
    let lines: Vec<&str> = text.lines().collect();
    let claim = lines
        .iter()
        .position(|l| l.contains("r0 claim") && l.contains("wrote=false"))
        .expect("seed 0's hardened run has a claim that matched no row");
    let at = lines[claim]
        .split_whitespace()
        .next()
        .expect("a time column");
    let log = lines[claim + 1];
    assert!(
        log.contains("log") && log.contains("flip: claim matched no row"),
        "the reconciler's own line follows the claim: {log}"
    );
    assert_eq!(
        log.split_whitespace().next(),
        Some(at),
        "the log line is stamped with the write's simulated instant"
    );
    let ws = lines[claim]
        .split_whitespace()
        .nth(3)
        .expect("the claim names its workspace");
    assert!(log.contains(&format!("workspace={ws}")), "{log}");
}

#[test]
fn without_log_the_trace_and_digest_are_unchanged() {
    let plain = stdout(&sim(&SEED));
    assert_eq!(plain.lines().last(), Some(DIGEST_WITHOUT_LOGS));
    assert!(!plain.contains("   log  "), "no log line unless asked");
    let mut args = SEED.to_vec();
    args.extend(["--log", "info"]);
    let logged = stdout(&sim(&args));
    // With --log the log lines are trace lines: the digest covers them...
    assert_ne!(logged.lines().last(), Some(DIGEST_WITHOUT_LOGS));
    // ...and taking them out gives back the plain trace, line for line.
    let strip = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.contains("   log  ") && !l.starts_with("digest"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(strip(&logged), strip(&plain));
}

#[test]
fn a_bad_log_filter_is_bad_input() {
    let mut args = SEED.to_vec();
    args.extend(["--log", "reconciler_core=notalevel"]);
    let out = sim(&args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
