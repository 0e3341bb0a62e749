//! Scenario files: YAML race scripts that say, the way a review comment
//! would, which actor strikes where ("the orphan sweeper NULLs the instance
//! right after the candidate query"), and what each variant must do.
//!
//! The pipeline is one way: [`parse`] (YAML → [`model`], located YAML
//! errors) → [`validate`] (semantic checks, located) → [`Script`] → a run
//! driven by the [`ScriptDirector`] → a [`Verdict`]. [`load`] does the
//! first three for one file; nothing runs unless every file loads.

pub mod bounds;
pub mod budget;
pub mod director;
pub mod duration;
pub mod error;
pub mod exhaustive;
pub mod model;
pub mod parse;
pub mod runs;
pub mod script;
pub mod sections;
pub mod strikes;
pub mod syntax;
pub mod table;
pub mod validate;
pub mod verdict;

use std::path::{Path, PathBuf};

pub use director::{Firing, ScriptDirector};
pub use error::ScenarioError;
pub use script::{Expected, Explore, HookStep, Script};
pub use verdict::{
    FlipLog, ScriptRun, Verdict, judge, judge_flips, run_directed, run_directed_keeping,
    run_script, run_script_keeping, script_rules, script_setup, script_setup_timed,
};

/// Reads, parses and validates one scenario file.
pub fn load(file: &Path) -> Result<Script, Vec<ScenarioError>> {
    let (scenario, source) = parse::parse_file(file).map_err(|e| vec![e])?;
    validate::validate(file, &source, scenario)
}

/// Parses and validates scenario text as if read from `file`.
pub fn load_str(file: &Path, source: &str) -> Result<Script, Vec<ScenarioError>> {
    let scenario = parse::parse_str(file, source).map_err(|e| vec![e])?;
    validate::validate(file, source, scenario)
}

/// The scenario files under `paths`: files as given, folders searched
/// recursively for `*.yaml`, each folder's files in sorted order.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(ScenarioError {
                file: p.clone(),
                at: model::Pos::default(),
                message: "no such file or folder: expected a scenario file or a folder of them"
                    .to_owned(),
                source_line: None,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let read = std::fs::read_dir(dir).map_err(|e| ScenarioError {
        file: dir.to_path_buf(),
        at: model::Pos::default(),
        message: format!("cannot read the folder: {e}"),
        source_line: None,
    })?;
    let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}

/// Loads every file; returns the scripts, or every error of every file
/// (including names used by more than one file).
pub fn load_all(files: &[PathBuf]) -> Result<Vec<Script>, Vec<ScenarioError>> {
    let mut scripts: Vec<Script> = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match load(f) {
            Ok(s) => scripts.push(s),
            Err(mut e) => errors.append(&mut e),
        }
    }
    let mut seen: indexmap::IndexMap<String, PathBuf> = indexmap::IndexMap::new();
    for s in &scripts {
        if let Some(first) = seen.get(&s.name) {
            let source = std::fs::read_to_string(&s.file).unwrap_or_default();
            let at = s.name_at;
            errors.push(ScenarioError::new(
                &s.file,
                &source,
                at,
                format!(
                    "scenario name {:?} is already used by {}: expected names unique across the corpus",
                    s.name,
                    first.display()
                ),
            ));
        } else {
            seen.insert(s.name.clone(), s.file.clone());
        }
    }
    if errors.is_empty() {
        Ok(scripts)
    } else {
        Err(errors)
    }
}
