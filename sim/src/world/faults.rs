//! Faults of the system itself, as the world currently suffers them.

use std::time::Duration;

use crate::action::CpFailure;

/// The control plane's and the store's injected misbehaviour.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// A fixed latency overriding the profile, until an instant.
    pub cp_slow: Option<(Duration, Duration)>,
    /// Failures the next requests get, in order.
    pub cp_errors: Vec<CpFailure>,
    /// The control plane is unreachable until this instant.
    pub cp_partition_until: Option<Duration>,
    /// How many of the next store calls fail.
    pub db_errors: u32,
}
