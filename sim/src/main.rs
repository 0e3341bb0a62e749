//! `sim`: explore seeds, replay one, run scenario files.
//!
//! Exit codes: 0 clean (every expectation met), 1 a violation was found (an
//! expectation was not met), 2 bad input.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reconciler_core::Variant;
use sim::digest::TraceDigest;
use sim::director::Swarm;
use sim::explore::{Find, Plan, Progress, Shard, Summary, explore, replay_command};
use sim::run::{run_seed, sim_runtime};
use sim::trace::Trace;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sim",
    version,
    about = "Deterministic simulation of the instance-state reconciler"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run random seeds (swarm testing) and stop at the first violation.
    Explore(ExploreArgs),
    /// Re-run one seed and print its settings, full trace and verdict.
    Replay(ReplayArgs),
    /// Measure time compression, throughput, time to each known bug, a
    /// real-time baseline and peak memory.
    Bench(sim::bench::BenchArgs),
    /// Run scenario files (or folders of them) and check their expectations.
    Run(RunArgs),
    /// Print the JSON Schema of scenario files (scenarios/schema.json).
    Schema,
    /// Turn a failing seed into the smallest scenario file that still shows
    /// the violation, and write it.
    Shrink(ShrinkArgs),
}

#[derive(clap::Args)]
struct ShrinkArgs {
    /// The failing seed (as printed by `explore`).
    #[arg(long)]
    seed: u64,
    /// The variant it fails.
    #[arg(long)]
    variant: Variant,
    /// Force the number of passes, as the exploring run did.
    #[arg(long)]
    passes: Option<u64>,
    /// The violation to keep (label prefix, e.g. `unproven_flip/row_gone`);
    /// default: the run's first violation.
    #[arg(long)]
    find: Option<Find>,
    /// Where to write the scenario (e.g. scenarios/found/NAME.yaml).
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenario files, or folders searched recursively for *.yaml.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Run only this variant (of those each file names).
    #[arg(long)]
    variant: Option<Variant>,
    /// Print the full trace of every run.
    #[arg(long)]
    trace: bool,
    /// Enumerate every placement of every file's hook steps (files with
    /// `exhaustive: true` always are).
    #[arg(long)]
    exhaustive: bool,
    /// Schedules per scenario and variant before exhaustive mode stops
    /// (and says so).
    #[arg(long, default_value_t = sim::scenario::exhaustive::DEFAULT_MAX_SCHEDULES)]
    max_schedules: u64,
    /// Run each file with the random strikes of this seed of its
    /// `explore:` block (instead of the exhaustive and explore sections).
    #[arg(long, conflicts_with = "exhaustive")]
    explore_seed: Option<u64>,
    /// Where the reconciler's store lives: the simulated table, or a scratch
    /// database on the Postgres server named by DATABASE_URL (needs a build
    /// with `--features postgres`; scenarios marked `sim_only` are skipped;
    /// the exhaustive and explore sections stay on the simulator).
    #[arg(long, value_enum, default_value = "sim", conflicts_with_all = ["exhaustive", "explore_seed"])]
    backend: Backend,
}

/// The store backends `sim run` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    /// The simulated table (no setup).
    Sim,
    /// A real Postgres, from DATABASE_URL.
    Postgres,
}

#[derive(clap::Args)]
struct ExploreArgs {
    /// Variant under test: legacy, pr2283, hardened.
    #[arg(long, default_value = "hardened")]
    variant: Variant,
    /// Seeds in the (unsharded) run.
    #[arg(long, conflicts_with = "duration")]
    seeds: Option<u64>,
    /// Wall-clock budget instead of a seed count (e.g. 30s, 5m).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    start_seed: u64,
    /// Run only shard I of N (seeds whose position is I modulo N).
    #[arg(long, default_value = "0/1")]
    shard: Shard,
    /// Force the number of passes per seed instead of drawing it.
    #[arg(long)]
    passes: Option<u64>,
    /// Stop only at violations whose label starts with this (e.g.
    /// `unproven_flip`, `unproven_flip/instance_changed`).
    #[arg(long)]
    find: Option<Find>,
    /// Print the summary (and finding) as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Also print `digest <hex>/<seeds>` on stdout: a digest of every
    /// seed's trace hash, for comparing runs (see `ci/check.sh`).
    #[arg(long, conflicts_with = "json")]
    digest: bool,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// The seed to replay.
    #[arg(long)]
    seed: u64,
    /// Variant under test.
    #[arg(long, default_value = "hardened")]
    variant: Variant,
    /// Force the number of passes, as the exploring run did.
    #[arg(long)]
    passes: Option<u64>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a duration like 30s or 5m, got {s:?}"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use s, m or h")),
    };
    if secs == 0 {
        return Err("duration must be greater than zero".to_owned());
    }
    Ok(Duration::from_secs(secs))
}

/// The progress bar and the wall-clock budget. Wall time only ever decides
/// when to stop looking, never what a seed does.
struct Bar {
    bar: ProgressBar,
    #[allow(
        clippy::disallowed_methods,
        reason = "the exploration budget is wall-clock by nature; it never reaches a trace"
    )]
    started: std::time::Instant,
    budget: Option<Duration>,
    digest: Option<TraceDigest>,
}

impl Progress for Bar {
    fn seed_done(&mut self, done: u64, _seed: u64) -> bool {
        if done.is_multiple_of(64) {
            self.bar.set_position(done);
        }
        self.budget.is_none_or(|b| self.started.elapsed() < b)
    }

    fn seed_trace(&mut self, seed: u64, trace: &Trace) {
        if let Some(d) = &mut self.digest {
            d.add(seed, trace.hash());
        }
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "wall time measures the exploration itself, outside the simulation"
)]
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}

fn explore_cmd(args: ExploreArgs) -> ExitCode {
    let seeds = match (args.seeds, args.duration) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => None,
        (None, None) => Some(10_000),
    };
    let plan = Plan {
        variant: args.variant,
        start_seed: args.start_seed,
        seeds,
        shard: args.shard,
        passes: args.passes,
        find: args.find.unwrap_or_default(),
    };
    let target = if std::io::stderr().is_terminal() && !args.json {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(seeds.map(|n| n.div_ceil(plan.shard.count)), target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} seeds  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = wall_now();
    let mut progress = Bar {
        bar,
        started,
        budget: args.duration,
        digest: args.digest.then(TraceDigest::default),
    };
    eprintln!(
        "exploring variant {} from seed {} ({}), shard {}/{}",
        plan.variant,
        plan.start_seed,
        seeds.map_or_else(
            || format!("for {:?}", args.duration.unwrap_or_default()),
            |n| format!("{n} seeds")
        ),
        plan.shard.index,
        plan.shard.count
    );
    let (summary, finding) = explore(&plan, &mut progress);
    progress.bar.finish_and_clear();
    let wall = started.elapsed();
    if args.json {
        print_json(&plan, &summary, finding.as_ref(), wall);
    } else {
        print_summary(&summary, wall);
    }
    if let Some(d) = progress.digest {
        println!("digest {d}");
    }
    match finding {
        None => {
            eprintln!("no violation found");
            ExitCode::SUCCESS
        }
        Some(f) => {
            eprintln!(
                "\nVIOLATION with seed {} (variant {}):",
                f.seed, plan.variant
            );
            eprintln!("  {}", f.violation);
            for other in f.all.iter().filter(|v| **v != f.violation).take(5) {
                eprintln!("  also: {other}");
            }
            eprintln!("\nlast trace lines:\n{}", f.tail);
            eprintln!(
                "replay with:\n  {}",
                replay_command(f.seed, plan.variant, plan.passes)
            );
            ExitCode::from(1)
        }
    }
}

fn print_summary(summary: &Summary, wall: Duration) {
    eprint!("{summary}");
    let secs = wall.as_secs_f64().max(1e-9);
    eprintln!(
        "wall time        {secs:.2} s ({:.0} seeds/s)",
        summary.seeds as f64 / secs
    );
}

fn print_json(
    plan: &Plan,
    summary: &Summary,
    finding: Option<&sim::explore::Finding>,
    wall: Duration,
) {
    let finding = finding.map(|f| {
        serde_json::json!({
            "seed": f.seed,
            "kind": f.violation.kind.as_str(),
            "label": f.violation.label(),
            "detail": f.violation.to_string(),
            "replay": replay_command(f.seed, plan.variant, plan.passes),
        })
    });
    let out = serde_json::json!({
        "variant": plan.variant.as_str(),
        "start_seed": plan.start_seed,
        "shard": format!("{}/{}", plan.shard.index, plan.shard.count),
        "summary": summary,
        "wall_secs": wall.as_secs_f64(),
        "finding": finding,
    });
    println!("{out}");
}

fn replay_cmd(args: ReplayArgs) -> ExitCode {
    let swarm = Swarm::from_seed(args.seed, args.passes);
    let rt = sim_runtime();
    let outcome = run_seed(&rt, args.variant, &swarm);
    println!("variant      {}", args.variant);
    print!("{}", swarm.describe());
    println!("--- trace ---");
    print!("{}", outcome.trace.render());
    println!("--- verdict ---");
    if outcome.violations.is_empty() {
        println!("no violation");
        return ExitCode::SUCCESS;
    }
    for v in &outcome.violations {
        println!("{v}");
    }
    ExitCode::from(1)
}

/// Runs scripts on the chosen backend.
enum Runner {
    /// The simulated store, on the paused runtime.
    Sim,
    /// A scratch database on the user's Postgres.
    #[cfg(feature = "postgres")]
    Postgres(Box<(tokio::runtime::Runtime, Option<sim::postgres::Scratch>)>),
}

impl Runner {
    fn new(backend: Backend) -> Result<Self, String> {
        match backend {
            Backend::Sim => Ok(Runner::Sim),
            Backend::Postgres => Self::postgres(),
        }
    }

    #[cfg(not(feature = "postgres"))]
    fn postgres() -> Result<Self, String> {
        Err(
            "this sim was built without the Postgres backend; build it with the `postgres` \
             feature: cargo run -p sim --features postgres -- run --backend postgres PATH..."
                .to_owned(),
        )
    }

    /// Creates the scratch database on DATABASE_URL's server.
    #[cfg(feature = "postgres")]
    fn postgres() -> Result<Self, String> {
        let url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .ok_or(
                "--backend postgres needs DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DB \
             (a role with CREATEDB: a scratch database is created and dropped)",
            )?;
        let rt = sim::postgres::pg_runtime();
        let scratch = rt
            .block_on(sim::postgres::Scratch::create(&url))
            .map_err(|e| format!("cannot use the Postgres server at DATABASE_URL: {e}"))?;
        Ok(Runner::Postgres(Box::new((rt, Some(scratch)))))
    }

    /// One run; on Postgres, a divergence from the simulated table counts as
    /// an unmet expectation.
    fn run(
        &mut self,
        sim_rt: &tokio::runtime::Runtime,
        script: &sim::scenario::Script,
        variant: Variant,
    ) -> Result<sim::scenario::ScriptRun, String> {
        match self {
            Runner::Sim => Ok(sim::scenario::run_script(sim_rt, script, variant)),
            #[cfg(feature = "postgres")]
            Runner::Postgres(pg) => {
                let (rt, scratch) = &**pg;
                let scratch = scratch.as_ref().ok_or("the scratch database is gone")?;
                let run = rt
                    .block_on(async {
                        scratch.reset().await?;
                        sim::postgres::run_script_pg(script, variant, &scratch.db).await
                    })
                    .map_err(|e| format!("Postgres: {e}"))?;
                let mut verdict = run.verdict;
                verdict.differences.extend(
                    run.divergences
                        .into_iter()
                        .map(|d| format!("Postgres and the simulated table disagree: {d}")),
                );
                Ok(sim::scenario::ScriptRun {
                    outcome: run.outcome,
                    firings: run.firings,
                    verdict,
                })
            }
        }
    }

    /// Drops the scratch database, if there is one.
    fn finish(&mut self) {
        #[cfg(feature = "postgres")]
        if let Runner::Postgres(pg) = self
            && let (rt, Some(scratch)) = (&pg.0, pg.1.take())
        {
            let name = scratch.name().to_owned();
            if let Err(e) = rt.block_on(scratch.drop_database()) {
                eprintln!("note: could not drop the scratch database {name}: {e}");
            }
        }
    }
}

fn run_cmd(args: RunArgs) -> ExitCode {
    let files = match sim::scenario::collect_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if files.is_empty() {
        eprintln!("no scenario files (*.yaml) under the given paths");
        return ExitCode::from(2);
    }
    let scripts = match sim::scenario::load_all(&files) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}\n");
            }
            eprintln!(
                "{} error{} in the scenario files; nothing was run",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            return ExitCode::from(2);
        }
    };
    if let (Some(_), Some(s)) = (
        args.explore_seed,
        scripts.iter().find(|s| s.explore.is_none()),
    ) {
        eprintln!(
            "{}: --explore-seed needs an `explore:` block",
            s.file.display()
        );
        return ExitCode::from(2);
    }
    let rt = sim_runtime();
    let mut runner = match Runner::new(args.backend) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut rows = Vec::new();
    for script in &scripts {
        if let (Backend::Postgres, Some(why)) = (args.backend, &script.sim_only) {
            println!("skipped {} (sim only: {why})", script.name);
            continue;
        }
        for &variant in &script.variants {
            if args.variant.is_some_and(|v| v != variant) {
                continue;
            }
            let run = match (args.explore_seed, &script.explore) {
                (Some(seed), Some(ex)) => {
                    sim::scenario::strikes::run_strikes(&rt, script, ex, variant, seed)
                }
                _ => match runner.run(&rt, script, variant) {
                    Ok(run) => run,
                    Err(e) => {
                        eprintln!("{} / {variant}: {e}", script.name);
                        runner.finish();
                        return ExitCode::from(2);
                    }
                },
            };
            if args.trace {
                println!(
                    "=== {} / {variant} ({}) ===",
                    script.name,
                    script.file.display()
                );
                print!("{}", run.outcome.trace.render());
                for v in &run.outcome.violations {
                    println!("violation: {v}");
                }
                println!();
            }
            rows.push((script, run.verdict));
        }
    }
    runner.finish();
    if rows.is_empty() {
        eprintln!("no scenario names the requested variant; nothing was run");
        return ExitCode::from(2);
    }
    print_verdicts(&rows);
    let extra_unmet = match (args.explore_seed, args.backend) {
        (None, Backend::Sim) => sim::scenario::sections::run_sections(
            &rt,
            &scripts,
            sim::scenario::sections::Sections {
                variant: args.variant,
                exhaustive: args.exhaustive,
                max_schedules: args.max_schedules,
            },
            &mut |line| println!("{line}"),
        ),
        _ => 0,
    };
    let unmet = rows.iter().filter(|(_, v)| !v.met()).count();
    if unmet == 0 && extra_unmet > 0 {
        println!(
            "
{extra_unmet} exhaustive/explore verdict(s) NOT MET (above)"
        );
        return ExitCode::from(1);
    }
    if unmet == 0 {
        println!("\n{} runs, every expectation met", rows.len());
        return ExitCode::SUCCESS;
    }
    println!(
        "\n{} runs, {unmet} expectation{} NOT MET{}:",
        rows.len(),
        if unmet == 1 { "" } else { "s" },
        match extra_unmet {
            0 => String::new(),
            n => format!(" (and {n} exhaustive/explore verdict(s) above)"),
        }
    );
    for (script, v) in rows.iter().filter(|(_, v)| !v.met()) {
        println!(
            "\n{} / {} ({})",
            script.name,
            v.variant,
            script.file.display()
        );
        for d in &v.differences {
            println!("  {d}");
        }
        println!(
            "  replay: sim run {} --variant {} --trace",
            script.file.display(),
            v.variant
        );
    }
    ExitCode::from(1)
}

fn print_verdicts(rows: &[(&sim::scenario::Script, sim::scenario::Verdict)]) {
    let name_w = rows
        .iter()
        .map(|(s, _)| s.name.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let cell = |xs: Vec<String>| {
        if xs.is_empty() {
            "-".to_owned()
        } else {
            xs.join(" ")
        }
    };
    let table: Vec<(String, String, String, String, String)> = rows
        .iter()
        .map(|(s, v)| {
            (
                s.name.clone(),
                v.variant.to_string(),
                cell(v.flips.iter().map(ToString::to_string).collect()),
                cell(v.labels.clone()),
                if v.met() {
                    "met".to_owned()
                } else {
                    "NOT MET".to_owned()
                },
            )
        })
        .collect();
    let flips_w = table.iter().map(|r| r.2.len()).max().unwrap_or(0).max(5);
    let viol_w = table.iter().map(|r| r.3.len()).max().unwrap_or(0).max(10);
    println!(
        "{:<name_w$}  {:<8}  {:<flips_w$}  {:<viol_w$}  expectation",
        "scenario", "variant", "flips", "violations"
    );
    for (n, v, f, vi, m) in table {
        println!("{n:<name_w$}  {v:<8}  {f:<flips_w$}  {vi:<viol_w$}  {m}");
    }
}

fn shrink_cmd(args: ShrinkArgs) -> ExitCode {
    let request = sim::shrink::Request {
        seed: args.seed,
        variant: args.variant,
        passes: args.passes,
        find: args.find.unwrap_or_default(),
    };
    let rt = sim_runtime();
    let shrunk = match sim::shrink::shrink(&rt, &request, &args.output) {
        Ok(s) => s,
        Err(e @ sim::shrink::ShrinkError::Internal(_)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("{e}; nothing written");
            return ExitCode::from(1);
        }
    };
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("cannot create {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::write(&args.output, &shrunk.yaml) {
        eprintln!("cannot write {}: {e}", args.output.display());
        return ExitCode::from(2);
    }
    println!("kept       {}", shrunk.target);
    println!("timed at   {}", shrunk.anchor);
    println!("before     {}", shrunk.before);
    println!("after      {}", shrunk.after);
    println!("runs       {}", shrunk.runs);
    for v in &shrunk.violations {
        println!("violation  {v}");
    }
    println!("wrote      {}", args.output.display());
    println!("check with: sim run {}", args.output.display());
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Explore(args) => explore_cmd(args),
        Command::Replay(args) => replay_cmd(args),
        Command::Bench(args) => sim::bench::main(&args),
        Command::Run(args) => run_cmd(args),
        Command::Shrink(args) => shrink_cmd(args),
        Command::Schema => {
            print!("{}", sim::scenario::model::schema_json());
            ExitCode::SUCCESS
        }
    }
}
