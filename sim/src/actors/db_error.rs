//! A database that fails calls: the reconciler's statements and the
//! platform's alike (a failed read makes `RestartByID` give up, which leaves
//! a flipped row in scope for the next pass).

use super::{Actor, Role, Verb, count};
use crate::action::Action;
use crate::row::Row;
use crate::world::World;

/// Per-call failure rate while the swarm enables this actor, per mille.
pub const RATE_PERMILLE: u32 = 30;

/// The actor.
pub static ACTOR: Actor = Actor {
    name: "db_error",
    about: "store calls fail (the reconciler's and the platform's)",
    verbs: &[Verb {
        word: "db_error",
        usage: "db_error [COUNT]",
        parse: |args| match args {
            [] => Ok(Action::DbError { count: 1 }),
            [a] => Ok(Action::DbError { count: count(a)? }),
            _ => Err(format!(
                "`db_error` takes an optional count (e.g. `db_error 2`), found {:?}",
                args.join(" ")
            )),
        },
    }],
    role: Role::Rate(RATE_PERMILLE),
};

/// The next `count` store calls fail.
pub fn apply(world: &mut World, count: u32) -> Option<Row> {
    world.faults.db_errors += count;
    None
}
