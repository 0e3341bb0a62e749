//! A control plane that answers instance-state requests badly: transport
//! errors, 5xx, bodies that do not decode, and 2xx bodies that decode to an
//! empty or unknown state (which the merged client reads as "not running").

use super::{Actor, Role, Verb, count};
use crate::action::{Action, CpFailure};
use crate::row::Row;
use crate::world::World;

/// Per-request failure rate while the swarm enables this actor, per mille;
/// the kind is drawn uniformly from [`CpFailure::ALL`].
pub const RATE_PERMILLE: u32 = 100;

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "cp_error",
    about: "instance-state requests fail (transport, 5xx, garbage) or answer an empty or unknown state",
    verbs: &[Verb {
        word: "cp_error",
        usage: "cp_error [COUNT] [transport|5xx|garbage|empty|unknown|null|truncated|reset-after-headers|slow-body]",
        parse,
    }],
    role: Role::Rate(RATE_PERMILLE),
};

fn parse(args: &[&str]) -> Result<Action, String> {
    let kind = |k: &str| {
        CpFailure::parse(k).ok_or_else(|| {
            format!(
                "unknown control-plane failure {k:?}: expected one of {}",
                CpFailure::ALL
                    .into_iter()
                    .chain(CpFailure::WIRE)
                    .map(CpFailure::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    };
    let (n, kind) = match args {
        [] => (1, CpFailure::Transport),
        [a] if a.chars().all(|c| c.is_ascii_digit()) => (count(a)?, CpFailure::Transport),
        [k] => (1, kind(k)?),
        [a, k] => (count(a)?, kind(k)?),
        _ => {
            return Err(format!(
                "`cp_error` takes `[COUNT] [transport|5xx|garbage|empty|unknown]` (e.g. `cp_error 2 5xx`), found {:?}",
                args.join(" ")
            ));
        }
    };
    Ok(Action::CpError { count: n, kind })
}

/// The next `count` state requests fail with `kind`.
pub fn apply(world: &mut World, count: u32, kind: CpFailure) -> Option<Row> {
    world.faults.cp_errors.extend((0..count).map(|_| kind));
    None
}
