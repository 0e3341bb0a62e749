//! `sim merge`: the JSON reports of the `N` shards of one exploration
//! (`sim explore --shard I/N --json`, one per runner) put back together into
//! the report of the whole run.
//!
//! Every counter of a summary is a sum over seeds and the digest is an XOR
//! over seeds, so shards that each covered all their seeds merge into
//! exactly the unsharded run's summary and digest. The lowest failing seed
//! is exact in every case: each shard reports its own lowest, and the run's
//! lowest is the lowest of those. A shard explored without `--keep-going`
//! stops at its own first finding, though, so on a failing variant the
//! merged counters cover each shard's seeds up to its own finding — not a
//! range any single run covers; the report says so. Files that do not form
//! one whole run (another variant or range, a shard missing or twice, a
//! wall-clock budget) are refused, each with its reason.

use std::fmt;
use std::path::{Path, PathBuf};

use reconciler_core::Variant;
use serde::Serialize;

use crate::digest::TraceDigest;
use crate::explore::{Find, Shard, Summary};
use crate::report::{ExploreReport, FindingReport};

/// Why a set of files is not one run's shards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeError {
    /// The file concerned, when the problem is one file's.
    pub file: Option<PathBuf>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl MergeError {
    fn at(file: &Path, message: impl Into<String>) -> Self {
        MergeError {
            file: Some(file.to_path_buf()),
            message: message.into(),
        }
    }
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}: {}", file.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The whole run, put back together.
#[derive(Clone, Debug, Serialize)]
pub struct Merged {
    /// The variant under test.
    pub variant: String,
    /// The first seed of the run.
    pub start_seed: u64,
    /// Seeds of the run.
    pub seeds: u64,
    /// How many shards it was split into.
    pub shards: u64,
    /// Passes forced per seed, if any.
    pub passes: Option<u64>,
    /// The platform the seeds ran on.
    pub platform: String,
    /// The `--find` label, if any.
    pub find: Option<String>,
    /// True when the shards went on after their findings.
    pub keep_going: bool,
    /// True when every shard ran all its seeds: the summary and digest are
    /// then those of the unsharded run.
    pub complete: bool,
    /// The shards' counters added up.
    pub summary: Summary,
    /// The shards' digests combined, when every shard has one.
    pub digest: Option<String>,
    /// The lowest failing seed over all shards.
    pub finding: Option<MergedFinding>,
    /// Shards that stopped at their own finding before running all their
    /// seeds.
    pub stopped: Vec<String>,
    /// Files without a digest (explored without `--digest`).
    pub undigested: Vec<PathBuf>,
}

/// The lowest failing seed, and the shard that found it.
#[derive(Clone, Debug, Serialize)]
pub struct MergedFinding {
    /// `I/N`.
    pub shard: String,
    /// The finding as the shard reported it.
    #[serde(flatten)]
    pub finding: FindingReport,
}

/// The `*.json` files of each folder in `paths` (sorted), and the files
/// given as such.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, MergeError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let read = std::fs::read_dir(p)
                .map_err(|e| MergeError::at(p, format!("cannot read the folder: {e}")))?;
            let mut files: Vec<PathBuf> = read
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(MergeError::at(
                p,
                "no such file or folder: expected a shard's JSON report or a folder of them",
            ));
        }
    }
    Ok(out)
}

/// One shard's report, checked on its own.
struct ShardFile {
    file: PathBuf,
    report: ExploreReport,
    shard: Shard,
    seeds: u64,
    digest: Option<TraceDigest>,
}

/// Reads and checks one report.
fn read(file: &Path) -> Result<ShardFile, MergeError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| MergeError::at(file, format!("cannot read: {e}")))?;
    let report: ExploreReport = serde_json::from_str(&text).map_err(|e| {
        let at = format!(" at line {} column {}", e.line(), e.column());
        let message = e.to_string();
        let message = message.strip_suffix(&at).unwrap_or(&message);
        MergeError::at(
            file,
            format!(
                "line {}, column {}: {message}: expected the JSON report of `sim explore --json`",
                e.line(),
                e.column()
            ),
        )
    })?;
    let bad = |message: String| MergeError::at(file, message);
    report
        .variant
        .parse::<Variant>()
        .map_err(|e| bad(format!("variant: {e}")))?;
    if let Some(f) = &report.find {
        f.parse::<Find>().map_err(|e| bad(format!("find: {e}")))?;
    }
    let shard: Shard = report
        .shard
        .parse()
        .map_err(|e| bad(format!("shard: {e}")))?;
    let seeds = report.seeds.ok_or_else(|| {
        bad(
            "explored with a wall-clock budget (--duration): only runs of a fixed \
             number of seeds (--seeds) cover a known range and can be merged"
                .to_owned(),
        )
    })?;
    let own = shard.seeds_of(seeds);
    let covered = report.summary.seeds;
    if report.complete && covered != own {
        return Err(bad(format!(
            "says it ran every seed of shard {} but counts {covered} of its {own}",
            report.shard
        )));
    }
    if !report.complete && (report.finding.is_none() || report.keep_going || covered > own) {
        return Err(bad(format!(
            "covers {covered} of the {own} seeds of shard {} without stopping at a finding: \
             expected a complete shard (was the run cut short?)",
            report.shard
        )));
    }
    let digest = match &report.digest {
        None => None,
        Some(d) => {
            let d: TraceDigest = d.parse().map_err(|e| bad(format!("digest: {e}")))?;
            if d.seeds != covered {
                return Err(bad(format!(
                    "the digest covers {} seeds but the summary {covered}",
                    d.seeds
                )));
            }
            Some(d)
        }
    };
    Ok(ShardFile {
        file: file.to_path_buf(),
        report,
        shard,
        seeds,
        digest,
    })
}

/// What the shards of one run share, as text for messages.
fn identity(s: &ShardFile) -> Vec<(&'static str, String)> {
    let r = &s.report;
    vec![
        ("variant", r.variant.clone()),
        ("start_seed", r.start_seed.to_string()),
        ("seeds", s.seeds.to_string()),
        ("shard count", s.shard.count.to_string()),
        (
            "passes",
            r.passes
                .map_or_else(|| "drawn".to_owned(), |p| p.to_string()),
        ),
        ("platform", r.platform.clone()),
        ("find", r.find.clone().unwrap_or_else(|| "any".to_owned())),
        ("keep_going", r.keep_going.to_string()),
    ]
}

/// Merges the reports in `files` (every shard of one run, once each);
/// every problem found, if any.
pub fn merge(files: &[PathBuf]) -> Result<Merged, Vec<MergeError>> {
    if files.is_empty() {
        return Err(vec![MergeError {
            file: None,
            message: "no shard reports (*.json) to merge".to_owned(),
        }]);
    }
    let mut errors = Vec::new();
    let mut shards: Vec<ShardFile> = Vec::new();
    for f in files {
        match read(f) {
            Ok(s) => shards.push(s),
            Err(e) => errors.push(e),
        }
    }
    let Some(first) = shards.first() else {
        return Err(errors);
    };
    let want = identity(first);
    for s in &shards[1..] {
        for ((field, expected), (_, got)) in want.iter().zip(identity(s)) {
            if *expected != got {
                errors.push(MergeError::at(
                    &s.file,
                    format!(
                        "{field} is {got}, but {} says {expected}: expected the shards of one run",
                        first.file.display()
                    ),
                ));
            }
        }
    }
    let count = first.shard.count;
    let mut by_index: Vec<Option<&ShardFile>> = vec![None; usize::try_from(count).unwrap_or(0)];
    for s in shards.iter().filter(|s| s.shard.count == count) {
        let slot = usize::try_from(s.shard.index)
            .ok()
            .and_then(|i| by_index.get_mut(i));
        match slot {
            Some(Some(other)) => errors.push(MergeError::at(
                &s.file,
                format!(
                    "shard {} again (also in {}): expected each shard once",
                    s.report.shard,
                    other.file.display()
                ),
            )),
            Some(slot) => *slot = Some(s),
            None => {}
        }
    }
    let missing: Vec<String> = by_index
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() && errors.is_empty() {
        errors.push(MergeError {
            file: None,
            message: format!(
                "missing shard{} {}: expected the report of each of the {count} shards once",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            ),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(combine(&shards))
}

/// Adds up shards already known to form one whole run.
fn combine(shards: &[ShardFile]) -> Merged {
    let first = &shards[0];
    let mut summary = Summary::default();
    let mut digest = Some(TraceDigest::default());
    let mut finding: Option<MergedFinding> = None;
    let position = |seed: u64| seed.wrapping_sub(first.report.start_seed);
    for s in shards {
        summary.combine(&s.report.summary);
        digest = digest.zip(s.digest).map(|(a, b)| a.combine(b));
        if let Some(f) = &s.report.finding
            && finding
                .as_ref()
                .is_none_or(|best| position(f.seed) < position(best.finding.seed))
        {
            finding = Some(MergedFinding {
                shard: s.report.shard.clone(),
                finding: f.clone(),
            });
        }
    }
    Merged {
        variant: first.report.variant.clone(),
        start_seed: first.report.start_seed,
        seeds: first.seeds,
        shards: first.shard.count,
        passes: first.report.passes,
        platform: first.report.platform.clone(),
        find: first.report.find.clone(),
        keep_going: first.report.keep_going,
        complete: shards.iter().all(|s| s.report.complete),
        summary,
        digest: digest.map(|d| d.to_string()),
        finding,
        stopped: shards
            .iter()
            .filter(|s| !s.report.complete)
            .map(|s| s.report.shard.clone())
            .collect(),
        undigested: shards
            .iter()
            .filter(|s| s.digest.is_none())
            .map(|s| s.file.clone())
            .collect(),
    }
}

impl fmt::Display for Merged {
    /// The merged report as `sim merge` prints it: the run, the counters,
    /// the digest, and the lowest failing seed with its replay command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "merged {} shards: variant {}, platform {}, seeds {}..{} ({} seeds), passes {}{}{}",
            self.shards,
            self.variant,
            self.platform,
            self.start_seed,
            self.start_seed.wrapping_add(self.seeds),
            self.seeds,
            self.passes
                .map_or_else(|| "drawn per seed".to_owned(), |p| p.to_string()),
            self.find
                .as_ref()
                .map_or_else(String::new, |k| format!(", find {k}")),
            if self.keep_going { ", keep going" } else { "" }
        )?;
        write!(f, "{}", self.summary)?;
        match (&self.digest, self.undigested.len()) {
            (Some(d), _) => writeln!(f, "digest {d}")?,
            (None, n) => writeln!(
                f,
                "digest: none ({n} of {} shards explored without --digest)",
                self.shards
            )?,
        }
        if !self.stopped.is_empty() {
            writeln!(
                f,
                "note: {} of {} shards stopped at their own first violation (explored without \
                 --keep-going):\n      the counts cover each shard's seeds up to its own \
                 finding, not the {} seeds of the run;\n      the lowest failing seed below is \
                 exact",
                self.stopped.len(),
                self.shards,
                self.seeds
            )?;
        }
        match &self.finding {
            None => writeln!(f, "no violation found"),
            Some(m) => {
                writeln!(
                    f,
                    "lowest failing seed {} (shard {}): {}",
                    m.finding.seed, m.shard, m.finding.detail
                )?;
                writeln!(f, "replay with:\n  {}", m.finding.replay)
            }
        }
    }
}
