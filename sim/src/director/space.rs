//! The swarm's value space: every range and table a seed's settings are
//! drawn from, defined once.
//!
//! [`Settings::draw`] draws from these constants with the seed's `swarm`
//! stream; that is what `explore`, `replay` and `shrink` use. The property
//! tests build proptest strategies from the same constants, so both
//! generators range over the same worlds and cannot drift apart (a test
//! checks that each stays inside this space and reaches every corner of it).
//! Everything else about a world — its rows, its timed actions, the strikes
//! at hook points — is derived from the sub-seed by the same code on both
//! paths. The actors' own drawn ranges live with each actor
//! (`crate::actors`).

use std::ops::RangeInclusive;
use std::time::Duration;

use rand::RngExt;

use super::swarm::LatencyProfile;
use crate::actors::{ACTORS, Actor};
use crate::seed::{SimRng, child_rng};
use crate::world::{HeartbeatWrites, Reaped};

/// Alternatives with integer weights: each is chosen with probability
/// weight / total. A table rather than a `match` over a draw so that a
/// proptest `Union` can be built from the very same alternatives.
#[derive(Debug)]
pub struct Weighted<T: 'static> {
    /// `(weight, alternative)`, in the order a shrinker prefers them (first
    /// = simplest).
    pub table: &'static [(u32, T)],
}

impl<T> Weighted<T> {
    /// The sum of the weights.
    pub fn total(&self) -> u32 {
        self.table.iter().map(|(w, _)| w).sum()
    }

    /// Picks an alternative with one draw in `0..total`.
    pub fn pick(&self, rng: &mut SimRng) -> &'static T {
        let mut r = rng.random_range(0..self.total());
        let (_, alternative) = self
            .table
            .iter()
            .find(|(w, _)| {
                let hit = r < *w;
                r = r.saturating_sub(*w);
                hit
            })
            .expect("a draw below the total falls in some alternative");
        alternative
    }
}

/// Fleet size: mostly small fleets (where a race is easy to read), some
/// medium, a few large enough to exceed a pass's capacity.
pub const FLEET: Weighted<RangeInclusive<usize>> = Weighted {
    table: &[(6, 1..=8), (3, 9..=50), (1, 51..=300)],
};

/// Passes per replica.
pub const PASSES: RangeInclusive<u64> = 1..=30;

/// Control-plane latency profile.
pub const LATENCY: Weighted<LatencyProfile> = Weighted {
    table: &[
        (4, LatencyProfile::Fast),
        (3, LatencyProfile::Variable),
        (2, LatencyProfile::SlowUnderCap),
        (1, LatencyProfile::OverCap),
    ],
};

/// Chance that each actor the swarm can enable is enabled (swarm testing: a
/// random subset per seed).
pub const ACTOR_CHANCE: f64 = 0.5;

/// Per-mille chance that an enabled actor strikes at a hook point; one of
/// these, uniformly.
pub const HOOK_PERMILLE: [u32; 3] = [20, 100, 300];

/// Reconciler replicas (platform processes), each with its own loop and its
/// own restart coalescing.
pub const REPLICAS: Weighted<u8> = Weighted {
    table: &[(6, 1), (3, 2), (1, 3)],
};

/// Whether every heartbeat writes the row.
pub const HEARTBEAT: Weighted<HeartbeatWrites> = Weighted {
    table: &[(1, HeartbeatWrites::Every), (1, HeartbeatWrites::OnChange)],
};

/// What the control plane answers for a reaped instance.
pub const REAPED: Weighted<Reaped> = Weighted {
    table: &[(1, Reaped::NotFound), (1, Reaped::Terminated)],
};

/// The control plane's consistency lag, ms: usually none, otherwise up to
/// 20 s (`hardened`'s `not_found_quiet` of 60 s is built to outlast it).
pub const LAG_MS: Weighted<RangeInclusive<u64>> = Weighted {
    table: &[(6, 0..=0), (4, 1_000..=20_000)],
};

/// Chance that Pause stops the instance (current platforms) rather than
/// only writing the status (older ones).
pub const PAUSE_STOPS_CHANCE: f64 = 0.8;

/// Chance that a restart cycle provisions in a goroutine (older
/// platforms).
pub const ASYNC_PROVISION_CHANCE: f64 = 0.2;

/// Store call latency, ms (fixed for every seed).
pub const STORE_LATENCY_MS: (u64, u64) = (1, 20);

/// What a seed's settings stream decides: the dimensions of its world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Rows in the fleet, from [`FLEET`].
    pub fleet: usize,
    /// Passes each replica runs, from [`PASSES`].
    pub passes: u64,
    /// Control-plane latency, from [`LATENCY`].
    pub latency: LatencyProfile,
    /// The enabled actors, in [`ACTORS`] order.
    pub actors: Vec<&'static Actor>,
    /// Strike rate at hook points, from [`HOOK_PERMILLE`].
    pub hook_permille: u32,
    /// Replicas, from [`REPLICAS`].
    pub replicas: u8,
    /// Whether every heartbeat writes the row.
    pub heartbeat: HeartbeatWrites,
    /// What the control plane answers for a reaped instance.
    pub reaped: Reaped,
    /// The control plane's consistency lag.
    pub lag: Duration,
    /// Whether Pause stops the instance.
    pub pause_stops: bool,
    /// Whether a restart cycle provisions in a goroutine.
    pub async_provision: bool,
}

/// The actors the swarm can enable, in [`ACTORS`] order.
pub fn swarm_actors() -> impl Iterator<Item = &'static Actor> {
    ACTORS.iter().copied().filter(|a| a.in_swarm())
}

impl Settings {
    /// Draws every setting from the `swarm` stream of `seed`. The order of
    /// the draws is part of every seed's identity: changing it changes every
    /// recorded seed's world.
    pub fn draw(seed: u64) -> Self {
        let mut rng = child_rng(seed, "swarm");
        let bucket = FLEET.pick(&mut rng).clone();
        let fleet = rng.random_range(bucket);
        let passes = rng.random_range(PASSES);
        let latency = *LATENCY.pick(&mut rng);
        let actors = swarm_actors()
            .filter(|_| rng.random_bool(ACTOR_CHANCE))
            .collect();
        let hook_permille = HOOK_PERMILLE[rng.random_range(0..HOOK_PERMILLE.len())];
        let replicas = *REPLICAS.pick(&mut rng);
        let heartbeat = *HEARTBEAT.pick(&mut rng);
        let reaped = *REAPED.pick(&mut rng);
        let lag_range = LAG_MS.pick(&mut rng).clone();
        let lag = Duration::from_millis(rng.random_range(lag_range));
        let pause_stops = rng.random_bool(PAUSE_STOPS_CHANCE);
        let async_provision = rng.random_bool(ASYNC_PROVISION_CHANCE);
        Self {
            fleet,
            passes,
            latency,
            actors,
            hook_permille,
            replicas,
            heartbeat,
            reaped,
            lag,
            pause_stops,
            async_provision,
        }
    }
}
