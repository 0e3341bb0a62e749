//! `sim`: explore seeds, replay one, run scenario files, merge shards.
//!
//! Only the command line lives here: parsing flags (clap) and driving the
//! library. Exit codes are `sim::exit::Exit` (0 clean, 1 violation, 2 bad
//! input); limits, durations, backends and tables are the library's.

use std::cell::RefCell;
use std::io::{self, IsTerminal};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reconciler_core::Variant;
use sim::backend::{Backend, Runner};
use sim::bench::{BenchOptions, Figure};
use sim::director::{Overrides, Swarm};
use sim::exit::Exit;
use sim::explore::{
    Explored, Find, Options, Plan, Progress, Shard, Summary, picture_command, replay_command,
};
use sim::limits::{duration_arg, passes_arg, schedules_arg, seeds_arg};
use sim::net::Net;
use sim::parallel::{available_jobs, parse_jobs};
use sim::report::ExploreReport;
use sim::run::{run_seed_with, sim_runtime};
use sim::scenario::table;
use sim::stream::Stream;
use sim::trace::{Entry, Keep, LineHash, Observer, Trace};
use sim::world::PlatformMode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "sim",
    version,
    about = "Deterministic simulation of the instance-state reconciler",
    after_help = Exit::HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run random seeds (swarm testing) and stop at the first violation.
    #[command(after_help = Exit::HELP)]
    Explore(ExploreArgs),
    /// Re-run one seed and print its settings, full trace and verdict.
    #[command(after_help = Exit::HELP)]
    Replay(ReplayArgs),
    /// Measure time compression, throughput, time to each known bug, a
    /// real-time baseline and peak memory.
    Bench(BenchArgs),
    /// Run scenario files (or folders of them) and check their expectations.
    #[command(after_help = Exit::HELP)]
    Run(RunArgs),
    /// Print the JSON Schema of scenario files (scenarios/schema.json).
    Schema,
    /// Turn a failing seed into the smallest scenario file that still shows
    /// the violation, and write it.
    Shrink(ShrinkArgs),
    /// Put the JSON reports of the shards of one exploration (`explore
    /// --shard I/N --json`) back together into the whole run's report.
    #[command(after_help = Exit::HELP)]
    Merge(MergeArgs),
}

#[derive(clap::Args)]
struct MergeArgs {
    /// Shard reports, or folders of them (*.json).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print the merged report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ShrinkArgs {
    /// The failing seed (as printed by `explore`).
    #[arg(long)]
    seed: u64,
    /// The variant it fails.
    #[arg(long)]
    variant: Variant,
    /// Force the number of passes, as the exploring run did (1 to 10,080).
    #[arg(long, value_parser = passes_arg)]
    passes: Option<u64>,
    /// The platform the exploring run used: as-merged or hardened.
    #[arg(long, default_value = "as-merged")]
    platform: PlatformMode,
    /// The violation to keep (a kind or `kind/sub-reason`, e.g.
    /// `unproven_flip/row_gone`);
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
    /// Print the full trace of every run (each is held in memory until its
    /// turn to print; without this flag a run keeps no trace, so its memory
    /// does not grow with its passes).
    #[arg(long)]
    trace: bool,
    /// Enumerate every placement of every file's hook steps (files with
    /// `exhaustive: true` always are).
    #[arg(long)]
    exhaustive: bool,
    /// Schedules per scenario and variant before exhaustive mode stops
    /// (and says so); 1 to 1,000,000.
    #[arg(long, default_value_t = sim::scenario::exhaustive::DEFAULT_MAX_SCHEDULES, value_parser = schedules_arg)]
    max_schedules: u64,
    /// Run each file with the random strikes of this seed of its
    /// `explore:` block (instead of the exhaustive and explore sections).
    #[arg(long, conflicts_with = "exhaustive")]
    explore_seed: Option<u64>,
    /// Where the reconciler's store lives: `sim`, the simulated table, or
    /// `postgres`, a scratch database on the Postgres server named by
    /// DATABASE_URL (needs a build with `--features postgres`; scenarios
    /// marked `sim_only` are skipped; the exhaustive and explore sections
    /// stay on the simulator).
    #[arg(long, default_value = "sim", conflicts_with_all = ["exhaustive", "explore_seed"])]
    backend: Backend,
    /// Print every run as JSON on stdout, with full flip and violation
    /// lists (the table cuts long ones); the summary goes to stderr.
    #[arg(long, conflicts_with = "trace")]
    json: bool,
    /// Worker threads for the simulated runs, schedules and seeds
    /// [default: the available cores]; the output does not depend on it.
    /// The Postgres backend runs one at a time.
    #[arg(long, value_parser = parse_jobs)]
    jobs: Option<NonZeroUsize>,
    #[command(flatten)]
    picture: PictureArgs,
}

/// The flags that draw a run or show the reconciler's logs (`replay` and
/// `run`).
#[derive(clap::Args)]
struct PictureArgs {
    /// Record the reconciler's own log lines into the trace, at the
    /// simulated instant each was emitted: a level (error, warn, info,
    /// debug, trace) or RUST_LOG directives; RUST_LOG is used when this is
    /// absent. Off by default: traces and digests are unchanged; with it,
    /// the log lines are trace lines and so count in `--digest`.
    #[arg(long, value_name = "LEVEL")]
    log: Option<String>,
    /// Write the run as one self-contained HTML timeline to this file
    /// (`sim run`: one run, so one scenario file and one variant).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print a Mermaid sequence diagram of the window around the first
    /// violation instead of the trace (`sim run`: one run, its table then
    /// going to stderr), ready to paste into an issue.
    #[arg(long)]
    mermaid: bool,
}

impl PictureArgs {
    /// True when the run must keep its whole trace.
    fn draws(&self) -> bool {
        self.html.is_some() || self.mermaid
    }

    /// Installs the log layer when asked; the error is the exit.
    fn install_logs(&self) -> Result<(), ExitCode> {
        match sim::logs::requested(self.log.as_deref()) {
            Some(filter) => sim::logs::install(&filter).map_err(|e| {
                eprintln!("{e}");
                Exit::BadInput.into()
            }),
            None => Ok(()),
        }
    }

    /// Writes the page and prints the diagram asked for; false when the
    /// page could not be written.
    fn draw(&self, title: String, trace: &Trace, violations: &[sim::oracle::Violation]) -> bool {
        if self.mermaid {
            match sim::picture::mermaid::diagram(trace, violations) {
                Some(d) => print!("{d}"),
                None => eprintln!("no violation: no diagram to draw"),
            }
        }
        let Some(path) = &self.html else {
            return true;
        };
        let picture = sim::picture::Picture::new(title, trace, violations);
        let page = match sim::picture::html::page(&picture) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cannot write the picture's data: {e}");
                return false;
            }
        };
        match std::fs::write(path, page) {
            Ok(()) => {
                eprintln!("wrote the picture to {}", path.display());
                true
            }
            Err(e) => {
                eprintln!("cannot write {}: {e}", path.display());
                false
            }
        }
    }
}

#[derive(clap::Args)]
struct ExploreArgs {
    /// Variant under test: legacy, pr2283, hardened.
    #[arg(long, default_value = "hardened")]
    variant: Variant,
    /// Seeds in the (unsharded) run (1 to 1,000,000,000).
    #[arg(long, conflicts_with = "duration", value_parser = seeds_arg)]
    seeds: Option<u64>,
    /// Wall-clock budget instead of a seed count, in the scenario files'
    /// units (e.g. 30s, 5m, 2h; at most 168h).
    #[arg(long, value_parser = duration_arg)]
    duration: Option<Duration>,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    start_seed: u64,
    /// Run only shard I of N (seeds whose position is I modulo N; N at most
    /// 10,000).
    #[arg(long, default_value = "0/1")]
    shard: Shard,
    /// Force the number of passes per seed instead of drawing it (1 to
    /// 10,080).
    #[arg(long, value_parser = passes_arg)]
    passes: Option<u64>,
    /// The platform's code: as-merged (the default) or hardened (the fix
    /// proposed in docs/decisions.md).
    #[arg(long, default_value = "as-merged")]
    platform: PlatformMode,
    /// How the reconciler reaches the control plane: in-process (fast; every
    /// push) or turmoil (cp-http's HTTP client over turmoil's simulated
    /// network, with network faults and wire-level answers; nightly).
    #[arg(long, default_value = "in-process")]
    net: Net,
    /// Stop only at violations of this kind or `kind/sub-reason` (e.g.
    /// `unproven_flip`, `unproven_flip/instance_changed`); an unknown one is
    /// refused with the valid ones.
    #[arg(long)]
    find: Option<Find>,
    /// Print the summary (and finding) as JSON on stdout (the report
    /// `sim merge` reads).
    #[arg(long)]
    json: bool,
    /// Also print `digest <hex>/<seeds>` on stdout (in the JSON with
    /// `--json`): a digest of every seed's trace hash, for comparing runs
    /// (see `ci/check.sh`).
    #[arg(long)]
    digest: bool,
    /// Worker threads, each running whole seeds [default: the available
    /// cores]. The results do not depend on it.
    #[arg(long, value_parser = parse_jobs)]
    jobs: Option<NonZeroUsize>,
    /// Run every seed even after a violation: the summary then covers the
    /// whole range (the reported seed is still the lowest failing one), so
    /// that the shards of a failing variant merge into the unsharded run.
    #[arg(long)]
    keep_going: bool,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// The seed to replay.
    #[arg(long)]
    seed: u64,
    /// Variant under test.
    #[arg(long, default_value = "hardened")]
    variant: Variant,
    /// Force the number of passes, as the exploring run did (1 to 10,080).
    #[arg(long, value_parser = passes_arg)]
    passes: Option<u64>,
    /// The platform the exploring run used: as-merged or hardened.
    #[arg(long, default_value = "as-merged")]
    platform: PlatformMode,
    /// Also print `digest <hex>`: the hash of the trace's lines (as
    /// `explore --digest` takes per seed), for comparing runs.
    #[arg(long)]
    digest: bool,
    #[command(flatten)]
    picture: PictureArgs,
    /// The network mode the exploring run used: in-process or turmoil.
    #[arg(long, default_value = "in-process")]
    net: Net,
}

/// The flags of `sim bench`; the library takes them as a `BenchOptions`.
#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// Run only these figures (comma-separated: compression, throughput,
    /// time-to-bug, baseline, memory). The baseline needs time-to-bug for
    /// its ratios; without it the ratios are left out.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Figure>,
    /// Simulated passes of the compression run (1,440 = 24 h of 60 s
    /// passes; at most 14,400).
    #[arg(long, default_value_t = BenchOptions::default().day_passes)]
    day_passes: u64,
    /// One-pass seeds of the throughput run, run once on one worker and
    /// once on `--jobs` (at most 1,000,000,000).
    #[arg(long, default_value_t = BenchOptions::default().throughput_seeds)]
    throughput_seeds: u64,
    /// Workers of the parallel throughput run, the time-to-bug hunts and
    /// the memory run, as `sim explore --jobs` [default: the available
    /// cores].
    #[arg(long, value_parser = parse_jobs)]
    jobs: Option<NonZeroUsize>,
    /// Independent seed ranges per known bug for the time to first
    /// violation (at most 1,000).
    #[arg(long, default_value_t = BenchOptions::default().ranges)]
    ranges: u64,
    /// Wall-clock cap of one seed range's hunt, in seconds (at most 3,600).
    #[arg(long, default_value_t = BenchOptions::default().hunt_cap)]
    hunt_cap: u64,
    /// Wall-clock cap of the real-time baseline per bug, in seconds (each
    /// variant's bugs are hunted by one run that stops when all are found
    /// or the cap passes; at most 3,600).
    #[arg(long, default_value_t = BenchOptions::default().baseline_cap)]
    baseline_cap: u64,
    /// Seeds the memory run explores (the `explore` default; at most
    /// 1,000,000,000).
    #[arg(long, default_value_t = BenchOptions::default().memory_seeds)]
    memory_seeds: u64,
    /// Passes of the memory figure's long runs (a week of 60 s passes; the
    /// day is --day-passes; at most 10,080).
    #[arg(long, default_value_t = BenchOptions::default().week_passes)]
    week_passes: u64,
    /// Internal: run as a child process of the memory figure.
    #[arg(long, hide = true)]
    memory_child: Option<sim::bench::MemoryRun>,
}

impl From<BenchArgs> for BenchOptions {
    fn from(a: BenchArgs) -> Self {
        BenchOptions {
            only: a.only,
            day_passes: a.day_passes,
            throughput_seeds: a.throughput_seeds,
            jobs: a.jobs,
            ranges: a.ranges,
            hunt_cap: a.hunt_cap,
            baseline_cap: a.baseline_cap,
            memory_seeds: a.memory_seeds,
            week_passes: a.week_passes,
            memory_child: a.memory_child,
        }
    }
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
}

impl Progress for Bar {
    fn seed_done(&mut self, done: u64, _seed: u64) -> bool {
        if done.is_multiple_of(64) {
            self.bar.set_position(done);
        }
        self.budget.is_none_or(|b| self.started.elapsed() < b)
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
        overrides: Overrides {
            passes: args.passes,
            platform: args.platform,
            net: args.net,
        },
        find: args.find.unwrap_or_default(),
    };
    let target = if std::io::stderr().is_terminal() && !args.json {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(seeds.map(|n| plan.shard.seeds_of(n)), target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} seeds  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = wall_now();
    let mut progress = Bar {
        bar,
        started,
        budget: args.duration,
    };
    let options = Options {
        jobs: args.jobs.unwrap_or_else(available_jobs),
        keep_going: args.keep_going,
        digest: args.digest,
    };
    eprintln!(
        "exploring variant {} from seed {} ({}), shard {}/{}, {} job{}{}",
        plan.variant,
        plan.start_seed,
        seeds.map_or_else(
            || format!("for {:?}", args.duration.unwrap_or_default()),
            |n| format!("{n} seeds")
        ),
        plan.shard.index,
        plan.shard.count,
        options.jobs,
        if options.jobs.get() == 1 { "" } else { "s" },
        if options.keep_going {
            ", keep going"
        } else {
            ""
        }
    );
    let explored = sim::explore::explore_with(&plan, options, &mut progress);
    progress.bar.finish_and_clear();
    let wall = started.elapsed();
    if args.json {
        let report = ExploreReport::new(&plan, options, &explored, wall);
        match serde_json::to_string(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("cannot write the JSON report: {e}");
                return Exit::BadInput.into();
            }
        }
    } else {
        print_summary(&explored.summary, wall);
        if let Some(d) = explored.digest {
            println!("digest {d}");
        }
    }
    let Explored { finding, .. } = explored;
    match finding {
        None => {
            eprintln!("no violation found");
            Exit::Clean.into()
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
                replay_command(f.seed, plan.variant, plan.overrides)
            );
            eprintln!(
                "picture with:\n  {}",
                picture_command(f.seed, plan.variant, plan.overrides)
            );
            Exit::Violation.into()
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

fn merge_cmd(args: MergeArgs) -> ExitCode {
    let merged = sim::merge::collect_files(&args.paths)
        .map_err(|e| vec![e])
        .and_then(|files| sim::merge::merge(&files));
    let merged = match merged {
        Ok(m) => m,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("nothing merged");
            return Exit::BadInput.into();
        }
    };
    if args.json {
        match serde_json::to_string(&merged) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                eprintln!("cannot write the JSON report: {e}");
                return Exit::BadInput.into();
            }
        }
    } else {
        print!("{merged}");
    }
    if merged.finding.is_some() {
        Exit::Violation.into()
    } else {
        Exit::Clean.into()
    }
}

/// Hashes every entry's line, for `replay --digest`.
#[derive(Default)]
struct Hashing(LineHash);

impl Observer for Hashing {
    fn observe(&mut self, entry: &Entry) {
        self.0.add(entry);
    }
}

fn replay_cmd(args: ReplayArgs) -> ExitCode {
    if let Err(exit) = args.picture.install_logs() {
        return exit;
    }
    let overrides = Overrides {
        passes: args.passes,
        platform: args.platform,
        net: args.net,
    };
    let swarm = Swarm::from_seed(args.seed, overrides);
    let rt = sim_runtime();
    // Everything goes through one stream, and the trace streams as the run
    // writes it: nothing is kept (unless it is drawn), so a long replay's
    // memory does not grow with its passes, and a reader that stops early
    // (`| head`) ends the printing, not the process. `--mermaid` prints
    // only the diagram.
    let out = Rc::new(RefCell::new(Stream::new(io::stdout())));
    let hash = Rc::new(RefCell::new(Hashing::default()));
    let mut observers: Vec<Box<dyn Observer>> = vec![Box::new(Rc::clone(&hash))];
    if !args.picture.mermaid {
        out.borrow_mut().text(&format!(
            "variant      {}\n{}--- trace ---\n",
            args.variant,
            swarm.describe()
        ));
        observers.push(Box::new(Rc::clone(&out)));
    }
    let keep = if args.picture.draws() {
        Keep::All
    } else {
        Keep::Tail(0)
    };
    let outcome = run_seed_with(&rt, args.variant, &swarm, keep, observers);
    {
        let mut out = out.borrow_mut();
        if !args.picture.mermaid {
            out.text("--- verdict ---\n");
            if outcome.violations.is_empty() {
                out.text("no violation\n");
            }
            for v in &outcome.violations {
                out.text(&format!("{v}\n"));
            }
        }
        if args.digest {
            out.text(&format!("digest {:016x}\n", hash.borrow().0.value()));
        }
        if let Err(e) = out.finish() {
            eprintln!("cannot write the replay: {e}");
        }
    }
    let title = replay_command(args.seed, args.variant, overrides);
    if !args
        .picture
        .draw(title, &outcome.trace, &outcome.violations)
    {
        return Exit::BadInput.into();
    }
    if outcome.violations.is_empty() {
        Exit::Clean.into()
    } else {
        Exit::Violation.into()
    }
}

fn run_cmd(args: RunArgs) -> ExitCode {
    let files = match sim::scenario::collect_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return Exit::BadInput.into();
        }
    };
    if files.is_empty() {
        eprintln!("no scenario files (*.yaml) under the given paths");
        return Exit::BadInput.into();
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
            return Exit::BadInput.into();
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
        return Exit::BadInput.into();
    }
    if let Err(exit) = args.picture.install_logs() {
        return exit;
    }
    let runs: usize = scripts
        .iter()
        .map(|s| {
            s.variants
                .iter()
                .filter(|&&v| args.variant.is_none_or(|w| w == v))
                .count()
        })
        .sum();
    if args.picture.draws() && runs != 1 {
        eprintln!(
            "--html and --mermaid draw one run, and these paths make {runs}: name one scenario file and one --variant"
        );
        return Exit::BadInput.into();
    }
    let rt = sim_runtime();
    let jobs = args.jobs.unwrap_or_else(available_jobs);
    let mut rows = Vec::new();
    let mut drawn = None;
    let draws = args.picture.draws();
    let mut record = |script, run| {
        record_run(&mut rows, (args.trace, draws), &mut drawn, script, run);
    };
    if args.backend == Backend::Sim {
        let select = sim::scenario::runs::Rows {
            variant: args.variant,
            explore_seed: args.explore_seed,
            jobs,
            keep: if args.trace || args.picture.draws() {
                Keep::All
            } else {
                Keep::Tail(0)
            },
        };
        sim::scenario::runs::run_rows(&scripts, select, &mut record);
    } else {
        let mut runner = match Runner::new(args.backend) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return Exit::BadInput.into();
            }
        };
        for script in &scripts {
            if let Some(why) = &script.sim_only {
                eprintln!("skipped {} (sim only: {why})", script.name);
                continue;
            }
            for &variant in &script.variants {
                if args.variant.is_some_and(|v| v != variant) {
                    continue;
                }
                match runner.run(&rt, script, variant) {
                    Ok(run) => record(script, run),
                    Err(e) => {
                        eprintln!("{} / {variant}: {e}", script.name);
                        runner.finish();
                        return Exit::BadInput.into();
                    }
                }
            }
        }
        runner.finish();
    }
    if rows.is_empty() {
        eprintln!("no scenario names the requested variant; nothing was run");
        return Exit::BadInput.into();
    }
    if let Some((title, trace, violations)) = drawn
        && !args.picture.draw(title, &trace, &violations)
    {
        return Exit::BadInput.into();
    }
    // With --json or --mermaid, stdout holds only that document; the
    // table and the summary go to stderr.
    let quiet = args.json || args.picture.mermaid;
    let say = |text: &str| {
        if quiet {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    };
    if !args.json {
        say(&table::render(&rows));
    }
    let extra_unmet = match (args.explore_seed, args.backend) {
        (None, Backend::Sim) => sim::scenario::sections::run_sections(
            &rt,
            &scripts,
            sim::scenario::sections::Sections {
                variant: args.variant,
                exhaustive: args.exhaustive,
                max_schedules: args.max_schedules,
                jobs,
            },
            &mut |line| say(&format!("{line}\n")),
        ),
        _ => 0,
    };
    let (summary, exit) = table::summary(&rows, extra_unmet);
    if args.json {
        println!("{}", table::json(&rows, extra_unmet));
    }
    say(&summary);
    exit.into()
}

/// A run to draw: its title, trace and violations.
type Drawn = (String, Trace, Vec<sim::oracle::Violation>);

/// Prints `run`'s trace when asked (`print.0`), keeps it to draw when asked
/// (`print.1`), and keeps its verdict for the table.
fn record_run<'a>(
    rows: &mut Vec<(&'a sim::scenario::Script, sim::scenario::Verdict)>,
    (trace, draw): (bool, bool),
    drawn: &mut Option<Drawn>,
    script: &'a sim::scenario::Script,
    run: sim::scenario::ScriptRun,
) {
    if draw {
        *drawn = Some((
            format!(
                "sim run {} --variant {}",
                script.file.display(),
                run.verdict.variant
            ),
            run.outcome.trace.clone(),
            run.outcome.violations.clone(),
        ));
    }
    if trace {
        println!(
            "=== {} / {} ({}) ===",
            script.name,
            run.verdict.variant,
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

fn shrink_cmd(args: ShrinkArgs) -> ExitCode {
    let request = sim::shrink::Request {
        seed: args.seed,
        variant: args.variant,
        overrides: Overrides {
            passes: args.passes,
            platform: args.platform,
            net: Net::InProcess,
        },
        find: args.find.unwrap_or_default(),
    };
    let rt = sim_runtime();
    let shrunk = match sim::shrink::shrink(&rt, &request, &args.output) {
        Ok(s) => s,
        Err(e @ sim::shrink::ShrinkError::Internal(_)) => {
            eprintln!("{e}");
            return Exit::BadInput.into();
        }
        Err(e) => {
            eprintln!("{e}; nothing written");
            return Exit::Violation.into();
        }
    };
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("cannot create {}: {e}", dir.display());
        return Exit::BadInput.into();
    }
    if let Err(e) = std::fs::write(&args.output, &shrunk.yaml) {
        eprintln!("cannot write {}: {e}", args.output.display());
        return Exit::BadInput.into();
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
    Exit::Clean.into()
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let exit = if e.use_stderr() {
                Exit::BadInput
            } else {
                Exit::Clean
            };
            let _ = e.print();
            return exit.into();
        }
    };
    match cli.command {
        Command::Explore(args) => explore_cmd(args),
        Command::Replay(args) => replay_cmd(args),
        Command::Bench(args) => sim::bench::main(&args.into()).into(),
        Command::Run(args) => run_cmd(args),
        Command::Shrink(args) => shrink_cmd(args),
        Command::Merge(args) => merge_cmd(args),
        Command::Schema => {
            print!("{}", sim::scenario::model::schema_json());
            Exit::Clean.into()
        }
    }
}
