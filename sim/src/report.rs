//! The JSON report of one `sim explore` run (`--json`): what the nightly
//! workflow's shards upload and what `sim merge` reads back. One type for
//! writing and reading, so the two cannot drift apart.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::explore::{Explored, Finding, Options, Plan, replay_command};

/// One exploration, as `sim explore --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExploreReport {
    /// The variant under test.
    pub variant: String,
    /// The first seed of the (unsharded) run.
    pub start_seed: u64,
    /// Seeds of the unsharded run; `null` for a wall-clock budget, which
    /// covers no fixed range and so cannot be merged.
    pub seeds: Option<u64>,
    /// This runner's shard, `I/N`.
    pub shard: String,
    /// Passes forced per seed, if any (the replay command needs them).
    pub passes: Option<u64>,
    /// The platform the seeds ran on (`as-merged` or `hardened`).
    pub platform: String,
    /// The `--find` label, if any.
    pub find: Option<String>,
    /// True when the run went on after its finding (`--keep-going`).
    pub keep_going: bool,
    /// Worker threads (informational: nothing else depends on it).
    pub jobs: usize,
    /// True when every seed of the shard ran; false when a finding (without
    /// `keep_going`) or the budget stopped it first.
    pub complete: bool,
    /// Counters over the seeds covered.
    pub summary: crate::explore::Summary,
    /// `<hex>/<seeds>` over the seeds covered, with `--digest`.
    pub digest: Option<String>,
    /// Wall time of the run (informational, never compared).
    pub wall_secs: f64,
    /// The lowest failing seed of the shard, if any.
    pub finding: Option<FindingReport>,
}

/// A finding as data: enough to report it and replay it elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingReport {
    /// The seed.
    pub seed: u64,
    /// The violation's kind.
    pub kind: String,
    /// `kind/sub`.
    pub label: String,
    /// The violation as the oracle words it.
    pub detail: String,
    /// The command that replays the seed.
    pub replay: String,
}

impl FindingReport {
    /// The report of `f`, found exploring `plan`.
    pub fn new(plan: &Plan, f: &Finding) -> Self {
        FindingReport {
            seed: f.seed,
            kind: f.violation.kind().as_str().to_owned(),
            label: f.violation.label(),
            detail: f.violation.to_string(),
            replay: replay_command(f.seed, plan.variant, plan.overrides),
        }
    }
}

impl ExploreReport {
    /// The report of `explored`, a run of `plan` with `options` that took
    /// `wall`.
    pub fn new(plan: &Plan, options: Options, explored: &Explored, wall: Duration) -> Self {
        ExploreReport {
            variant: plan.variant.as_str().to_owned(),
            start_seed: plan.start_seed,
            seeds: plan.seeds,
            shard: format!("{}/{}", plan.shard.index, plan.shard.count),
            passes: plan.overrides.passes,
            platform: plan.overrides.platform.as_str().to_owned(),
            find: plan.find.0.map(|l| l.to_string()),
            keep_going: options.keep_going,
            jobs: options.jobs.get(),
            complete: explored.complete,
            summary: explored.summary.clone(),
            digest: explored.digest.map(|d| d.to_string()),
            wall_secs: wall.as_secs_f64(),
            finding: explored
                .finding
                .as_ref()
                .map(|f| FindingReport::new(plan, f)),
        }
    }
}
