//! The race picture is deterministic: the Mermaid diagram and the HTML
//! page's embedded data of two corpus findings are pinned, and drawing the
//! same run twice gives the same bytes.

use std::path::PathBuf;

use reconciler_core::Variant;
use sim::picture::{Picture, html, mermaid};
use sim::run::sim_runtime;
use sim::scenario::{load, run_script};

fn found(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/found")
        .join(name)
}

/// The diagram and the page's data (pretty-printed) of one finding.
fn draw(name: &str) -> (String, String, String) {
    let script = load(&found(name)).expect("a corpus file loads");
    let run = run_script(&sim_runtime(), &script, Variant::Pr2283);
    let trace = &run.outcome.trace;
    let violations = &run.outcome.violations;
    assert!(!violations.is_empty(), "{name} is a finding");
    let diagram = mermaid::diagram(trace, violations).expect("a violation has a diagram");
    let picture = Picture::new(format!("sim run {name}"), trace, violations);
    let data: serde_json::Value =
        serde_json::from_str(&html::data_json(&picture).expect("the data serializes"))
            .expect("the embedded data is JSON");
    let page = html::page(&picture).expect("the page renders");
    (
        diagram,
        serde_json::to_string_pretty(&data).expect("JSON prints"),
        page,
    )
}

#[test]
fn changed_after_reconfirm_is_pinned() {
    let (diagram, data, _) = draw("pr2283-unproven-flip-changed-after-reconfirm.yaml");
    insta::assert_snapshot!("changed_after_reconfirm_mermaid", diagram);
    insta::assert_snapshot!("changed_after_reconfirm_data", data);
}

#[test]
fn racing_provisions_is_pinned() {
    let (diagram, data, _) = draw("pr2283-restart-harm-racing-provisions.yaml");
    insta::assert_snapshot!("racing_provisions_mermaid", diagram);
    insta::assert_snapshot!("racing_provisions_data", data);
}

#[test]
fn the_same_run_draws_the_same_bytes() {
    let name = "pr2283-restart-harm-undid-owner.yaml";
    let (d1, _, p1) = draw(name);
    let (d2, _, p2) = draw(name);
    assert_eq!(d1, d2);
    assert_eq!(p1, p2);
}

#[test]
fn the_page_is_self_contained_and_marks_the_violation() {
    let (diagram, data, page) = draw("pr2283-unproven-flip-changed-after-reconfirm.yaml");
    for remote in ["http://", "https://", "<script src", "<link"] {
        assert!(!page.contains(remote), "the page must not load {remote}");
    }
    assert!(page.contains("id=\"data\""), "the data block is embedded");
    assert!(data.contains("unproven_flip/changed_after_reconfirm"));
    assert!(
        diagram.lines().count() <= mermaid::MAX_MESSAGES + 16,
        "a few dozen messages at most:\n{diagram}"
    );
    assert!(diagram.contains("VIOLATION unproven_flip/changed_after_reconfirm"));
}
