//! `--jobs` changes how fast an exploration runs, never what it reports:
//! for 1, 2 and 4 workers the summary, the digest and the reported failure
//! are the same, and the failure is the lowest failing seed, not the first
//! to finish. The same for `sim run`: its output is the same for every
//! number of workers.

use std::num::NonZeroUsize;

use reconciler_core::Variant;
use sim::director::Swarm;
use sim::explore::{Explored, Find, Options, Plan, Progress, Shard, explore_with};
use sim::run::{run_seed, sim_runtime};

struct Quiet;

impl Progress for Quiet {
    fn seed_done(&mut self, _done: u64, _seed: u64) -> bool {
        true
    }
}

fn plan(variant: Variant, seeds: u64, find: &str) -> Plan {
    Plan {
        variant,
        start_seed: 0,
        seeds: Some(seeds),
        shard: Shard::ALL,
        overrides: sim::director::Overrides::default(),
        find: if find.is_empty() {
            Find::default()
        } else {
            find.parse().expect("a known kind")
        },
    }
}

/// The run of `plan` on 1, 2 and 4 workers; asserts that all three report
/// the same and returns that report.
fn same_for_every_jobs(plan: &Plan, keep_going: bool) -> Explored {
    let runs: Vec<Explored> = [1, 2, 4]
        .into_iter()
        .map(|jobs| {
            let options = Options {
                jobs: NonZeroUsize::new(jobs).expect("jobs > 0"),
                keep_going,
                digest: true,
            };
            explore_with(plan, options, &mut Quiet)
        })
        .collect();
    let first = &runs[0];
    for (run, jobs) in runs.iter().zip([1, 2, 4]).skip(1) {
        assert_eq!(run.summary, first.summary, "summary with {jobs} jobs");
        assert_eq!(run.digest, first.digest, "digest with {jobs} jobs");
        assert_eq!(
            run.complete, first.complete,
            "completeness with {jobs} jobs"
        );
        let seed = |e: &Explored| e.finding.as_ref().map(|f| (f.seed, f.violation.clone()));
        assert_eq!(seed(run), seed(first), "finding with {jobs} jobs");
        let tail = |e: &Explored| e.finding.as_ref().map(|f| f.tail.clone());
        assert_eq!(tail(run), tail(first), "trace tail with {jobs} jobs");
    }
    runs.into_iter().next().expect("three runs")
}

#[test]
fn a_clean_run_reports_the_same_for_every_number_of_workers() {
    // Clean on the platform with the fix it needs (docs/decisions.md).
    let mut clean = plan(Variant::Hardened, 2_000, "");
    clean.overrides.platform = sim::world::PlatformMode::Hardened;
    let run = same_for_every_jobs(&clean, false);
    assert!(run.finding.is_none(), "hardened is clean");
    assert!(run.complete);
    assert_eq!(run.summary.seeds, 2_000);
    assert_eq!(run.digest.map(|d| d.seeds), Some(2_000));
    assert!(run.summary.simulated_us > 0);
}

/// True when seed `seed` of `plan` shows a violation `plan.find` matches.
fn fails(plan: &Plan, rt: &tokio::runtime::Runtime, seed: u64) -> bool {
    let outcome = run_seed(rt, plan.variant, &Swarm::from_seed(seed, plan.overrides));
    outcome.violations.iter().any(|v| plan.find.matches(v))
}

#[test]
fn a_failing_run_reports_the_lowest_failing_seed_for_every_number_of_workers() {
    // Seeds of `legacy` fail often, but this sub-reason first shows some way
    // into the range: the workers race past it on other seeds.
    let plan = plan(Variant::Legacy, 2_000, "restart_storm");
    let run = same_for_every_jobs(&plan, false);
    let finding = run
        .finding
        .expect("legacy shows a restart storm within 2,000 seeds");
    assert!(
        finding.seed > 16,
        "the finding should lie beyond the first chunk of seeds to test ordering (seed {})",
        finding.seed
    );
    // The summary covers exactly the seeds up to and including the finding.
    assert_eq!(run.summary.seeds, finding.seed + 1);
    assert_eq!(run.digest.map(|d| d.seeds), Some(finding.seed + 1));
    assert!(!run.complete);
    // No lower seed fails that way: it is the lowest, not the first to end.
    let rt = sim_runtime();
    assert!(fails(&plan, &rt, finding.seed));
    let lower = (0..finding.seed).find(|&s| fails(&plan, &rt, s));
    assert_eq!(lower, None, "a lower seed fails too");
}

#[test]
fn keep_going_covers_every_seed_and_still_reports_the_lowest_failure() {
    let find = "unproven_flip/instance_cleared";
    let stopping = same_for_every_jobs(&plan(Variant::Legacy, 600, find), false);
    let going = same_for_every_jobs(&plan(Variant::Legacy, 600, find), true);
    assert!(going.complete);
    assert_eq!(going.summary.seeds, 600);
    assert_eq!(going.digest.map(|d| d.seeds), Some(600));
    let seed = |e: &Explored| e.finding.as_ref().map(|f| f.seed);
    assert!(seed(&going).is_some());
    assert_eq!(seed(&going), seed(&stopping));
    let unproven = going.summary.seeds_with["unproven_flip"];
    assert!(
        unproven > stopping.summary.seeds_with["unproven_flip"],
        "seeds past the finding are counted ({unproven})"
    );
}

/// `sim run ARGS --jobs J`: exit code and stdout.
fn sim_run(args: &[&str], jobs: &str) -> (Option<i32>, String) {
    let corpus = format!("{}/../scenarios", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sim"))
        .arg("run")
        .arg(&corpus)
        .args(args)
        .args(["--jobs", jobs])
        .output()
        .expect("the sim binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn sim_run_prints_the_same_for_every_number_of_workers() {
    // The whole corpus with every trace, every placement of every file's
    // hook steps, and the `explore:` blocks' seeds.
    let args = ["--exhaustive", "--trace"];
    let (code, one) = sim_run(&args, "1");
    assert_eq!(code, Some(0), "the corpus meets its expectations:\n{one}");
    assert!(one.contains("exhaustive (every placement"), "{one}");
    assert!(one.contains("explore (random strikes"), "{one}");
    for jobs in ["2", "4"] {
        let (code_n, many) = sim_run(&args, jobs);
        assert_eq!(code_n, code, "exit code with {jobs} jobs");
        assert!(many == one, "output with {jobs} jobs differs from --jobs 1");
    }
}
