//! A fast, deterministic hasher for the simulator's small keys.
//!
//! Instance and workspace ids are a few bytes long; SipHash (the standard
//! default, built to resist hash flooding from untrusted input) costs more
//! than the rest of a lookup for them. The keys here come from our own
//! generator, so FNV-1a is enough. Iteration order of an `IndexMap` is
//! insertion order whatever the hasher, so the choice never shows in a
//! trace.

use std::hash::{BuildHasherDefault, Hasher};

/// 64-bit FNV-1a.
#[derive(Clone, Copy, Debug)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`Fnv`] hashers, for `IndexMap`/`IndexSet`.
pub type FnvBuild = BuildHasherDefault<Fnv>;

/// The FNV-1a hash of `bytes`.
pub fn hash(bytes: &[u8]) -> u64 {
    let mut h = Fnv::default();
    h.write(bytes);
    h.finish()
}
