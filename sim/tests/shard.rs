//! `--shard I/N` splits one run's seeds exactly: every seed once, in one
//! shard.

use std::collections::BTreeSet;

use reconciler_core::Variant;
use sim::director::Overrides;
use sim::explore::{Find, Plan, Progress, Shard, explore};
use sim::world::PlatformMode;

struct Collect(Vec<u64>);

impl Progress for Collect {
    fn seed_done(&mut self, _done: u64, seed: u64) -> bool {
        self.0.push(seed);
        true
    }
}

fn seeds_of(shard: Shard) -> Vec<u64> {
    let plan = Plan {
        variant: Variant::Hardened,
        start_seed: 1_000,
        seeds: Some(101),
        shard,
        overrides: Overrides {
            passes: Some(1),
            platform: PlatformMode::Hardened,
            ..Overrides::default()
        },
        find: Find::default(),
    };
    let mut seen = Collect(Vec::new());
    let (summary, finding) = explore(&plan, &mut seen);
    assert!(finding.is_none(), "hardened must be clean here");
    assert_eq!(summary.seeds, seen.0.len() as u64);
    seen.0
}

#[test]
fn shards_cover_exactly_the_unsharded_seeds() {
    let whole: Vec<u64> = seeds_of(Shard::ALL);
    assert_eq!(whole, (1_000..1_101).collect::<Vec<_>>());
    let mut union = BTreeSet::new();
    let mut total = 0;
    for index in 0..4 {
        let part = seeds_of(Shard { index, count: 4 });
        total += part.len();
        union.extend(part);
    }
    assert_eq!(total, whole.len(), "a seed ran in two shards");
    assert_eq!(union.into_iter().collect::<Vec<_>>(), whole);
}

#[test]
fn shard_parsing_rejects_nonsense() {
    assert_eq!("1/3".parse::<Shard>(), Ok(Shard { index: 1, count: 3 }));
    for bad in ["3/3", "1/0", "x/2", "1", "-1/2"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad} should be refused");
    }
}
