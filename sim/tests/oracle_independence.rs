//! The oracle judges with definitions of its own (issue #12): a bug in one
//! of `reconciler-core`'s predicates must change the reconciler, not its
//! judge as well. This test reads the oracle's source and fails if it calls
//! a core predicate or reaches into the simulated world's internals (the
//! oracle sees the world only through the trace).
//!
//! It is a source check rather than a type-level one because Rust cannot
//! forbid a module from calling public methods of a type it may use; the
//! names below are every predicate `reconciler-core` exports.

use std::fs;
use std::path::{Path, PathBuf};

/// Core predicates and scope constants the oracle must not use, with the
/// oracle's own definition to use instead.
const FORBIDDEN: &[(&str, &str)] = &[
    (".is_terminal(", "definitions::terminal"),
    ("is_terminal)", "definitions::terminal"),
    (".is_live(", "definitions::live_status"),
    (".in_scope(", "definitions::in_scope"),
    (".live_instance(", "definitions::instance_of"),
    (".admits(", "definitions::in_scope"),
    (".after_cursor(", "its own ordering of ids"),
    ("LIVE_SCOPE", "definitions::in_scope"),
    ("LIVE_STATUSES", "definitions::live_status"),
    ("LEGACY_STATUSES", "definitions::live_status"),
    ("CandidateQuery", "definitions::in_scope"),
];

/// Modules of the simulated world and the system under test the oracle may
/// not import: it reads their effects from the trace only.
const FORBIDDEN_IMPORTS: &[&str] = &[
    "crate::world",
    "crate::platform",
    "crate::actors",
    "crate::store",
    "crate::control_plane",
    "crate::director",
    "crate::run",
    "reconciler_core::pass",
    "reconciler_core::hardened",
    "reconciler_core::legacy",
    "reconciler_core::pr2283",
];

fn oracle_sources() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/oracle");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

/// Every line of the oracle that uses a forbidden name, as `file:line: text`.
fn offences(patterns: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in oracle_sources() {
        let text = fs::read_to_string(&file).expect("oracle source is UTF-8");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for p in patterns {
                if code.contains(p) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn the_oracle_sources_are_found() {
    let files = oracle_sources();
    let names: Vec<_> = files
        .iter()
        .filter_map(|p| p.file_name()?.to_str())
        .collect();
    for expected in ["definitions.rs", "safety.rs", "harm.rs", "liveness.rs"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[test]
fn the_oracle_calls_no_core_predicate() {
    let patterns: Vec<&str> = FORBIDDEN.iter().map(|(p, _)| *p).collect();
    let found = offences(&patterns);
    assert!(
        found.is_empty(),
        "the oracle uses reconciler-core predicates; use its own definitions instead \
         ({}):\n{}",
        FORBIDDEN
            .iter()
            .map(|(p, own)| format!("{p} -> {own}"))
            .collect::<Vec<_>>()
            .join(", "),
        found.join("\n")
    );
}

#[test]
fn the_oracle_imports_neither_the_world_nor_the_reconciler_logic() {
    let found = offences(FORBIDDEN_IMPORTS);
    assert!(
        found.is_empty(),
        "the oracle must see the world only through the trace:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_planted_offence() {
    let line = "    if answer.is_terminal() && row.in_scope() {";
    let hits: Vec<_> = FORBIDDEN
        .iter()
        .filter(|(p, _)| line.contains(p))
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(hits, vec![".is_terminal(", ".in_scope("]);
}
