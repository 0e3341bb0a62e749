//! YAML text to the [`Scenario`] model, with the YAML layer's errors
//! (syntax, unknown fields, wrong types, malformed durations, the limits of
//! [`budget`]) located and said in sentences.

use std::path::Path;

use super::budget;
use super::error::ScenarioError;
use super::model::{Pos, Scenario};
use crate::limits::MAX_FILE_BYTES;

/// Parses one scenario from `source`, read from `file`, within the limits
/// of [`budget`]: a file over the size limit is refused before it is read
/// as YAML, and one over the YAML limits as soon as the reader reaches them.
pub fn parse_str(file: &Path, source: &str) -> Result<Scenario, ScenarioError> {
    let bytes = u64::try_from(source.len()).unwrap_or(u64::MAX);
    if bytes > MAX_FILE_BYTES {
        return Err(whole_file(file, budget::file_too_big(bytes)));
    }
    if let Some(at) = budget::too_deep_at(source) {
        return Err(ScenarioError::new(file, source, at, budget::too_deep()));
    }
    serde_saphyr::from_str_with_options::<Scenario>(source, budget::options()).map_err(|e| {
        let at = e
            .location()
            .map(|l| Pos {
                line: l.line(),
                column: l.column(),
            })
            .unwrap_or_default();
        let message = match e.without_snippet() {
            serde_saphyr::Error::Budget { breach, .. } => budget::sentence(breach),
            inner => {
                let options = serde_saphyr::render_options! {
                    snippets: serde_saphyr::SnippetMode::Off,
                };
                explain(&strip_location(&inner.render_with_options(options)))
            }
        };
        ScenarioError::new(file, source, at, message)
    })
}

/// An error about the file as a whole (line 0: no line to point at).
fn whole_file(file: &Path, message: String) -> ScenarioError {
    ScenarioError {
        file: file.to_path_buf(),
        at: Pos::default(),
        message,
        source_line: None,
    }
}

/// The YAML layer speaks of Rust types and its own API (`invalid u64`,
/// `expected sequence start`, `set DuplicateKeyPolicy in Options`); say
/// what the file should hold instead. Messages found by fuzzing the parser
/// (`sim/tests/fuzz.rs`, `SIM_FUZZ_MESSAGES=1` lists them).
fn explain(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("invalid type: unit value, ") {
        return format!("found nothing (null): {rest}");
    }
    if message.starts_with("tagged enum ") {
        return "a YAML tag (`!name`) does not fit here: expected the plain value".to_owned();
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return format!("`{key}` is written twice in this mapping: expected each key once");
    }
    let expected = match message {
        "invalid u64" | "invalid u32" => "expected a whole number of 0 or more",
        "invalid f64" => "expected a number",
        "invalid bool" | "invalid boolean" => "expected true or false",
        "recursion limit exceeded" => return budget::too_deep(),
        "expected mapping start" => "expected a mapping (`key: value` entries) here",
        "expected sequence start" => "expected a list (`- item` lines or `[a, b]`) here",
        "expected string scalar" => "expected a text value here",
        "cannot deserialize null into string; use Option<String>" => {
            "expected a text value here, found nothing (null)"
        }
        "externally tagged enum expected scalar or mapping" => {
            "expected one of the listed names here (e.g. `running`, `legacy`)"
        }
        "unexpected value for unit enum variant" => {
            "expected just a name here (e.g. `running`), not a list or mapping"
        }
        _ => return message.to_owned(),
    };
    if expected.starts_with("expected") && !message.starts_with("invalid") {
        return expected.to_owned();
    }
    format!("{message}: {expected}")
}

/// Reads and parses one scenario file; its size is checked before it is
/// read, so a huge file costs nothing.
pub fn parse_file(file: &Path) -> Result<(Scenario, String), ScenarioError> {
    let cannot_read = |e: std::io::Error| whole_file(file, format!("cannot read the file: {e}"));
    let bytes = std::fs::metadata(file).map_err(cannot_read)?.len();
    if bytes > MAX_FILE_BYTES {
        return Err(whole_file(file, budget::file_too_big(bytes)));
    }
    let source = std::fs::read_to_string(file).map_err(cannot_read)?;
    let scenario = parse_str(file, &source)?;
    Ok((scenario, source))
}

/// The YAML layer appends where it was (" at line L column C", " (used at
/// line L, column C)", sometimes twice); the location is already printed in
/// front.
fn strip_location(message: &str) -> String {
    let mut m = message.trim_end();
    loop {
        let cut = [" (used at line ", " (defined at line ", " at line "]
            .into_iter()
            .filter_map(|marker| {
                let i = m.rfind(marker)?;
                let rest = m[i + marker.len()..].trim_end_matches(')');
                rest.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, ',' | ' ') || c.is_ascii_lowercase())
                    .then_some(i)
                    .filter(|_| rest.contains("column"))
            })
            .min();
        match cut {
            Some(i) => m = m[..i].trim_end(),
            None => return m.to_owned(),
        }
    }
}
