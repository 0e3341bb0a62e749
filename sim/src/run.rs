//! One run: a world, a director, a variant, a number of passes; out comes
//! the trace and the oracle's verdict.

use std::rc::Rc;
use std::time::Duration;

use reconciler_core::{Config, PassObserver, PassReport, Reconciler, Store, Variant};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use crate::control_plane::SimCp;
use crate::director::{Adversary, Director, Swarm, SwarmDirector};
use crate::hook::{Hook, Point};
use crate::oracle::{self, Rules, Violation};
use crate::restart::SimRestart;
use crate::seed::child_rng;
use crate::shared::{Behaviour, Shared};
use crate::store::SimStore;
use crate::trace::{Cause, Event, Trace};
use crate::world::{Timing, World};

/// The result of one run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Everything that happened.
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

/// Marks pass boundaries in the trace, offers the `pass` hook points, and
/// stops the loop after the planned number of passes. Shared with the
/// real-time baseline of `sim bench`, whose director never acts.
pub(crate) struct Passes {
    pub(crate) shared: Rc<Shared>,
    pub(crate) planned: u64,
    pub(crate) cancel: CancellationToken,
}

impl PassObserver for Passes {
    fn pass_started(&mut self, pass: u64) {
        self.shared.hook(Hook::before(Point::Pass), None);
        self.shared.record(Event::PassStart(pass));
    }

    fn pass_finished(&mut self, pass: u64, _report: &PassReport) {
        self.shared.record(Event::PassEnd(pass));
        self.shared.hook(Hook::after(Point::Pass), None);
        if pass + 1 >= self.planned {
            self.cancel.cancel();
        }
    }
}

/// Everything a run needs besides the variant.
pub struct Setup {
    /// The world with its fleet and timed actions already in place.
    pub world: World,
    /// Who acts at hook points.
    pub director: Box<dyn Director>,
    /// Latencies and failure rates.
    pub behaviour: Behaviour,
    /// The seed the store's and control plane's streams derive from.
    pub seed: u64,
    /// Passes to run.
    pub passes: u64,
}

/// Runs the reconciler loop over `setup` until its passes are done; returns
/// the trace. Must be called inside a paused runtime.
pub async fn run_world(variant: Variant, config: Config, setup: Setup) -> Trace {
    run_world_with(variant, config, setup, SimStore).await
}

/// [`run_world`] with another store over the same world: `store` builds it
/// from the shared state (the Postgres backend puts a real database behind
/// the same hook points, trace events and oracle). Every other part — the
/// control plane, the restart actor, the director, the pass marks — is the
/// simulator's.
pub async fn run_world_with<S: Store>(
    variant: Variant,
    config: Config,
    setup: Setup,
    store: impl FnOnce(Rc<Shared>) -> S,
) -> Trace {
    let shared = Rc::new(Shared::new(
        setup.world,
        setup.director,
        setup.behaviour,
        child_rng(setup.seed, "store"),
        child_rng(setup.seed, "cp"),
    ));
    let mut reconciler = Reconciler::new(
        variant,
        config,
        Some(store(Rc::clone(&shared))),
        Some(SimCp(Rc::clone(&shared))),
        SimRestart(Rc::clone(&shared)),
    )
    .expect("the reference configuration is valid");
    let cancel = CancellationToken::new();
    let mut observer = Passes {
        shared: Rc::clone(&shared),
        planned: setup.passes,
        cancel: cancel.clone(),
    };
    if setup.passes > 0 {
        reconciler.run(&cancel, &mut observer).await;
    }
    drop(observer);
    drop(reconciler);
    let shared = Rc::try_unwrap(shared)
        .ok()
        .expect("every component holding the world is dropped with the reconciler");
    shared.world.into_inner().trace
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
    }
}

/// The swarm run of `seed`: settings, fleet, timed actions and director all
/// derived from the seed. Call it inside the paused runtime.
pub fn swarm_setup(swarm: &Swarm) -> Setup {
    let mut world = World::new(Timing::default(), child_rng(swarm.seed, "timing"));
    let fleet = swarm.fleet_rows();
    world.reserve(fleet.len());
    for (at, action) in swarm.timed_actions(&fleet) {
        world.schedule(at, Cause::Timed, action);
    }
    for (row, state) in fleet {
        world.seed_row(row, state);
    }
    Setup {
        world,
        director: Box::new(SwarmDirector::new(swarm)),
        behaviour: Behaviour {
            cp_latency_ms: swarm.latency.range_ms(),
            cp_error_permille: swarm.cp_error_permille,
            store_latency_ms: swarm.store_latency_ms,
            db_error_permille: swarm.db_error_permille,
            cp_instances: indexmap::IndexMap::new(),
        },
        seed: swarm.seed,
        passes: swarm.passes,
    }
}

/// Runs one swarm seed against `variant` on `rt` and judges it.
pub fn run_seed(rt: &Runtime, variant: Variant, swarm: &Swarm) -> Outcome {
    let config = Config::default();
    let mut cp_max = swarm.latency.range_ms().1;
    if swarm.adversaries.contains(&Adversary::SlowCp) {
        cp_max = cp_max.max(9_900);
    }
    let rules = rules_for(&config, cp_max, swarm.store_latency_ms.1);
    // The world reads the clock, so it must be built inside the paused
    // runtime: outside it, tokio's `Instant::now` is the wall clock.
    let trace = rt.block_on(async { run_world(variant, config, swarm_setup(swarm)).await });
    let violations = oracle::check(&trace, &rules);
    let sim_time = trace.entries.last().map_or(Duration::ZERO, |e| e.at);
    Outcome {
        trace,
        violations,
        sim_time,
    }
}
