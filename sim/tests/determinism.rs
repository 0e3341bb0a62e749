//! Same seed, same binary, same trace — whether the seed runs alone on a
//! fresh runtime (as `replay` does) or after others on a shared one (as
//! `explore` does).

use reconciler_core::Variant;
use sim::director::{Overrides, Swarm};
use sim::run::{run_seed, sim_runtime};
use sim::trace::LineHash;

fn hashes(variant: Variant, seeds: std::ops::Range<u64>, fresh_runtime: bool) -> Vec<u64> {
    let shared = sim_runtime();
    seeds
        .map(|seed| {
            let swarm = Swarm::from_seed(seed, Overrides::default());
            let outcome = if fresh_runtime {
                run_seed(&sim_runtime(), variant, &swarm)
            } else {
                run_seed(&shared, variant, &swarm)
            };
            LineHash::of(&outcome.trace)
        })
        .collect()
}

#[test]
fn a_thousand_seeds_give_identical_traces_twice() {
    for variant in [Variant::Pr2283, Variant::Hardened] {
        let first = hashes(variant, 0..1_000, false);
        let second = hashes(variant, 0..1_000, true);
        assert_eq!(
            first, second,
            "{variant}: a seed's trace depends on what ran before it"
        );
        let distinct: std::collections::BTreeSet<_> = first.iter().collect();
        assert!(
            distinct.len() > 490,
            "{variant}: seeds should give different runs"
        );
    }
}

#[test]
fn swarm_settings_are_a_function_of_the_seed() {
    for seed in [0, 1, 42, u64::MAX] {
        assert_eq!(
            Swarm::from_seed(seed, Overrides::default()).describe(),
            Swarm::from_seed(seed, Overrides::default()).describe()
        );
    }
    assert_ne!(
        Swarm::from_seed(1, Overrides::default()).describe(),
        Swarm::from_seed(2, Overrides::default()).describe()
    );
}
