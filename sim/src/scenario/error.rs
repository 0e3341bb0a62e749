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

/// Characters of the source line shown under an error: a longer line is cut
/// to this many around the column, so a 200,000-character line (a deeply
/// nested one-liner) still prints as one readable row.
pub const SNIPPET_WIDTH: usize = 100;

/// Characters of a message printed whole; past it, the middle is cut with a
/// count (a message may quote a huge scalar or list a huge fleet).
pub const MESSAGE_WIDTH: usize = 400;

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.at.line > 0 {
            write!(f, ":{}:{}", self.at.line, self.at.column)?;
        }
        write!(f, ": error: {}", shorten(&self.message, MESSAGE_WIDTH))?;
        if let Some(line) = &self.source_line {
            let width = self.at.line.to_string().len();
            let column = usize::try_from(self.at.column.saturating_sub(1)).unwrap_or(0);
            let (line, caret) = window(line, column, SNIPPET_WIDTH);
            let pad = " ".repeat(caret);
            write!(
                f,
                "\n{:width$} |\n{} | {line}\n{:width$} | {pad}^",
                "", self.at.line, ""
            )?;
        }
        Ok(())
    }
}

/// At most `width` characters of `line` around the 0-based character
/// `column`, with `…` where it was cut, and where the caret goes in it.
fn window(line: &str, column: usize, width: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= width {
        return (line.to_owned(), column);
    }
    let column = column.min(chars.len());
    let start = column.saturating_sub(width / 2).min(chars.len() - width);
    let end = start + width;
    let mut out = String::new();
    let mut caret = column - start;
    if start > 0 {
        out.push('…');
        caret += 1;
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    (out, caret)
}

/// `message` whole if it has at most `width` characters, else its head and
/// tail with the number of characters cut between them.
fn shorten(message: &str, width: usize) -> String {
    let count = message.chars().count();
    if count <= width {
        return message.to_owned();
    }
    let head: String = message.chars().take(width * 3 / 4).collect();
    let tail: String = message.chars().skip(count - width / 8).collect();
    let cut = count - width * 3 / 4 - width / 8;
    format!("{head} … ({cut} characters cut) … {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64, column: u64) -> Pos {
        Pos { line, column }
    }

    #[test]
    fn a_short_line_is_shown_whole_with_the_caret_under_the_column() {
        let e = ScenarioError::new(Path::new("f.yaml"), "a: 1\nbb: [x\n", at(2, 5), "bad");
        assert_eq!(
            e.to_string(),
            "f.yaml:2:5: error: bad\n  |\n2 | bb: [x\n  |     ^"
        );
    }

    #[test]
    fn a_long_line_is_cut_around_the_column_and_the_caret_follows() {
        let line = format!("{}X{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = ScenarioError::new(Path::new("f.yaml"), &line, at(1, 100_001), "deep");
        let text = e.to_string();
        let rows: Vec<&str> = text.lines().collect();
        assert!(
            rows.iter().all(|r| r.chars().count() < SNIPPET_WIDTH + 20),
            "{text}"
        );
        let source = rows[2].strip_prefix("1 | ").expect("the source row");
        let caret = rows[3].strip_prefix("  | ").expect("the caret row");
        let x = source
            .chars()
            .position(|c| c == 'X')
            .expect("the column is shown");
        assert_eq!(caret.chars().count() - 1, x, "{text}");
        assert!(source.starts_with('…') && source.ends_with('…'), "{source}");
    }

    #[test]
    fn a_column_at_either_end_of_a_long_line_keeps_the_caret_on_it() {
        let line = "y".repeat(1_000);
        for column in [1, 1_000, 1_001] {
            let e = ScenarioError::new(Path::new("f.yaml"), &line, at(1, column), "m");
            let text = e.to_string();
            let rows: Vec<&str> = text.lines().collect();
            let source = rows[2].strip_prefix("1 | ").expect("the source row");
            let caret = rows[3].strip_prefix("  | ").expect("the caret row");
            assert!(source.chars().count() <= SNIPPET_WIDTH + 2, "{text}");
            let c = caret.chars().count() - 1;
            let shown = source.chars().nth(c);
            assert!(
                shown == Some('y') || c == source.chars().count(),
                "{column}: {text}"
            );
        }
    }

    #[test]
    fn a_long_message_keeps_its_head_and_tail_and_says_how_much_was_cut() {
        let message = format!("head {} tail", "z".repeat(10_000));
        let e = ScenarioError::new(Path::new("f.yaml"), "", at(0, 0), message);
        let text = e.to_string();
        assert!(text.starts_with("f.yaml: error: head zzz"), "{text}");
        assert!(text.ends_with("zzz tail"), "{text}");
        assert!(text.contains(" characters cut) "), "{text}");
        assert!(text.chars().count() < MESSAGE_WIDTH + 60, "{text}");
    }
}
