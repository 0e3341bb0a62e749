//! One run: a world, a director, a variant, its replicas and their passes;
//! out come the trace (all of it or its tail) and the oracle's verdict.
//!
//! Everything runs on one thread: the replicas' loops, the platform's flows
//! and the timed flow starts are tasks of one `LocalSet` on a paused,
//! current-thread runtime, so simulated time jumps to the next timer and a
//! seed replays exactly.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use reconciler_core::{Config, ControlPlane, PassObserver, PassReport, Reconciler, Store, Variant};
use tokio::runtime::Runtime;
use tokio::task::LocalSet;
use tokio_util::sync::CancellationToken;

use crate::action::Action;
use crate::control_plane::SimCp;
use crate::director::{Director, Swarm, SwarmDirector};
use crate::hook::{Hook, Point};
use crate::net::Net;
use crate::oracle::{Oracle, Rules, Violation};
use crate::platform::SimOffline;
use crate::seed::child_rng;
use crate::shared::{Behaviour, Shared};
use crate::store::SimStore;
use crate::trace::{Cause, Event, Keep, Observer, Replica, Trace, Tracer};
use crate::world::{Timing, World};

/// The result of one run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Everything that happened (or its tail, for an exploring run).
    pub trace: Trace,
    /// What the oracle found, in time order.
    pub violations: Vec<Violation>,
    /// Simulated time the run covered.
    pub sim_time: Duration,
}

/// A paused, single-threaded tokio runtime: simulated time jumps straight to
/// the next timer, and tasks run in a fixed order.
pub fn sim_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime with only the time driver always builds")
}

/// Marks one replica's pass boundaries in the trace, offers the `pass` hook
/// points, and stops its loop after the planned number of passes. Shared
/// with the real-time baseline of `sim bench`, whose director never acts.
pub(crate) struct Passes {
    pub(crate) shared: Rc<Shared>,
    pub(crate) replica: Replica,
    pub(crate) planned: u64,
    pub(crate) cancel: CancellationToken,
}

impl PassObserver for Passes {
    fn pass_started(&mut self, pass: u64) {
        self.shared.hook(Hook::before(Point::Pass), None);
        self.shared.world.borrow_mut().record(Event::PassStart {
            r: self.replica,
            n: pass,
        });
    }

    fn pass_finished(&mut self, pass: u64, _report: &PassReport) {
        self.shared.world.borrow_mut().record(Event::PassEnd {
            r: self.replica,
            n: pass,
        });
        self.shared.hook(Hook::after(Point::Pass), None);
        if pass + 1 >= self.planned {
            self.cancel.cancel();
        }
    }
}

/// Everything a run needs besides the variant.
pub struct Setup {
    /// The world with its fleet and timed single-step actions in place.
    pub world: World,
    /// Who acts at hook points.
    pub director: Box<dyn Director>,
    /// Latencies and failure rates.
    pub behaviour: Behaviour,
    /// The seed the store's, control plane's and platform's streams derive
    /// from.
    pub seed: u64,
    /// Passes each replica runs.
    pub passes: u64,
    /// When each replica's process starts (its first, boot pass), one per
    /// replica; replica 0 usually at zero.
    pub phases: Vec<Duration>,
    /// Flows started at simulated instants (owner actions drawn or
    /// scripted for a time), in time order.
    pub flows: Vec<(Duration, Action)>,
    /// How the reconciler reaches the control plane.
    pub net: Net,
    /// What strikes the network, in the network mode.
    pub net_faults: crate::net::NetFaults,
}

/// When the replicas and the timed flows run: the part of a [`Setup`] that
/// is not shared state.
pub(crate) struct Schedule {
    pub(crate) passes: u64,
    pub(crate) phases: Vec<Duration>,
    pub(crate) flows: Vec<(Duration, Action)>,
}

/// The shared state of `setup`'s run and its schedule; the
/// store's, control plane's and platform's streams derive from its seed.
pub(crate) fn share(setup: Setup) -> (Rc<Shared>, Schedule, Net) {
    let Setup {
        world,
        director,
        behaviour,
        seed,
        passes,
        phases,
        flows,
        net,
        net_faults: _,
    } = setup;
    let shared = Rc::new(Shared::new(
        world,
        director,
        behaviour,
        [
            child_rng(seed, "store"),
            child_rng(seed, "cp"),
            child_rng(seed, "platform"),
        ],
    ));
    (
        shared,
        Schedule {
            passes,
            phases,
            flows,
        },
        net,
    )
}

/// The world back from a run whose tasks have all ended.
pub(crate) fn unshare(shared: Rc<Shared>) -> World {
    let shared = Rc::try_unwrap(shared)
        .ok()
        .expect("every task holding the world ended with the run");
    shared.world.into_inner()
}

/// Runs the replicas' loops over `setup` until each has run its passes, then
/// lets the platform finish what the last passes started for one more
/// interval; returns the world. Must be called inside a paused runtime (see
/// [`execute`]); the run's tasks live in a `LocalSet` of its own. The
/// control plane is the in-process one whatever `setup.net` says (the
/// shrinker and the real-time baseline use it so); [`execute`] runs the
/// network mode.
pub async fn run_world(variant: Variant, config: Config, setup: Setup) -> World {
    run_world_with(variant, config, setup, |shared, replica| SimStore {
        shared,
        replica,
    })
    .await
}

/// [`run_world`] with another store over the same world: `store` builds each
/// replica's from the shared state (the Postgres backend puts a real
/// database behind the same hook points, trace events and oracle). Every
/// other part — the control plane, the platform, the director, the pass
/// marks — is the simulator's.
pub async fn run_world_with<S: Store + 'static>(
    variant: Variant,
    config: Config,
    setup: Setup,
    store: impl Fn(Rc<Shared>, Replica) -> S,
) -> World {
    let (shared, schedule, _) = share(setup);
    drive(
        Rc::clone(&shared),
        variant,
        config,
        schedule,
        store,
        |shared, replica| SimCp { shared, replica },
    )
    .await;
    unshare(shared)
}

/// Runs the replicas' loops until each has run its passes, then lets the
/// platform finish what the last passes started for one more interval.
/// `store` and `cp` build each replica's ports over the shared state. The
/// run's tasks live in a `LocalSet` of their own and end with it.
pub(crate) async fn drive<S: Store + 'static, C: ControlPlane + 'static>(
    shared: Rc<Shared>,
    variant: Variant,
    config: Config,
    schedule: Schedule,
    store: impl Fn(Rc<Shared>, Replica) -> S,
    cp: impl Fn(Rc<Shared>, Replica) -> C,
) {
    let Schedule {
        passes,
        phases,
        flows,
    } = schedule;
    let local = LocalSet::new();
    let drain = config.effective_interval();
    local
        .run_until(async {
            if !flows.is_empty() {
                tokio::task::spawn_local(timed_flows(Rc::clone(&shared), flows));
            }
            let mut loops = Vec::new();
            for (k, phase) in phases.iter().enumerate() {
                let replica = Replica(u8::try_from(k).expect("at most 255 replicas"));
                let mut reconciler = Reconciler::new(
                    variant,
                    config.clone(),
                    Some(store(Rc::clone(&shared), replica)),
                    Some(cp(Rc::clone(&shared), replica)),
                    SimOffline {
                        shared: Rc::clone(&shared),
                        replica,
                    },
                )
                .expect("a validated configuration");
                let cancel = CancellationToken::new();
                let mut observer = Passes {
                    shared: Rc::clone(&shared),
                    replica,
                    planned: passes,
                    cancel: cancel.clone(),
                };
                let phase = *phase;
                loops.push(tokio::task::spawn_local(async move {
                    if passes > 0 {
                        tokio::time::sleep(phase).await;
                        reconciler.run(&cancel, &mut observer).await;
                    }
                }));
            }
            for l in loops {
                l.await.expect("a replica's loop does not panic");
            }
            // The restarts the last passes started still run: give them an
            // interval, so that what a flip costs is in the trace.
            tokio::time::sleep(drain).await;
            shared.world.borrow_mut().flush();
        })
        .await;
    // Flows still in flight end here, with the run.
    drop(local);
}

async fn timed_flows(shared: Rc<Shared>, flows: Vec<(Duration, Action)>) {
    for (at, action) in flows {
        let instant = shared.world.borrow().instant(at);
        tokio::time::sleep_until(instant).await;
        shared.act(Cause::Timed, action);
    }
}

/// How a run is judged and how much of its trace it keeps.
pub struct Judged {
    /// The variant.
    pub variant: Variant,
    /// Its configuration.
    pub config: Config,
    /// The oracle's rules.
    pub rules: Rules,
    /// How much of the trace to keep.
    pub keep: Keep,
    /// Other observers of every entry (a digest, a streaming printer).
    pub observers: Vec<Box<dyn Observer>>,
}

/// Builds a world with `build` (handed the trace it must write to, with the
/// oracle and `observers` already watching it) inside `rt`'s paused clock,
/// runs it and judges it as the trace goes.
pub fn execute(rt: &Runtime, judged: Judged, build: impl FnOnce(Tracer) -> Setup) -> Outcome {
    let Judged {
        variant,
        config,
        rules,
        keep,
        observers,
    } = judged;
    let (trace, oracle) = judged_trace(rules, variant, keep, observers);
    let setup = rt.block_on(async { build(trace) });
    let world = match setup.net {
        Net::InProcess => rt.block_on(run_world(variant, config, setup)),
        Net::Turmoil => {
            let faults = setup.net_faults.clone();
            crate::net::run_world_net(variant, config, setup, &faults)
        }
    };
    finish(world, oracle)
}

/// A trace that keeps `keep`, watched by a fresh oracle (first) and by
/// `observers`; the oracle's handle comes back for [`finish`].
pub fn judged_trace(
    rules: Rules,
    variant: Variant,
    keep: Keep,
    observers: Vec<Box<dyn Observer>>,
) -> (Tracer, Rc<RefCell<Oracle>>) {
    let oracle = Rc::new(RefCell::new(Oracle::new(rules, variant)));
    let mut trace = Tracer::new(keep);
    trace.observe(Box::new(Rc::clone(&oracle)));
    for o in observers {
        trace.observe(o);
    }
    (trace, oracle)
}

/// Ends a run: drops the trace's observers and reads the oracle's verdict.
pub fn finish(world: World, oracle: Rc<RefCell<Oracle>>) -> Outcome {
    let trace = world.trace.finish();
    let sim_time = trace.last_at();
    let oracle = Rc::try_unwrap(oracle)
        .ok()
        .expect("the trace held the only other handle")
        .into_inner();
    Outcome {
        violations: oracle.finish(sim_time),
        trace,
        sim_time,
    }
}

/// The oracle's rules for a run with these latencies.
pub fn rules_for(config: &Config, cp_max_ms: u64, store_max_ms: u64) -> Rules {
    let probe = Duration::from_millis(cp_max_ms).min(config.probe_timeout);
    Rules {
        pass_deadline: config.pass_deadline,
        overrun_tolerance: Duration::from_secs(1),
        per_row_cost: probe + Duration::from_millis(3 * store_max_ms + 1),
        limit: config.limit,
        liveness_slack: 1,
        fixed_liveness_bound: None,
        storm_bound: STORM_BOUND,
    }
}

/// Flips of one workspace with no comeback between them that make a
/// restart storm (`restart_storm`): three restarts that each gave up are a
/// platform in trouble; a fourth flip is the reconciler feeding it.
pub const STORM_BOUND: u32 = 3;

/// The swarm run of `swarm`: settings, fleet, timed actions and director all
/// derived from its seed, writing to `trace`. Call it inside the paused
/// runtime.
pub fn swarm_setup(swarm: &Swarm, trace: Tracer) -> Setup {
    let mut world = World::new(
        Timing::default(),
        child_rng(swarm.seed, "timing"),
        swarm.world,
        trace,
    );
    let fleet = swarm.fleet_rows();
    world.reserve(fleet.len());
    let mut flows = Vec::new();
    for (at, action) in swarm.timed_actions(&fleet) {
        if crate::actors::starts_flow(&action) {
            flows.push((at, action));
        } else {
            world.schedule(at, Cause::Timed, action);
        }
    }
    for (row, state) in fleet {
        world.seed_row(row, state);
    }
    Setup {
        world,
        director: Box::new(SwarmDirector::new(swarm)),
        behaviour: swarm_behaviour(swarm),
        seed: swarm.seed,
        passes: swarm.passes,
        phases: swarm.phases.clone(),
        flows,
        net: swarm.net,
        net_faults: swarm.net_faults.clone(),
    }
}

/// How the store and control plane of a swarm run behave.
pub fn swarm_behaviour(swarm: &Swarm) -> Behaviour {
    Behaviour {
        cp_latency_ms: swarm.latency.range_ms(),
        cp_error_permille: swarm.cp_error_permille,
        store_latency_ms: swarm.store_latency_ms,
        db_error_permille: swarm.db_error_permille,
        cp_instances: indexmap::IndexMap::new(),
        wire_faults: swarm.net == Net::Turmoil,
    }
}

/// The oracle's rules for a swarm run.
pub fn swarm_rules(swarm: &Swarm, config: &Config) -> Rules {
    let mut cp_max = swarm.latency.range_ms().1;
    if swarm.actors.contains(&&crate::actors::cp_slow::ACTOR) {
        cp_max = cp_max.max(crate::actors::cp_slow::LATENCY_MS.1);
    }
    if swarm.net == Net::Turmoil {
        // A request crosses the network twice, a request reset on a reused
        // connection is sent again, a slow body or a partitioned link holds
        // a probe up to its cap, and a drawn latency crosses twice as well.
        cp_max = if swarm.cp_error_permille > 0 || !swarm.net_faults.faults.is_empty() {
            u64::MAX
        } else {
            2 * cp_max + 4 * u64::try_from(crate::net::TICK.as_millis()).unwrap_or(u64::MAX)
        };
    }
    rules_for(config, cp_max, swarm.store_latency_ms.1)
}

/// Runs one swarm seed against `variant` on `rt`, keeping its whole trace,
/// and judges it.
pub fn run_seed(rt: &Runtime, variant: Variant, swarm: &Swarm) -> Outcome {
    run_seed_with(rt, variant, swarm, Keep::All, Vec::new())
}

/// [`run_seed`], keeping `keep` of the trace, with more observers.
pub fn run_seed_with(
    rt: &Runtime,
    variant: Variant,
    swarm: &Swarm,
    keep: Keep,
    observers: Vec<Box<dyn Observer>>,
) -> Outcome {
    let config = Config::default();
    let judged = Judged {
        variant,
        rules: swarm_rules(swarm, &config),
        config,
        keep,
        observers,
    };
    execute(rt, judged, |trace| swarm_setup(swarm, trace))
}
