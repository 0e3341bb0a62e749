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
//! paths.

use std::ops::RangeInclusive;

use rand::RngExt;

use super::swarm::{Adversary, LatencyProfile};
use crate::seed::{SimRng, child_rng};

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

/// Passes per run.
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

/// Chance that each adversary of [`Adversary::ALL`] is enabled (swarm
/// testing: a random subset per seed).
pub const ADVERSARY_CHANCE: f64 = 0.5;

/// Per-mille chance that an enabled actor strikes at a hook point; one of
/// these, uniformly.
pub const HOOK_PERMILLE: [u32; 3] = [20, 100, 300];

/// Store call latency, ms (fixed for every seed).
pub const STORE_LATENCY_MS: (u64, u64) = (1, 20);

/// Per-request control-plane failure rate, per mille, when `cp_error` is
/// enabled.
pub const CP_ERROR_PERMILLE: u32 = 100;

/// Per-call store failure rate, per mille, when `db_error` is enabled.
pub const DB_ERROR_PERMILLE: u32 = 30;

/// What a seed's settings stream decides: the dimensions of its world.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Rows in the fleet, from [`FLEET`].
    pub fleet: usize,
    /// Passes to run, from [`PASSES`].
    pub passes: u64,
    /// Control-plane latency, from [`LATENCY`].
    pub latency: LatencyProfile,
    /// The enabled adversaries, in [`Adversary::ALL`] order.
    pub adversaries: Vec<Adversary>,
    /// Strike rate at hook points, from [`HOOK_PERMILLE`].
    pub hook_permille: u32,
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
        let adversaries = Adversary::ALL
            .into_iter()
            .filter(|_| rng.random_bool(ADVERSARY_CHANCE))
            .collect();
        let hook_permille = HOOK_PERMILLE[rng.random_range(0..HOOK_PERMILLE.len())];
        Self {
            fleet,
            passes,
            latency,
            adversaries,
            hook_permille,
        }
    }
}
