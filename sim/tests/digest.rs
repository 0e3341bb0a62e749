//! The trace digest CI compares across builds: shards combine to the
//! unsharded digest, the binary prints the same digest twice, and a changed
//! trace changes it.

use std::process::Command;

use reconciler_core::Variant;
use sim::digest::TraceDigest;
use sim::director::Overrides;
use sim::explore::{Find, Options, Plan, Progress, Shard, explore_with};
use sim::world::PlatformMode;

struct Quiet;

impl Progress for Quiet {
    fn seed_done(&mut self, _done: u64, _seed: u64) -> bool {
        true
    }
}

fn digest_of(shard: Shard) -> TraceDigest {
    let plan = Plan {
        variant: Variant::Hardened,
        start_seed: 500,
        seeds: Some(120),
        shard,
        overrides: Overrides {
            passes: None,
            platform: PlatformMode::Hardened,
            ..Overrides::default()
        },
        find: Find::default(),
    };
    let options = Options {
        digest: true,
        ..Options::default()
    };
    let explored = explore_with(&plan, options, &mut Quiet);
    assert!(explored.finding.is_none(), "hardened must be clean here");
    let d = explored.digest.expect("asked for a digest");
    assert_eq!(
        d.seeds, explored.summary.seeds,
        "every seed run is in the digest"
    );
    d
}

#[test]
fn shard_digests_combine_to_the_unsharded_digest() {
    let whole = digest_of(Shard::ALL);
    assert_eq!(whole.seeds, 120);
    let parts = (0..3).map(|index| digest_of(Shard { index, count: 3 }));
    let combined = parts.fold(TraceDigest::default(), TraceDigest::combine);
    assert_eq!(combined, whole);
}

#[test]
fn one_changed_trace_changes_the_digest() {
    let hashes: Vec<(u64, u64)> = (0..50u64)
        .map(|s| (s, s.wrapping_mul(0x1234_5678)))
        .collect();
    let digest = |hs: &[(u64, u64)]| {
        let mut d = TraceDigest::default();
        for &(seed, h) in hs {
            d.add(seed, h);
        }
        d
    };
    let base = digest(&hashes);
    for i in [0, 17, 49] {
        let mut changed = hashes.clone();
        changed[i].1 ^= 1;
        assert_ne!(digest(&changed), base, "seed {i}'s trace changed");
        let mut swapped = hashes.clone();
        swapped[i].0 += 1_000;
        assert_ne!(digest(&swapped), base, "seed {i} became another seed");
    }
    let printed = TraceDigest {
        value: 0xab,
        seeds: 3,
    };
    assert_eq!(printed.to_string(), "00000000000000ab/3");
    assert_eq!("00000000000000ab/3".parse(), Ok(printed), "read back");
    for bad in [
        "ab/3",
        "00000000000000ab",
        "00000000000000xy/3",
        "00000000000000ab/-1",
    ] {
        assert!(
            bad.parse::<TraceDigest>().is_err(),
            "{bad} should be refused"
        );
    }
}

fn printed_digest(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .output()
        .expect("the sim binary runs");
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("digest "))
        .unwrap_or_else(|| panic!("no digest line in {stdout:?}"))
        .to_owned()
}

#[test]
fn the_binary_prints_the_same_digest_as_the_library_every_time() {
    let args = [
        "explore",
        "--seeds",
        "120",
        "--start-seed",
        "500",
        "--platform",
        "hardened",
        "--digest",
    ];
    let first = printed_digest(&args);
    assert_eq!(printed_digest(&args), first);
    assert_eq!(first, digest_of(Shard::ALL).to_string());
}
