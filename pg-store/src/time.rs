//! `timestamptz` as an exact integer.

/// A `timestamptz` as microseconds since the Unix epoch — Postgres's own
/// resolution, so a value survives a round trip exactly.
///
/// An integer rather than a date-time type because what the harness needs
/// from `updated_at` is its order (the candidate query sorts by it) and exact
/// equality (ties), and because it keeps a date-time crate out of the
/// dependency tree. In SQL it is converted with
/// `'epoch'::timestamptz + $n * interval '1 microsecond'` and
/// `(extract(epoch FROM col) * 1000000)::int8`, both exact in this range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

impl Micros {
    /// `seconds` after the epoch.
    pub fn from_secs(seconds: i64) -> Self {
        Self(seconds * 1_000_000)
    }
}
