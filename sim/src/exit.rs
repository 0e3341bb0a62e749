//! How `sim` ends, as one enum: CI scripts branch on the exit code, so the
//! three meanings are named once here and nowhere else as bare numbers.

use std::process::ExitCode;

/// The exit status of every `sim` subcommand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: nothing wrong was found (every expectation met, no violation).
    Clean,
    /// 1: a violation was found, or an expectation was not met.
    Violation,
    /// 2: bad input (arguments, scenario files, a backend that cannot be
    /// used); nothing ran, or what ran was abandoned.
    BadInput,
}

impl Exit {
    /// The three codes as `--help` prints them.
    pub const HELP: &'static str = "Exit codes:\n  0  clean: no violation found, every expectation met\n  1  a violation was found, or an expectation was not met\n  2  bad input (arguments, scenario files, an unusable backend): nothing was run";

    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Violation => 1,
            Exit::BadInput => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_text_names_each_code_with_its_meaning() {
        for (exit, meaning) in [
            (Exit::Clean, "clean"),
            (Exit::Violation, "violation"),
            (Exit::BadInput, "bad input"),
        ] {
            let line = format!("  {}  ", exit.code());
            let row = Exit::HELP
                .lines()
                .find(|l| l.starts_with(&line))
                .unwrap_or_else(|| panic!("no line for {exit:?}"));
            assert!(row.contains(meaning), "{row}");
        }
    }
}
