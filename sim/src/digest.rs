//! One number that stands for the traces of many seeds, so that two runs of
//! a seed range (two builds, two profiles, a sharded and an unsharded run)
//! can be compared for determinism by comparing one line of output.
//!
//! Each seed contributes a value mixed from its number and its trace hash,
//! and contributions are combined with XOR, which is order-independent: the
//! digests of the `N` shards of a run, XORed together, equal the digest of
//! the unsharded run. A changed trace changes its seed's contribution (the
//! mix is a bijection of the trace hash for a given seed), so it changes the
//! digest.

use std::fmt;
use std::str::FromStr;

use crate::seed::splitmix;

/// The XOR of the per-seed contributions, and how many seeds were added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TraceDigest {
    /// XOR of every seed's contribution.
    pub value: u64,
    /// Seeds added.
    pub seeds: u64,
}

impl TraceDigest {
    /// Adds one seed whose trace hashed to `trace_hash`.
    pub fn add(&mut self, seed: u64, trace_hash: u64) {
        self.value ^= splitmix(trace_hash ^ splitmix(seed));
        self.seeds += 1;
    }

    /// The digest of two disjoint sets of seeds together (two shards).
    pub fn combine(self, other: TraceDigest) -> TraceDigest {
        TraceDigest {
            value: self.value ^ other.value,
            seeds: self.seeds + other.seeds,
        }
    }
}

/// `<16 hex digits>/<seeds>`, the form `sim explore --digest` prints and
/// `ci/check.sh` compares (and XORs, for shards).
impl fmt::Display for TraceDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}/{}", self.value, self.seeds)
    }
}

/// Reads back what [`fmt::Display`] wrote, for `sim merge`.
impl FromStr for TraceDigest {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = || format!("expected a digest like 0123456789abcdef/1000, got {s:?}");
        let (value, seeds) = s.split_once('/').ok_or_else(expected)?;
        if value.len() != 16 {
            return Err(expected());
        }
        Ok(TraceDigest {
            value: u64::from_str_radix(value, 16).map_err(|_| expected())?,
            seeds: seeds.parse().map_err(|_| expected())?,
        })
    }
}
