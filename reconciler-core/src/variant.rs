//! The run-time choice between the three reconcile algorithms.

use std::fmt;
use std::str::FromStr;

/// Which algorithm a [`crate::Reconciler`] runs; see the crate docs for the
/// table of differences.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// Before PR #2283: kept so the harness can prove it finds what the PR
    /// fixed.
    Legacy,
    /// As merged in PR #2283: kept so the harness can show what it left.
    Pr2283,
    /// This project's recommendation.
    #[default]
    Hardened,
}

impl Variant {
    /// Every variant, in a stable order for tables and loops.
    pub const ALL: [Variant; 3] = [Variant::Legacy, Variant::Pr2283, Variant::Hardened];

    /// The name used on command lines, in scenario files and in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Legacy => "legacy",
            Variant::Pr2283 => "pr2283",
            Variant::Hardened => "hardened",
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown variant name; the message lists the accepted ones.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown variant {0:?}: expected one of legacy, pr2283, hardened")]
pub struct UnknownVariant(pub String);

impl FromStr for Variant {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Variant::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownVariant(s.to_owned()))
    }
}
