//! One `u64` seed, and the child seeds derived from it.
//!
//! Every consumer of randomness (the swarm settings, the fleet, the store's
//! latencies, the control plane, each adversary) draws from its own stream,
//! derived from the run seed and a fixed label. Adding a consumer, or drawing
//! more from one, never shifts another's stream.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator every consumer uses: ChaCha8, whose output for a given seed
/// is specified and stable across platforms and `rand` releases.
pub type SimRng = ChaCha8Rng;

/// The seed of the stream named `label` under `seed`.
pub fn child_seed(seed: u64, label: &str) -> u64 {
    // FNV-1a over the label, then SplitMix64 finalisation of the mix: cheap,
    // stable, and well spread even for neighbouring run seeds.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix(seed ^ splitmix(h))
}

/// A generator for the stream named `label` under `seed`.
pub fn child_rng(seed: u64, label: &str) -> SimRng {
    SimRng::seed_from_u64(child_seed(seed, label))
}

/// SplitMix64's finaliser: a bijection of `u64` that spreads every input bit.
pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
