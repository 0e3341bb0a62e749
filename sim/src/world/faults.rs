//! Faults of the system itself, as the world currently suffers them.
//!
//! Fault model: a `db_error` fails the next store calls *issued* (by the
//! reconciler or by a platform flow), so a step placed just before a call
//! fails exactly that call; a `cp_error` fails the next instance-state
//! requests (the reconciler's probes); a `cp_slow` overrides the latency of
//! every control-plane request while it lasts; a `cp_partition` holds every
//! request (probes, and the platform's stops and launches) until it heals.

use std::time::Duration;

use crate::action::CpFailure;

/// The control plane's and the store's injected misbehaviour.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// A fixed latency overriding the profile, until an instant.
    pub cp_slow: Option<(Duration, Duration)>,
    /// Failures the next state requests get, in order.
    pub cp_errors: std::collections::VecDeque<CpFailure>,
    /// The control plane is unreachable until this instant.
    pub cp_partition_until: Option<Duration>,
    /// How many of the next store calls fail.
    pub db_errors: u32,
}
