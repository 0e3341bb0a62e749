//! `scenarios/schema.json` is generated from the scenario types and must
//! stay in sync with them.

use std::path::Path;

#[test]
fn committed_schema_matches_the_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/schema.json");
    let generated = sim::scenario::model::schema_json();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("scenarios/schema.json is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "scenarios/schema.json is out of sync with sim/src/scenario/model.rs; regenerate it with\n  \
         cargo run -p sim -- schema > scenarios/schema.json\nor\n  \
         UPDATE_SCHEMA=1 cargo test -p sim --test schema"
    );
}

#[test]
fn every_scenario_declares_the_schema_on_its_first_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let files = sim::scenario::collect_files(&[root]).expect("the corpus is readable");
    assert!(!files.is_empty());
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        let depth = f
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios"))
            .map(|p| p.components().count() - 1)
            .unwrap_or(0);
        let expected = format!(
            "# yaml-language-server: $schema={}schema.json",
            "../".repeat(depth)
        );
        assert_eq!(
            text.lines().next(),
            Some(expected.as_str()),
            "{}: first line",
            f.display()
        );
    }
}
