//! YAML text to the [`Scenario`] model, with the YAML layer's errors
//! (syntax, unknown fields, wrong types, malformed durations) located.

use std::path::Path;

use super::error::ScenarioError;
use super::model::{Pos, Scenario};

/// Parses one scenario from `source`, read from `file`.
pub fn parse_str(file: &Path, source: &str) -> Result<Scenario, ScenarioError> {
    serde_saphyr::from_str::<Scenario>(source).map_err(|e| {
        let at = e
            .location()
            .map(|l| Pos {
                line: l.line(),
                column: l.column(),
            })
            .unwrap_or_default();
        let options = serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        };
        let message = e.without_snippet().render_with_options(options);
        ScenarioError::new(file, source, at, explain(&strip_location(&message)))
    })
}

/// The YAML layer names a scalar it could not convert by its Rust type
/// (`invalid u64`); say what the file should hold instead.
fn explain(message: &str) -> String {
    let expected = match message.trim() {
        "invalid u64" | "invalid u32" => "expected a whole number of 0 or more",
        "invalid f64" => "expected a number",
        "invalid bool" => "expected true or false",
        _ => return message.to_owned(),
    };
    format!("{message}: {expected}")
}

/// Reads and parses one scenario file.
pub fn parse_file(file: &Path) -> Result<(Scenario, String), ScenarioError> {
    let source = std::fs::read_to_string(file).map_err(|e| ScenarioError {
        file: file.to_path_buf(),
        at: Pos::default(),
        message: format!("cannot read the file: {e}"),
        source_line: None,
    })?;
    let scenario = parse_str(file, &source)?;
    Ok((scenario, source))
}

/// The YAML layer appends " at line L column C" to its messages; the
/// location is already printed in front.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}
