//! The network mode (`--net turmoil`): the reconciler reaches the simulated
//! control plane through `cp-http`'s real HTTP client over turmoil's
//! simulated TCP, so that what a production client does with bytes on a
//! wire (a body of `null`, a body cut short, a reset after the headers, a
//! slow body, a reused keep-alive connection, a partition or a held link)
//! is part of the run.
//!
//! One source of truth, two transports: the control plane's host answers
//! each request with [`crate::control_plane::serve`], the same code (and the
//! same ground truth, latency and failure streams) the in-process control
//! plane runs; only the bytes in between differ.
//!
//! Time: the reconciler's replicas, its store and the timed flows run on
//! turmoil's client host [`RECONCILER`], the control plane on the host
//! [`CP`]. Each turmoil host has a paused tokio runtime of its own, which a
//! turmoil step runs up to the step's end, firing every timer at its
//! instant on the way; the world reads turmoil's elapsed time instead of
//! one runtime's clock (`World::use_turmoil_clock`). Messages between the
//! hosts are delivered at step boundaries, so [`TICK`] is the network's
//! granularity and what a simulated second costs.
//!
//! One seed decides everything: turmoil's RNG is seeded from the run's seed
//! (stream `"turmoil"`), its epoch pinned to the Unix epoch, its node order
//! fixed, and the network faults drawn from the stream `"net"`.

mod client;
mod faults;
mod server;

use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use reconciler_core::{Config, Variant};

pub use faults::{LinkFault, NetFaults};

use crate::run::{Setup, drive, share, unshare};
use crate::seed::child_seed;
use crate::store::SimStore;
use crate::world::World;

/// How the reconciler reaches the control plane.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Net {
    /// A trait call into the simulated control plane: fast, every push.
    #[default]
    InProcess,
    /// HTTP over turmoil's simulated network ([`crate::net`]).
    Turmoil,
}

impl Net {
    /// Both modes.
    pub const ALL: [Net; 2] = [Net::InProcess, Net::Turmoil];

    /// The name on command lines and in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Net::InProcess => "in-process",
            Net::Turmoil => "turmoil",
        }
    }
}

impl std::str::FromStr for Net {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Net::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown network mode {s:?}: expected one of {}",
                    Net::ALL.map(Net::as_str).join(", ")
                )
            })
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// turmoil's step: messages between the hosts are delivered at step
/// boundaries, and each step costs about the same wall time however little
/// happens in it (timers within a step fire at their own instants). 50 ms
/// puts a request's two crossings at 50–100 ms each way, under the 10 s
/// cap and the 60 s interval by far, while an 8 s answer costs 160 steps,
/// not 8,000; measured against 10 ms in `docs/decisions.md`.
pub const TICK: Duration = Duration::from_millis(50);

/// The reconciler's host.
pub const RECONCILER: &str = "reconciler";

/// The control plane's host.
pub const CP: &str = "cp";

/// The control plane's port.
pub const PORT: u16 = 80;

/// Longer than any run: turmoil fails a simulation that outlives its
/// duration.
const LONGEST_RUN: Duration = Duration::from_secs(400 * 24 * 3600);

/// Runs `setup` as [`crate::run::run_world`] does, with the control plane
/// on its own turmoil host, reached over HTTP; `faults` strike the link
/// between the hosts. Must be called outside any tokio runtime (turmoil
/// runs its own).
pub fn run_world_net(
    variant: Variant,
    config: Config,
    mut setup: Setup,
    faults: &NetFaults,
) -> World {
    setup.world.use_turmoil_clock();
    let seed = setup.seed;
    let (shared, schedule, _) = share(setup);
    let mut sim = turmoil::Builder::new()
        .tick_duration(TICK)
        .simulation_duration(LONGEST_RUN)
        .epoch(UNIX_EPOCH)
        .min_message_latency(Duration::ZERO)
        .max_message_latency(Duration::ZERO)
        .rng_seed(child_seed(seed, "turmoil"))
        .build();
    let server_shared = Rc::clone(&shared);
    sim.host(CP, move || server::serve(Rc::clone(&server_shared)));
    let client_shared = Rc::clone(&shared);
    sim.client(RECONCILER, async move {
        drive(
            client_shared,
            variant,
            config,
            schedule,
            |shared, replica| SimStore { shared, replica },
            client::NetCp::new,
        )
        .await;
        Ok(())
    });
    let mut pending = faults.events();
    loop {
        while let Some((at, event)) = pending.first() {
            if *at > sim.elapsed() {
                break;
            }
            event.apply(&sim);
            pending.remove(0);
        }
        match sim.step() {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => panic!("the network simulation failed: {e}"),
        }
    }
    // Dropping the simulation ends the control plane's tasks, which hold
    // the world too.
    drop(sim);
    unshare(shared)
}
