//! Periods in which the control plane cannot be reached: every request —
//! the reconciler's probes and the platform's stops and launches — hangs
//! until the partition heals (the probe's timeout usually fires first).

use std::time::Duration;

use super::{Actor, Role, Verb, draw_ms, positive_ms};
use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::world::World;

/// How long a drawn partition lasts, ms.
pub const FOR_MS: (u64, u64) = (5_000, 60_000);

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "cp_partition",
    about: "periods in which the control plane is unreachable (requests hang)",
    verbs: &[Verb {
        word: "cp_partition",
        usage: "cp_partition for DURATION",
        parse: |args| match args {
            ["for", d] => Ok(Action::CpPartition {
                for_ms: positive_ms(d)?,
            }),
            _ => Err(format!(
                "`cp_partition` takes `for DURATION` (e.g. `cp_partition for 30s`), found {:?}",
                args.join(" ")
            )),
        },
    }],
    role: Role::Periods(period),
};

fn period(rng: &mut SimRng) -> Action {
    Action::CpPartition {
        for_ms: draw_ms(rng, FOR_MS),
    }
}

/// Requests hang until `at + for_ms`.
pub fn apply(world: &mut World, at: Duration, for_ms: u64) -> Option<Row> {
    world.faults.cp_partition_until = Some(at + Duration::from_millis(for_ms));
    None
}
