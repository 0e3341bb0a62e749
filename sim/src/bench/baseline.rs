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
use std::time::Duration;

use rand::RngExt;
use reconciler_core::{Config, Variant, WorkspaceId};
use tokio::time::Instant;

use super::time_to_bug::{Bug, KNOWN, TimeToBug};
use super::{Stopwatch, human, thousands, verdict};
use crate::action::Action;
use crate::actors::{Fleet, Role};
use crate::director::{Director, Overrides, Swarm};
use crate::explore::Find;
use crate::hook::Hook;
use crate::oracle::{Rules, Violation};
use crate::run::{Setup, finish, judged_trace, run_world, swarm_behaviour, swarm_rules};
use crate::seed::child_rng;
use crate::trace::Keep;
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
    let s = SCALE as u32;
    Config {
        interval: d.interval / s,
        pass_deadline: d.pass_deadline / s,
        probe_timeout: d.probe_timeout / s,
        reconfirm_timeout: d.reconfirm_timeout / s,
        limit: d.limit,
        not_found_quiet: d.not_found_quiet / s,
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
        restart_wait_ms: scaled(d.restart_wait_ms),
    }
}

/// The oracle's rules for an episode, on the scaled clock.
fn rules(swarm: &Swarm) -> Rules {
    let mut rules = swarm_rules(swarm, &Config::default());
    rules.pass_deadline /= SCALE as u32;
    rules.overrun_tolerance /= SCALE as u32;
    rules.per_row_cost /= SCALE as u32;
    rules
}

/// A stress test has no hook points: nobody acts there.
struct NoHooks;

impl Director for NoHooks {
    fn at_hook(&mut self, _hook: Hook, _ws: Option<&WorkspaceId>, _world: &World) -> Vec<Action> {
        Vec::new()
    }
}

/// What the actors of a stress test do: each enabled one strikes at
/// uniformly random real-time instants, `hook_permille / 20` times per
/// interval on average (about once per pass to fifteen times), picking its
/// target the way its home says; a fault period starts every other pass.
fn strikes(
    swarm: &Swarm,
    fleet: &[(crate::row::Row, Option<reconciler_core::InstanceState>)],
) -> Vec<(Duration, Action)> {
    let span_ms = swarm.passes * 60_000;
    let targets = Fleet(fleet);
    let mut out = Vec::new();
    for actor in &swarm.actors {
        let mut rng = child_rng(swarm.seed, &format!("actor-{}", actor.name));
        let count = match actor.role {
            Role::Strikes(_) => swarm.passes * u64::from(swarm.hook_permille) / 20,
            Role::Periods(_) => swarm.passes.div_ceil(2),
            Role::Rate(_) | Role::Scripted => continue,
        };
        for _ in 0..count {
            let at = Duration::from_millis(scaled(rng.random_range(0..span_ms)));
            match actor.strike(&targets, None, &mut rng) {
                Some(Action::CpSlow { latency_ms, for_ms }) => out.push((
                    at,
                    Action::CpSlow {
                        latency_ms: scaled(latency_ms),
                        for_ms: scaled(for_ms),
                    },
                )),
                Some(Action::CpPartition { for_ms }) => out.push((
                    at,
                    Action::CpPartition {
                        for_ms: scaled(for_ms),
                    },
                )),
                Some(a) => out.push((at, a)),
                None => {}
            }
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out
}

/// Runs one episode in real time; returns its violations, or `None` when
/// the `budget` ran out first. Must run on a runtime whose clock is real.
async fn episode(variant: Variant, swarm: &Swarm, budget: Duration) -> Option<Vec<Violation>> {
    let stop_at = Instant::now() + budget;
    let (trace, oracle) = judged_trace(rules(swarm), variant, Keep::Tail(0), Vec::new());
    let mut behaviour = swarm_behaviour(swarm);
    behaviour.cp_latency_ms = scaled_range(behaviour.cp_latency_ms);
    behaviour.store_latency_ms = scaled_range(behaviour.store_latency_ms);
    let mut world = World::new(
        timing(),
        child_rng(swarm.seed, "timing"),
        swarm.world,
        trace,
    );
    let fleet = swarm.fleet_rows();
    let mut flows = Vec::new();
    for (at, action) in strikes(swarm, &fleet) {
        if crate::actors::starts_flow(&action) {
            flows.push((at, action));
        } else {
            world.schedule(at, crate::trace::Cause::Timed, action);
        }
    }
    for (row, state) in fleet {
        world.seed_row(row, state);
    }
    let setup = Setup {
        world,
        director: Box::new(NoHooks),
        behaviour,
        seed: swarm.seed,
        passes: swarm.passes,
        phases: swarm.phases.iter().map(|p| *p / SCALE as u32).collect(),
        flows,
        net: crate::net::Net::InProcess,
        net_faults: crate::net::NetFaults::default(),
    };
    tokio::select! {
        biased;
        world = run_world(variant, config(), setup) => Some(finish(world, oracle).violations),
        () = tokio::time::sleep_until(stop_at) => None,
    }
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
    let finds: Vec<Find> = bugs.iter().map(Bug::find).collect();
    let mut seen: Vec<Option<Seen>> = vec![None; bugs.len()];
    let mut episodes = 0u64;
    let mut last_note = Duration::ZERO;
    while seen.iter().any(Option::is_none) {
        let left = cap.saturating_sub(clock.elapsed());
        if left.is_zero() {
            break;
        }
        let swarm = Swarm::from_seed(episodes, Overrides::default());
        let started = clock.elapsed();
        let Some(violations) = rt.block_on(episode(variant, &swarm, left)) else {
            break;
        };
        episodes += 1;
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
                    bugs[i].name(),
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
                bug.name(),
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
