//! Stress: the reconciler loops in real time on a real Postgres while
//! actors on their own connections write concurrently — the orphan sweeper
//! on reaped instances, heartbeats that degrade and recover, the owner's
//! multi-step flows (manual restart, pause, resume, hibernate, soft delete),
//! purges and new workspaces, heartbeats held open under a row lock — the
//! cloud terminates, stops and starts instances, and the control plane has
//! slow spells, errors and `2xx` answers with an unrecognized state. Every
//! flip runs the platform's offline handler: a `WORKSPACE_OFFLINE` row and
//! `RestartByID` in the background, coalesced, with its real steps (see
//! [`platform`]). The audit trigger records every row change; the history
//! built from it (see [`history`]) is judged by the simulator's oracle
//! through the entry point a simulated run uses (`sim::run::judged_trace`),
//! harm rules included.
//!
//! Bounded: each run stops at a pass boundary after [`DURATION`] or
//! [`MAX_PASSES`] passes, then lets the restarts it started finish. The
//! reconciler runs with the reference configuration scaled down about 100×
//! (interval 400 ms, deadline 300 ms, timeouts 60 ms, `not_found_quiet`
//! 600 ms), the cloud, the platform and the actors at matching speeds.
//!
//! Not reproducible byte for byte: the actors' choices (targets, moves,
//! pauses) and the control plane's latencies and answers come from seeded
//! streams, but *when* things happen is real time on a real server, so two
//! runs of one seed interleave differently. What is asserted holds for every
//! interleaving:
//!
//! * `hardened` on the fixed platform (`PlatformMode::Hardened`,
//!   `docs/decisions.md`) shows no violation at all;
//! * `pr2283` and `legacy` on the platform as merged show at least one
//!   harm violation (`restart_harm`, `restart_storm`). It is reached by
//!   several independent paths in every run: an answer about a healthy
//!   instance that the merged `IsRunning` reads as "not running" (a `2xx`
//!   with an empty or unknown state, [`UNRECOGNIZED_PERMILLE`], or a
//!   `pending` instance the cloud is starting again) flips it, and the
//!   restart's Stop by workspace id kills it (`killed_live_instance`); a
//!   restart races the owner's pause, manual restart or resume
//!   (`undid_owner`, `racing_provisions`, `during_manual_restart`). Seeds
//!   1–8 and 12–15 (24 runs) showed 3 to 12 harm violations each, so the
//!   assertion is reliable in the run's bounded time.
//!
//! `RECONCILER_SIM_STRESS_SEED` sets the seed (default 1); `--nocapture`
//! prints each run's figures.

mod actors;
mod history;
mod platform;
mod stage;
mod store;

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use pg_store::world;
use reconciler_core::{Config, InstanceState, Reconciler, Row, Status, Variant, WorkspaceId};
use sim::oracle::{Kind, Violation};
use sim::trace::{Event, Keep};
use sim::world::PlatformMode;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;

use crate::support::postgres::test_db;
use actors::{Actor, Fleet};
use history::Anchor;
use platform::{PLATFORM_APPLICATION_NAME, Platform, StageOffline};
use stage::{Budget, CloudTiming, CpProfile, Stage, StageCp};
use store::RecordingStore;

/// Real time a run may take (it ends at the first pass boundary after it).
const DURATION: Duration = Duration::from_secs(12);
/// Passes a run may take.
const MAX_PASSES: u64 = 40;
/// Workspaces at the start.
const FLEET: usize = 20;
/// Passes beyond the capacity bound before a dead row counts as missed
/// (the simulator grants 1): see where the rules are made. With the whole
/// 20-row fleet in scope and 2 rows per pass the bound is 20 passes of a
/// run's ~30, so a row dead from the start that is never reached shows.
const LIVENESS_SLACK: u64 = 10;
/// `2xx` answers with an empty or unknown `state`, per thousand probes: an
/// answer the merged client misreads on a healthy instance (issue #11's
/// control-plane vocabulary). A run makes 120–240 probes.
const UNRECOGNIZED_PERMILLE: u32 = 20;

/// The seed: `RECONCILER_SIM_STRESS_SEED`, default 1.
fn seed() -> u64 {
    match std::env::var("RECONCILER_SIM_STRESS_SEED") {
        Ok(s) => s
            .parse()
            .unwrap_or_else(|_| panic!("RECONCILER_SIM_STRESS_SEED={s:?} is not a u64")),
        Err(_) => 1,
    }
}

/// The reconciler's configuration, the reference's scaled down.
fn config() -> Config {
    Config {
        interval: Duration::from_millis(400),
        pass_deadline: Duration::from_millis(300),
        probe_timeout: Duration::from_millis(60),
        reconfirm_timeout: Duration::from_millis(60),
        limit: 8,
        not_found_quiet: Duration::from_millis(600),
    }
}

/// What one run did and what the oracle found.
pub struct Figures {
    /// Real time the run took, restarts drained included.
    pub elapsed: Duration,
    /// Passes run.
    pub passes: u64,
    /// Calls of the offline handler.
    pub flips: usize,
    /// `RestartByID` cycles run.
    pub restarts: usize,
    /// The owner's flows run.
    pub owner_flows: usize,
    /// Control-plane probes sent.
    pub probes: usize,
    /// Row writes by the actors and the platform's flows.
    pub actor_writes: usize,
    /// Events the oracle judged.
    pub events: u64,
    /// The oracle's verdict.
    pub violations: Vec<Violation>,
    /// Violation labels with their counts.
    pub by_label: BTreeMap<String, usize>,
    /// The trace lines about the first violation's workspace.
    pub story: String,
}

impl Figures {
    /// Violations of the harm rules (`restart_harm`, `restart_storm`).
    fn harm(&self) -> usize {
        self.violations
            .iter()
            .filter(|v| matches!(v.kind(), Kind::RestartHarm | Kind::RestartStorm))
            .count()
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.1}s, {} passes, {} probes, {} flips, {} restart cycles, {} owner flows, \
             {} actor writes, {} events judged, {} violations {:?}",
            self.elapsed.as_secs_f64(),
            self.passes,
            self.probes,
            self.flips,
            self.restarts,
            self.owner_flows,
            self.actor_writes,
            self.events,
            self.violations.len(),
            self.by_label
        )
    }
}

/// The starting fleet: mostly running, some dead already, some degraded,
/// paused (stopped instance), NULL instance, one external.
fn fleet(stage: &Stage, server_now_us: i64) -> Vec<(Row, Option<InstanceState>)> {
    (0..FLEET)
        .map(|k| {
            let (status, state, runtime) = match k % 10 {
                0 => (Status::Online, Some(InstanceState::Terminated), None),
                1 => (Status::Degraded, Some(InstanceState::Running), None),
                2 => (Status::Paused, Some(InstanceState::Stopped), None),
                3 if k < 10 => (Status::Online, None, None),
                4 if k < 10 => (
                    Status::Online,
                    Some(InstanceState::ShuttingDown),
                    Some("external"),
                ),
                _ => (Status::Online, Some(InstanceState::Running), None),
            };
            let id = WorkspaceId(format!("ws-{k:03}"));
            let instance = state.map(|s| {
                let i = stage.fresh_id();
                stage.seed_instance(&i, s, &id);
                i
            });
            let row = Row {
                id,
                status,
                instance,
                runtime: runtime.map(str::to_owned),
                updated_at: server_now_us - 1_000_000 * (k as i64 + 1),
            };
            (row, state)
        })
        .collect()
}

/// The server's `clock_timestamp()` in microseconds.
async fn server_us(admin: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8")
        .fetch_one(admin)
        .await
        .expect("reading the server clock")
}

/// Maps the server clock onto the stage's: the midpoint of the fastest of a
/// few round trips.
async fn anchor(stage: &Stage, admin: &PgPool) -> Anchor {
    let mut best: Option<(Duration, Anchor)> = None;
    for _ in 0..5 {
        let before = stage.now();
        let server = server_us(admin).await;
        let after = stage.now();
        let rtt = after - before;
        if best.is_none_or(|(b, _)| rtt < b) {
            best = Some((
                rtt,
                Anchor {
                    server_us: server,
                    client: before + rtt / 2,
                },
            ));
        }
    }
    best.expect("five samples").1
}

/// One bounded stress run of `variant` on a platform running `mode`'s code,
/// judged by the oracle.
async fn run(variant: Variant, mode: PlatformMode, seed: u64) -> Figures {
    let t = test_db().await;
    let admin = &t.db.admin;
    let stage = Rc::new(Stage::new(
        seed,
        CloudTiming {
            boot_ms: (100, 400),
            stop_ms: (50, 200),
            shutdown_ms: (50, 300),
            reap_ms: 2_000,
        },
        CpProfile {
            latency_ms: (1, 30),
            error_permille: 20,
            unrecognized_permille: UNRECOGNIZED_PERMILLE,
        },
    ));
    let fleet_rows = fleet(&stage, server_us(admin).await);
    for (row, _) in &fleet_rows {
        world::insert(admin, row)
            .await
            .expect("inserting the fleet");
    }
    let baseline = world::audit(admin)
        .await
        .expect("reading the audit")
        .last()
        .map_or(0, |e| e.seq);
    let anchor = anchor(&stage, admin).await;

    let config = config();
    let store = RecordingStore {
        inner: t
            .db
            .store
            .clone()
            .with_flip_budget(config.reconfirm_timeout / 2),
        stage: Rc::clone(&stage),
    };
    let options = (*admin.connect_options()).clone();
    let platform_pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.clone().application_name(PLATFORM_APPLICATION_NAME))
        .await
        .expect("connecting the platform");
    let platform = Rc::new(Platform::new(
        Rc::clone(&stage),
        platform_pool.clone(),
        mode,
    ));
    let mut reconciler = Reconciler::new(
        variant,
        config.clone(),
        Some(store),
        Some(StageCp(Rc::clone(&stage))),
        StageOffline(Rc::clone(&platform)),
    )
    .expect("the scaled configuration is valid");
    let cancel = CancellationToken::new();
    let mut budget = Budget {
        stage: Rc::clone(&stage),
        duration: stage.now() + DURATION,
        max_passes: MAX_PASSES,
        cancel: cancel.clone(),
        passes: 0,
    };
    let shared = Rc::new(Fleet::new(
        fleet_rows.iter().map(|(r, _)| r.id.clone()).collect(),
    ));
    // The actors are tasks of their own on this thread; the reconciler runs
    // until its budget is spent, then the actors finish their current move
    // and the restarts the last passes started run to their end.
    let local = tokio::task::LocalSet::new();
    let handles: Vec<_> = Actor::ALL
        .iter()
        .map(|&a| {
            local.spawn_local(actors::run(
                a,
                Rc::clone(&stage),
                Rc::clone(&shared),
                Rc::clone(&platform),
                options.clone(),
                seed,
            ))
        })
        .collect();
    local
        .run_until(async {
            reconciler.run(&cancel, &mut budget).await;
            stage.stop();
            for h in handles {
                h.await.expect("an actor panicked");
            }
            platform.finish().await;
        })
        .await;
    drop(reconciler);
    platform_pool.close().await;
    let elapsed = stage.now();

    let audit = world::audit(admin).await.expect("reading the audit");
    let offline_rows = world::events(admin)
        .await
        .expect("reading the events")
        .len();
    let built = history::build(
        &fleet_rows,
        stage.take_recs(),
        &audit,
        baseline,
        anchor,
        &stage.commits(),
    );
    assert!(
        built.unpaired.is_empty(),
        "{variant}: {:#?}",
        built.unpaired
    );
    assert!(
        built.unmatched_reads.is_empty(),
        "{variant}: {:#?}",
        built.unmatched_reads
    );
    let mut rules = sim::run::rules_for(&config, 150, 20);
    // Real time on a shared machine: a pass may be descheduled for a while
    // after its deadline through no fault of its own, and a starved pass
    // reaches fewer rows than the worst per-row cost says (seen twice in
    // ~60 runs while a build loaded the machine, and again with slack 4
    // beside the conformance test, as the suite runs it: `missed_dead` on
    // a row reached a few passes late). A row the reconciler never reaches
    // still shows within a run's ~30 passes.
    rules.overrun_tolerance = Duration::from_millis(250);
    rules.liveness_slack = LIVENESS_SLACK;
    let (mut tracer, oracle) = sim::run::judged_trace(rules, variant, Keep::All, Vec::new());
    for (at, event) in built.events {
        tracer.push(at, event);
    }
    let trace = tracer.finish();
    let oracle = Rc::try_unwrap(oracle)
        .ok()
        .expect("the trace held the only other handle")
        .into_inner();
    let violations = oracle.finish(trace.last_at());
    let mut by_label = BTreeMap::new();
    for v in &violations {
        *by_label.entry(v.label()).or_insert(0) += 1;
    }
    // What happened to the first violation's workspace, for a failure
    // message: its own lines of the trace.
    let story = violations
        .first()
        .and_then(|v| v.ws.clone())
        .map(|ws| {
            let needle = format!(" {ws} ");
            trace
                .entries()
                .map(|e| format!("{e} "))
                .filter(|line| line.contains(&needle) || line.contains(&format!(" {ws}=")))
                .collect::<String>()
        })
        .unwrap_or_default();
    let count = |f: &dyn Fn(&Event) -> bool| trace.entries().filter(|e| f(&e.event)).count();
    let flips = count(&|e| matches!(e, Event::Flip { .. }));
    assert_eq!(
        offline_rows, flips,
        "{variant}: one WORKSPACE_OFFLINE row per flip"
    );
    let figures = Figures {
        elapsed,
        passes: budget.passes,
        flips,
        restarts: count(
            &|e| matches!(e, Event::FlowStart { flow, .. } if flow.kind == sim::hook::Flow::Restart),
        ),
        owner_flows: count(
            &|e| matches!(e, Event::FlowStart { flow, .. } if flow.kind != sim::hook::Flow::Restart),
        ),
        probes: count(&|e| matches!(e, Event::Probe { .. })),
        actor_writes: built.actor_writes,
        events: trace.len(),
        violations,
        by_label,
        story,
    };
    println!(
        "stress {variant} on the {} platform, seed {seed}: {figures}",
        mode.as_str()
    );
    for v in figures.violations.iter().take(5) {
        println!("  {v}");
    }
    figures
}

#[tokio::test]
async fn stress_hardened_on_the_fixed_platform_shows_no_violation() {
    let figures = run(Variant::Hardened, PlatformMode::Hardened, seed()).await;
    assert!(
        figures.violations.is_empty(),
        "hardened under stress: {figures}\n{}\nthe first one's workspace:\n{}",
        figures
            .violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        figures.story
    );
    // The run was a stress run, not an idle one.
    assert!(figures.passes >= 10, "{figures}");
    assert!(figures.flips >= 2, "{figures}");
    assert!(figures.restarts >= 2, "{figures}");
    assert!(figures.owner_flows >= 20, "{figures}");
    assert!(figures.actor_writes >= 200, "{figures}");
}

/// Runs `variant` on the merged platform from `seed()` on, up to
/// [`HARM_ATTEMPTS`] seeds, until a run shows harm; the last run's figures.
///
/// Why more than one run: which real-time interleavings happen depends on
/// the machine's load (a run beside a busy test suite sees fewer restarts
/// land on a booting instance), so one 13 s run shows harm almost always
/// but not always. A broken harm rule shows none in any of them.
async fn run_until_harm(variant: Variant, min_passes: u64) -> Figures {
    let first = seed();
    let mut figures = run(variant, PlatformMode::AsMerged, first).await;
    for s in first + 1..first + HARM_ATTEMPTS {
        assert!(figures.passes >= min_passes, "{figures}");
        if figures.harm() >= 1 {
            break;
        }
        figures = run(variant, PlatformMode::AsMerged, s).await;
    }
    assert!(figures.passes >= min_passes, "{figures}");
    figures
}

/// Stress runs a variant on the merged platform may take to show harm.
const HARM_ATTEMPTS: u64 = 4;

#[tokio::test]
async fn stress_pr2283_on_the_merged_platform_harms() {
    let figures = run_until_harm(Variant::Pr2283, 10).await;
    assert!(
        figures.harm() >= 1,
        "pr2283 under stress, {HARM_ATTEMPTS} seeds from {}: {figures}",
        seed()
    );
}

#[tokio::test]
async fn stress_legacy_on_the_merged_platform_harms() {
    let figures = run_until_harm(Variant::Legacy, 5).await;
    assert!(
        figures.harm() >= 1,
        "legacy under stress, {HARM_ATTEMPTS} seeds from {}: {figures}",
        seed()
    );
}
