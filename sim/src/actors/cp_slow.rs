//! Periods in which the control plane answers, but slowly: every request
//! takes the same long latency (MED-2's "degraded but not erroring" control
//! plane, near the 10 s probe timeout).

use std::time::Duration;

use super::{Actor, Role, Verb, draw_ms, positive_ms};
use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::world::World;

/// Latency of every request during a drawn period, ms (under and just over
/// nothing: the probe timeout is 10 s).
pub const LATENCY_MS: (u64, u64) = (7_000, 9_900);
/// How long a drawn period lasts, ms.
pub const FOR_MS: (u64, u64) = (30_000, 300_000);

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "cp_slow",
    about: "periods of a slow (but answering) control plane",
    verbs: &[Verb {
        word: "cp_slow",
        usage: "cp_slow LATENCY for DURATION",
        parse: |args| match args {
            [lat, "for", d] => Ok(Action::CpSlow {
                latency_ms: positive_ms(lat)?,
                for_ms: positive_ms(d)?,
            }),
            _ => Err(format!(
                "`cp_slow` takes `LATENCY for DURATION` (e.g. `cp_slow 9s for 2m`), found {:?}",
                args.join(" ")
            )),
        },
    }],
    role: Role::Periods(period),
};

fn period(rng: &mut SimRng) -> Action {
    Action::CpSlow {
        latency_ms: draw_ms(rng, LATENCY_MS),
        for_ms: draw_ms(rng, FOR_MS),
    }
}

/// Every control-plane request takes `latency_ms` until `at + for_ms`.
pub fn apply(world: &mut World, at: Duration, latency_ms: u64, for_ms: u64) -> Option<Row> {
    world.faults.cp_slow = Some((
        Duration::from_millis(latency_ms),
        at + Duration::from_millis(for_ms),
    ));
    None
}
