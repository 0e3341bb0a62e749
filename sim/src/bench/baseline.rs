//! Figure 4: the baseline — the stress test a team would write without the
//! harness, run for real.
//!
//! The same reconciler, the same world (store, control plane, cloud,
//! restarts), the same actors and the same oracle, on a tokio runtime whose
//! clock is **not** paused: every sleep really sleeps. As a team would
//! shrink a production loop into a test, every interval and latency is
//! scaled down 1,000× (60 s passes become 60 ms, the 10 s probe timeout
//! 10 ms, a 1–50 ms control plane answers at once, a 7–9.9 s one in
//! 7–9 ms: tokio's timers have millisecond resolution). There are no hook
//! points — a stress test has none — so each enabled actor is a background
//! task that strikes a random row at random real-time intervals.
//!
//! Each episode takes one swarm seed's settings (fleet, passes, latency
//! profile, failure rates, which actors exist, how often they strike), runs
//! the loop for its passes, and hands the trace to the oracle, as a
//! stress-test iteration ends with its assertions. This module is the only
//! place that wires the world to a real clock; nothing here is reachable
//! from a simulated run.

use std::fmt::Write as _;
use std::rc::Rc;
use std::time::Duration;

use rand::RngExt;
use reconciler_core::{Config, Reconciler, Variant, WorkspaceId};
use tokio::task::LocalSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::time_to_bug::{Bug, KNOWN, TimeToBug};
use super::{Stopwatch, human, thousands, verdict};
use crate::action::Action;
use crate::control_plane::SimCp;
use crate::director::{Adversary, Director, Swarm, row_action};
use crate::explore::Find;
use crate::hook::Hook;
use crate::oracle::{self, Rules};
use crate::restart::SimRestart;
use crate::run::{Passes, rules_for, swarm_setup};
use crate::seed::{SimRng, child_rng};
use crate::shared::Shared;
use crate::store::SimStore;
use crate::trace::{Cause, Trace};
use crate::world::{Timing, World};

/// Real time runs this many times faster than production time.
const SCALE: u64 = 1_000;

/// The target: the simulator at least this many times faster.
const TARGET_RATIO: f64 = 100.0;

/// A production duration in milliseconds, scaled down.
fn scaled(ms: u64) -> u64 {
    ms / SCALE
}

fn scaled_range((lo, hi): (u64, u64)) -> (u64, u64) {
    (scaled(lo), scaled(hi))
}

/// The reference configuration, scaled down.
fn config() -> Config {
    let d = Config::default();
    Config {
        interval: d.interval / SCALE as u32,
        pass_deadline: d.pass_deadline / SCALE as u32,
        probe_timeout: d.probe_timeout / SCALE as u32,
        reconfirm_timeout: d.reconfirm_timeout / SCALE as u32,
        limit: d.limit,
    }
}

/// The cloud's and the platform's delays, scaled down.
fn timing() -> Timing {
    let d = Timing::default();
    Timing {
        boot_ms: scaled_range(d.boot_ms),
        stop_ms: scaled_range(d.stop_ms),
        shutdown_ms: scaled_range(d.shutdown_ms),
        reap_ms: scaled(d.reap_ms),
        restart_ms: scaled_range(d.restart_ms),
    }
}

/// The oracle's rules for an episode, on the scaled clock.
fn rules(swarm: &Swarm) -> Rules {
    let mut cp_max = swarm.latency.range_ms().1;
    if swarm.adversaries.contains(&Adversary::SlowCp) {
        cp_max = cp_max.max(9_900);
    }
    let mut rules = rules_for(&config(), scaled(cp_max), scaled(swarm.store_latency_ms.1));
    rules.overrun_tolerance /= SCALE as u32;
    rules
}

/// A stress test has no hook points: nobody acts there.
struct NoHooks;

impl Director for NoHooks {
    fn at_hook(
        &mut self,
        _hook: Hook,
        _ws: Option<&WorkspaceId>,
        _world: &World,
    ) -> Vec<crate::action::Action> {
        Vec::new()
    }
}

/// One actor: strikes at uniformly random intervals of mean `mean` until
/// cancelled.
async fn actor(
    adv: Adversary,
    shared: Rc<Shared>,
    mut rng: SimRng,
    mean: Duration,
    cancel: CancellationToken,
) {
    let mean_us = u64::try_from(mean.as_micros()).unwrap_or(u64::MAX);
    loop {
        let wait = Duration::from_micros(rng.random_range(0..=2 * mean_us));
        tokio::select! {
            biased;
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        strike(adv, &shared, &mut rng);
    }
}

/// What an actor does when it strikes: a row adversary picks a random row,
/// a slow control plane starts a slow period.
fn strike(adv: Adversary, shared: &Shared, rng: &mut SimRng) {
    let mut world = shared.world.borrow_mut();
    world.flush();
    let action = if adv == Adversary::SlowCp {
        Some(Action::CpSlow {
            latency_ms: scaled(rng.random_range(7_000..=9_900)),
            for_ms: scaled(rng.random_range(30_000..=300_000)),
        })
    } else {
        if world.table.is_empty() {
            return;
        }
        let n = rng.random_range(0..world.table.len());
        let Some(row) = world.table.rows().nth(n).cloned() else {
            return;
        };
        // The orphan sweeper only reaps rows whose instance is really gone.
        if adv == Adversary::OrphanSweep
            && row
                .live_instance()
                .is_some_and(|i| !world.cloud.state(i).is_terminal())
        {
            return;
        }
        row_action(adv, &row, rng)
    };
    if let Some(a) = action {
        world.apply(Cause::Timed, &a);
    }
}

/// Runs one episode in real time, stopping early at `budget`; returns its
/// trace. Must run inside a `LocalSet` on a runtime whose clock is real.
async fn episode(variant: Variant, swarm: &Swarm, budget: Duration) -> Trace {
    let stop_at = Instant::now() + budget;
    let config = config();
    let mut behaviour = swarm_setup(swarm).behaviour;
    behaviour.cp_latency_ms = scaled_range(behaviour.cp_latency_ms);
    behaviour.store_latency_ms = scaled_range(behaviour.store_latency_ms);
    let mut world = World::new(timing(), child_rng(swarm.seed, "timing"));
    for (row, state) in swarm.fleet_rows() {
        world.seed_row(row, state);
    }
    let shared = Rc::new(Shared::new(
        world,
        Box::new(NoHooks),
        behaviour,
        child_rng(swarm.seed, "store"),
        child_rng(swarm.seed, "cp"),
    ));
    let cancel = CancellationToken::new();
    // Actors strike `hook_permille / 20` times per (scaled) interval each,
    // on average: from about once per pass to fifteen; a slow control plane
    // starts a slow period every other pass.
    let per_strike = config.interval * 20 / swarm.hook_permille.max(1);
    let actors: Vec<_> = swarm
        .adversaries
        .iter()
        .filter(|a| !matches!(a, Adversary::FailingCp | Adversary::DbErrors))
        .map(|&adv| {
            let mean = if adv == Adversary::SlowCp {
                config.interval * 2
            } else {
                per_strike
            };
            let rng = child_rng(swarm.seed, &format!("actor-{}", adv.as_str()));
            tokio::task::spawn_local(actor(adv, Rc::clone(&shared), rng, mean, cancel.clone()))
        })
        .collect();
    let mut reconciler = Reconciler::new(
        variant,
        config,
        Some(SimStore(Rc::clone(&shared))),
        Some(SimCp(Rc::clone(&shared))),
        SimRestart(Rc::clone(&shared)),
    )
    .expect("the scaled reference configuration is valid");
    let mut observer = Passes {
        shared: Rc::clone(&shared),
        planned: swarm.passes,
        cancel: cancel.clone(),
    };
    tokio::select! {
        biased;
        () = reconciler.run(&cancel, &mut observer) => {}
        () = tokio::time::sleep_until(stop_at) => {}
    }
    cancel.cancel();
    for a in actors {
        let _ = a.await;
    }
    std::mem::take(&mut shared.world.borrow_mut().trace)
}

/// When the baseline first saw a bug.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    /// Wall time from the start of the variant's run until the oracle, run
    /// at the end of the episode, reported it — what `explore`'s figure
    /// measures too.
    pub reported: Duration,
    /// Wall time from the start of the variant's run to the instant the
    /// violation happened (the trace's clock is the real one here): the
    /// earliest a checker watching every event could have raised it.
    pub happened: Duration,
    /// Episodes run, the one that showed it included.
    pub episodes: u64,
}

/// The baseline's result for every known bug.
pub struct Baseline {
    found: Vec<(Bug, Option<Seen>)>,
    episodes: Vec<(Variant, u64, Duration)>,
    cap: Duration,
}

/// Hunts every bug of `variant` in one real-time run of episodes from seed
/// 0, until all are seen or `cap` has passed.
fn hunt_variant(variant: Variant, bugs: &[Bug], cap: Duration) -> (Vec<Option<Seen>>, u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime with only the time driver always builds");
    let clock = Stopwatch::start();
    let finds: Vec<Find> = bugs.iter().map(|b| Find(Some(b.find.to_owned()))).collect();
    let mut seen: Vec<Option<Seen>> = vec![None; bugs.len()];
    let mut episodes = 0u64;
    let mut last_note = Duration::ZERO;
    while seen.iter().any(Option::is_none) {
        let left = cap.saturating_sub(clock.elapsed());
        if left.is_zero() {
            break;
        }
        let swarm = Swarm::from_seed(episodes, None);
        let local = LocalSet::new();
        let started = clock.elapsed();
        let trace = local.block_on(&rt, episode(variant, &swarm, left));
        episodes += 1;
        let violations = oracle::check(&trace, &rules(&swarm));
        let reported = clock.elapsed();
        for (i, find) in finds.iter().enumerate() {
            let first = violations.iter().find(|v| find.matches(v));
            if let (None, Some(v)) = (seen[i], first) {
                let s = Seen {
                    reported,
                    happened: started + v.at,
                    episodes,
                };
                eprintln!(
                    "      {variant} {}: reported after {}, happened at {} ({episodes} episodes)",
                    bugs[i].find,
                    human(s.reported),
                    human(s.happened)
                );
                seen[i] = Some(s);
            }
        }
        if clock.elapsed() >= last_note + Duration::from_secs(10) {
            last_note = clock.elapsed();
            eprintln!(
                "      {variant}: {} s, {episodes} episodes",
                last_note.as_secs()
            );
        }
    }
    (seen, episodes)
}

/// Runs the baseline for every known bug, each variant's bugs together,
/// with at most `cap` of real time per bug.
pub fn figure(cap: Duration) -> Baseline {
    eprintln!("[4/5] real-time baseline: up to {} per bug", human(cap));
    let mut found = Vec::new();
    let mut episodes = Vec::new();
    for variant in [Variant::Legacy, Variant::Pr2283] {
        let bugs: Vec<Bug> = KNOWN
            .iter()
            .copied()
            .filter(|b| b.variant == variant)
            .collect();
        let clock = Stopwatch::start();
        let (seen, n) = hunt_variant(variant, &bugs, cap);
        episodes.push((variant, n, clock.elapsed()));
        found.extend(bugs.into_iter().zip(seen));
    }
    Baseline {
        found,
        episodes,
        cap,
    }
}

impl Baseline {
    /// The figure, with ratios to the simulator's medians when `sim` has
    /// them.
    pub fn render(&self, sim: Option<&TimeToBug>) -> String {
        let mut f = String::new();
        let _ = writeln!(
            f,
            "\n4. real-time baseline (a stress test of the same code)"
        );
        let _ = writeln!(
            f,
            "   same reconciler, world, actors and oracle on a real (not paused) tokio clock, all intervals and latencies /{}; actors are background tasks striking random rows at random real-time intervals; episodes take swarm seeds 0, 1, … for their settings; one run per variant, cap {} per bug",
            thousands(SCALE),
            human(self.cap)
        );
        let _ = writeln!(
            f,
            "   reported: when the oracle, run as each episode ends, reported it (as `explore` reports its find); happened: the real instant the violation occurred, the earliest any checker could have flagged it (a lower bound for the baseline)"
        );
        for (v, n, wall) in &self.episodes {
            let _ = writeln!(f, "   {v}: {} episodes in {}", thousands(*n), human(*wall));
        }
        let _ = writeln!(
            f,
            "   {:<8} {:<40} {:>14} {:>10} {:>8} {:>10} {:>9} {:>9}  target >= 100x (reported)",
            "variant", "bug", "reported", "happened", "episodes", "sim median", "ratio", "(happ.)"
        );
        let ratio = |d: Duration, m: Duration| {
            format!("{:.0}x", d.as_secs_f64() / m.as_secs_f64().max(1e-9))
        };
        let mut all = true;
        for (bug, seen) in &self.found {
            let median =
                sim.and_then(|t| t.bugs.iter().find(|b| b.bug == *bug).map(|b| b.median()));
            let (reported, happened, eps) = match seen {
                Some(s) => (human(s.reported), human(s.happened), thousands(s.episodes)),
                None => (
                    format!("not in {}", human(self.cap)),
                    "-".to_owned(),
                    "-".to_owned(),
                ),
            };
            let (r, rh, met) = match (seen, median) {
                (Some(s), Some(m)) => (
                    ratio(s.reported, m),
                    ratio(s.happened, m),
                    verdict(s.reported.as_secs_f64() >= TARGET_RATIO * m.as_secs_f64()),
                ),
                (None, Some(m)) => (
                    format!(">{}", ratio(self.cap, m)),
                    "-".to_owned(),
                    "met (baseline never found it)",
                ),
                (_, None) => ("-".to_owned(), "-".to_owned(), "no sim figure"),
            };
            all &= met.starts_with("met");
            let _ = writeln!(
                f,
                "   {:<8} {:<40} {:>14} {:>10} {:>8} {:>10} {:>9} {:>9}  {}",
                bug.variant.as_str(),
                bug.find,
                reported,
                happened,
                eps,
                median.map_or_else(|| "-".to_owned(), human),
                r,
                rh,
                met
            );
        }
        let _ = writeln!(
            f,
            "   target: >= 100x faster than the baseline (as reported) on each bug it finds: {}",
            verdict(all)
        );
        f
    }
}
