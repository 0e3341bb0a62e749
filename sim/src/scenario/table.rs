//! What `sim run` prints about its runs: the verdict table (one row per
//! scenario × variant, long lists cut to a readable width with a count),
//! the same rows in full as JSON (`--json`), and the closing summary with
//! its exit status.

use std::fmt::Write as _;

use serde_json::json;

use super::{Script, Verdict};
use crate::exit::Exit;

/// Characters a flips or violations cell holds before it is cut to its
/// first and last entries and a count (`ws-200 … ws-249, 50 rows`): 50
/// flips used to make a 1,000-character row.
pub const CELL_WIDTH: usize = 40;

/// `items` joined by spaces, or `-` when empty; past [`CELL_WIDTH`], the
/// first and last with how many there are (`first … last, N nouns`).
pub fn cell(items: &[String], noun: &str) -> String {
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return "-".to_owned();
    };
    let joined = items.join(" ");
    if joined.chars().count() <= CELL_WIDTH {
        return joined;
    }
    format!("{first} … {last}, {} {noun}", items.len())
}

/// The verdict table: scenario, variant, flips, violations, expectation.
pub fn render(rows: &[(&Script, Verdict)]) -> String {
    let name_w = rows
        .iter()
        .map(|(s, _)| s.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let table: Vec<[String; 5]> = rows
        .iter()
        .map(|(s, v)| {
            let flips: Vec<String> = v.flips.iter().map(ToString::to_string).collect();
            [
                s.name.clone(),
                v.variant.to_string(),
                cell(&flips, "rows"),
                cell(&v.labels, "labels"),
                if v.met() { "met" } else { "NOT MET" }.to_owned(),
            ]
        })
        .collect();
    let width = |i: usize, min: usize| {
        table
            .iter()
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
            .max(min)
    };
    let (flips_w, viol_w) = (width(2, 5), width(3, 10));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<name_w$}  {:<8}  {:<flips_w$}  {:<viol_w$}  expectation",
        "scenario", "variant", "flips", "violations"
    );
    for [n, v, f, vi, m] in table {
        let _ = writeln!(
            out,
            "{n:<name_w$}  {v:<8}  {f:<flips_w$}  {vi:<viol_w$}  {m}"
        );
    }
    out
}

/// The command that replays one row, with its trace.
fn replay(script: &Script, v: &Verdict) -> String {
    format!(
        "sim run {} --variant {} --trace",
        script.file.display(),
        v.variant
    )
}

/// The command that writes the run's picture (`--html`), named after the
/// scenario and variant.
fn picture(script: &Script, v: &Verdict) -> String {
    format!(
        "sim run {} --variant {} --html {}-{}.html",
        script.file.display(),
        v.variant,
        script
            .file
            .file_stem()
            .map_or_else(|| "run".into(), |s| s.to_string_lossy()),
        v.variant
    )
}

/// Every row in full (no list is cut), and the count of exhaustive/explore
/// verdicts not met (`sections_not_met`), as one JSON document.
pub fn json(rows: &[(&Script, Verdict)], sections_not_met: usize) -> serde_json::Value {
    let runs: Vec<serde_json::Value> = rows
        .iter()
        .map(|(s, v)| {
            json!({
                "scenario": s.name,
                "file": s.file.display().to_string(),
                "variant": v.variant.as_str(),
                "flips": v.flips.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "violations": v.labels,
                "met": v.met(),
                "differences": v.differences,
                "replay": replay(s, v),
            })
        })
        .collect();
    json!({
        "runs": runs,
        "not_met": rows.iter().filter(|(_, v)| !v.met()).count(),
        "sections_not_met": sections_not_met,
    })
}

/// The closing summary after the table and any exhaustive/explore
/// sections (`sections_not_met` of whose verdicts were not met), and how
/// `sim run` exits: clean only when every verdict was met.
pub fn summary(rows: &[(&Script, Verdict)], sections_not_met: usize) -> (String, Exit) {
    let unmet = rows.iter().filter(|(_, v)| !v.met()).count();
    let mut out = String::new();
    if unmet == 0 && sections_not_met > 0 {
        let _ = writeln!(
            out,
            "\n{sections_not_met} exhaustive/explore verdict(s) NOT MET (above)"
        );
        return (out, Exit::Violation);
    }
    if unmet == 0 {
        let _ = writeln!(out, "\n{} runs, every expectation met", rows.len());
        return (out, Exit::Clean);
    }
    let _ = writeln!(
        out,
        "\n{} runs, {unmet} expectation{} NOT MET{}:",
        rows.len(),
        if unmet == 1 { "" } else { "s" },
        match sections_not_met {
            0 => String::new(),
            n => format!(" (and {n} exhaustive/explore verdict(s) above)"),
        }
    );
    for (script, v) in rows.iter().filter(|(_, v)| !v.met()) {
        let _ = writeln!(
            out,
            "\n{} / {} ({})",
            script.name,
            v.variant,
            script.file.display()
        );
        for d in &v.differences {
            let _ = writeln!(out, "  {d}");
        }
        let _ = writeln!(out, "  replay: {}", replay(script, v));
        let _ = writeln!(out, "  picture: {}", picture(script, v));
    }
    (out, Exit::Violation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::Range<u32>) -> Vec<String> {
        range.map(|i| format!("ws-{i}")).collect()
    }

    #[test]
    fn short_lists_are_shown_whole() {
        assert_eq!(cell(&[], "rows"), "-");
        assert_eq!(cell(&ids(1..4), "rows"), "ws-1 ws-2 ws-3");
    }

    #[test]
    fn long_lists_are_cut_to_first_last_and_a_count() {
        assert_eq!(cell(&ids(200..250), "rows"), "ws-200 … ws-249, 50 rows");
    }

    #[test]
    fn a_list_that_just_fits_is_not_cut() {
        let items: Vec<String> = (0..8).map(|i| format!("ws-{i}")).collect();
        let joined = items.join(" ");
        assert!(joined.len() <= CELL_WIDTH);
        assert_eq!(cell(&items, "rows"), joined);
    }
}
