//! A located error in a scenario file: the file, the line and column of the
//! offending node, and what was expected there.

use std::fmt;
use std::path::{Path, PathBuf};

use super::model::Pos;

/// One error in one scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// Where in it (line 0: the file as a whole, e.g. it cannot be read).
    pub at: Pos,
    /// What is wrong and what was expected.
    pub message: String,
    /// The offending source line, for the caret display.
    pub source_line: Option<String>,
}

impl ScenarioError {
    /// An error at `at` in `file`, quoting the line from `source`.
    pub fn new(file: &Path, source: &str, at: Pos, message: impl Into<String>) -> Self {
        let source_line = usize::try_from(at.line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .and_then(|l| source.lines().nth(l))
            .map(str::to_owned);
        Self {
            file: file.to_path_buf(),
            at,
            message: message.into(),
            source_line,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.at.line > 0 {
            write!(f, ":{}:{}", self.at.line, self.at.column)?;
        }
        write!(f, ": error: {}", self.message)?;
        if let Some(line) = &self.source_line {
            let width = self.at.line.to_string().len();
            let pad = " ".repeat(usize::try_from(self.at.column.saturating_sub(1)).unwrap_or(0));
            write!(
                f,
                "\n{:width$} |\n{} | {line}\n{:width$} | {pad}^",
                "", self.at.line, ""
            )?;
        }
        Ok(())
    }
}
