//! Every actor of the world, each in one home.
//!
//! An actor's module holds everything about it: its name, what it models,
//! how scenario files write its actions ([`Verb`]s), how the swarm and the
//! `explore:` strikes pick a target and an action ([`Role`]), the ranges it
//! draws from (named constants), and what it does — one step applied to the
//! world, or a multi-step flow run by the platform. The swarm, the scenario
//! language, `sim run`'s strikes, the bench's real-time baseline and the
//! scenario schema all read [`ACTORS`]; adding an actor is a new module, an
//! [`Action`] variant and a line in each dispatch below
//! (`docs/extending.md`).

pub mod cloud_stop;
pub mod cloud_terminate;
pub mod cp_error;
pub mod cp_partition;
pub mod cp_slow;
pub mod db_error;
pub mod delete;
pub mod heartbeat;
pub mod hibernate;
pub mod orphan_sweep;
pub mod pause;
pub mod purge;
pub mod restart;
pub mod writer;

use std::rc::Rc;
use std::time::Duration;

use rand::RngExt;
use reconciler_core::{InstanceId, InstanceState, WorkspaceId};

use crate::action::Action;
use crate::hook::Flow;
use crate::platform::FlowCtx;
use crate::row::Row;
use crate::seed::SimRng;
use crate::world::World;

/// What the swarm and the strikes see of the world when an actor picks its
/// target: the rows (in id order) and each instance's real state. Both the
/// running world and a fleet about to start implement it, so that strikes
/// at hook points and actions drawn for later instants pick alike.
pub trait Targets {
    /// How many rows there are.
    fn count(&self) -> usize;
    /// The row at position `i` in id order.
    fn at(&self, i: usize) -> Option<&Row>;
    /// The row with this id.
    fn get(&self, ws: &WorkspaceId) -> Option<&Row>;
    /// An instance's real state.
    fn state(&self, i: &InstanceId) -> InstanceState;
}

impl Targets for World {
    fn count(&self) -> usize {
        self.table.len()
    }

    fn at(&self, i: usize) -> Option<&Row> {
        self.table.row_at(i)
    }

    fn get(&self, ws: &WorkspaceId) -> Option<&Row> {
        self.table.get(ws)
    }

    fn state(&self, i: &InstanceId) -> InstanceState {
        self.cloud.state(i)
    }
}

/// A fleet before its run starts, in id order.
pub struct Fleet<'a>(pub &'a [(Row, Option<InstanceState>)]);

impl Targets for Fleet<'_> {
    fn count(&self) -> usize {
        self.0.len()
    }

    fn at(&self, i: usize) -> Option<&Row> {
        self.0.get(i).map(|(r, _)| r)
    }

    fn get(&self, ws: &WorkspaceId) -> Option<&Row> {
        self.0.iter().map(|(r, _)| r).find(|r| r.id == *ws)
    }

    fn state(&self, i: &InstanceId) -> InstanceState {
        self.0
            .iter()
            .find(|(r, _)| r.live_instance() == Some(i))
            .and_then(|(_, s)| *s)
            .unwrap_or(InstanceState::NotFound)
    }
}

/// How an actor picks an action: from what it sees, usually about the row
/// the hook concerns (`about`), drawing from `rng`. `None`: nothing to do.
pub type Strike = fn(&dyn Targets, Option<&WorkspaceId>, &mut SimRng) -> Option<Action>;

/// What the swarm does with an actor it enabled.
#[derive(Clone, Copy)]
pub enum Role {
    /// Strikes at hook points and at drawn instants.
    Strikes(Strike),
    /// Fails calls at a rate, per call, while enabled (`rate_permille`).
    Rate(u32),
    /// Acts only at drawn instants (a fault period), with what this draws.
    Periods(fn(&mut SimRng) -> Action),
    /// Only in scenario files.
    Scripted,
}

/// How a scenario file writes one action.
pub struct Verb {
    /// The first word.
    pub word: &'static str,
    /// The whole syntax, for messages and the schema (`pause WS`).
    pub usage: &'static str,
    /// Builds the action from the words after the verb.
    pub parse: fn(&[&str]) -> Result<Action, String>,
}

/// One actor.
pub struct Actor {
    /// Its name in the swarm's settings, `explore:` blocks and `--help`.
    pub name: &'static str,
    /// What it models, in a sentence.
    pub about: &'static str,
    /// The actions scenario files write for it.
    pub verbs: &'static [Verb],
    /// What the swarm does with it.
    pub role: Role,
}

impl PartialEq for Actor {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Actor {}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Actor {
    /// Picks an action the way the swarm and strikes do, if this actor
    /// strikes.
    pub fn strike(
        &self,
        targets: &dyn Targets,
        about: Option<&WorkspaceId>,
        rng: &mut SimRng,
    ) -> Option<Action> {
        match self.role {
            Role::Strikes(f) => f(targets, about, rng),
            Role::Periods(f) => Some(f(rng)),
            Role::Rate(_) | Role::Scripted => None,
        }
    }

    /// True when the swarm can enable it.
    pub fn in_swarm(&self) -> bool {
        !matches!(self.role, Role::Scripted)
    }

    /// True when it strikes at hook points (as opposed to a rate or fault
    /// periods).
    pub fn strikes_rows(&self) -> bool {
        matches!(self.role, Role::Strikes(_))
    }
}

/// Every actor, in a stable order (the swarm draws in this order).
pub static ACTORS: &[&Actor] = &[
    &delete::ACTOR,
    &purge::ACTOR,
    &orphan_sweep::ACTOR,
    &restart::ACTOR,
    &heartbeat::ACTOR,
    &pause::ACTOR,
    &hibernate::ACTOR,
    &cloud_terminate::ACTOR,
    &cloud_stop::ACTOR,
    &cp_slow::ACTOR,
    &cp_partition::ACTOR,
    &cp_error::ACTOR,
    &db_error::ACTOR,
    &writer::ACTOR,
];

/// The actor named `name`.
pub fn by_name(name: &str) -> Option<&'static Actor> {
    ACTORS.iter().copied().find(|a| a.name == name)
}

/// The names of the actors the swarm can enable, for messages.
pub fn swarm_names() -> Vec<&'static str> {
    ACTORS
        .iter()
        .filter(|a| a.in_swarm())
        .map(|a| a.name)
        .collect()
}

/// Every verb of every actor.
pub fn verbs() -> impl Iterator<Item = &'static Verb> {
    ACTORS.iter().flat_map(|a| a.verbs.iter())
}

/// The row a strike aims at: usually the row the hook concerns, otherwise
/// any row.
pub fn target<'a>(
    t: &'a dyn Targets,
    about: Option<&WorkspaceId>,
    rng: &mut SimRng,
) -> Option<&'a Row> {
    match about.and_then(|w| t.get(w)) {
        Some(row) if rng.random_bool(0.8) => Some(row),
        _ if t.count() == 0 => None,
        _ => t.at(rng.random_range(0..t.count())),
    }
}

/// The flow an action starts, if it starts one.
pub fn flow_of(action: &Action) -> Option<Flow> {
    Some(match action {
        Action::Restart(_) => Flow::ManualRestart,
        Action::Pause(_) => Flow::Pause,
        Action::Resume(_) => Flow::Resume,
        Action::Hibernate(_) => Flow::Hibernate,
        Action::Delete(_) => Flow::Delete,
        _ => return None,
    })
}

/// The action that starts a flow of this kind on `ws` (`None` for
/// `RestartByID`, which only a flip starts).
pub fn action_of(flow: Flow, ws: &WorkspaceId) -> Option<Action> {
    let ws = ws.clone();
    Some(match flow {
        Flow::Restart => return None,
        Flow::ManualRestart => Action::Restart(ws),
        Flow::Pause => Action::Pause(ws),
        Flow::Resume => Action::Resume(ws),
        Flow::Hibernate => Action::Hibernate(ws),
        Flow::Delete => Action::Delete(ws),
    })
}

/// True when `action` starts a multi-step flow rather than acting at once.
pub fn starts_flow(action: &Action) -> bool {
    flow_of(action).is_some()
}

/// Runs the flow `action` starts, as the platform runs it.
pub async fn run_flow(ctx: Rc<FlowCtx>, action: Action) {
    match action {
        Action::Restart(_) => restart::run(&ctx).await,
        Action::Pause(_) => pause::run_pause(&ctx).await,
        Action::Resume(_) => pause::run_resume(&ctx).await,
        Action::Hibernate(_) => hibernate::run(&ctx).await,
        Action::Delete(_) => delete::run(&ctx).await,
        other => unreachable!("{other} does not start a flow"),
    }
}

/// Applies a single-step `action` to the world at `at`; returns the row it
/// is about afterwards, when it is about one.
pub fn apply_step(world: &mut World, at: Duration, action: &Action) -> Option<Row> {
    match action {
        Action::Purge(w) => purge::apply(world, at, w),
        Action::OrphanSweep(w) => orphan_sweep::apply(world, at, w),
        Action::ClearInstance(w) => writer::clear_instance(world, at, w),
        Action::SetStatus(w, s) => writer::set_status(world, at, w, s),
        Action::Heartbeat(w) => heartbeat::apply(world, at, w),
        Action::Degrade(w) => heartbeat::degrade(world, at, w),
        Action::Recover(w) => heartbeat::recover(world, at, w),
        Action::Terminate(i) => cloud_terminate::apply(world, at, i),
        Action::Stop(i) => cloud_stop::stop(world, at, i),
        Action::Start(i) => cloud_stop::start(world, at, i),
        Action::CpSlow { latency_ms, for_ms } => cp_slow::apply(world, at, *latency_ms, *for_ms),
        Action::CpError { count, kind } => cp_error::apply(world, *count, *kind),
        Action::CpPartition { for_ms } => cp_partition::apply(world, at, *for_ms),
        Action::DbError { count } => db_error::apply(world, *count),
        Action::Restart(_)
        | Action::Pause(_)
        | Action::Resume(_)
        | Action::Hibernate(_)
        | Action::Delete(_) => unreachable!("{action} starts a flow"),
    }
}

/// Parses the one workspace id a verb takes.
pub fn one_workspace(word: &str, args: &[&str]) -> Result<WorkspaceId, String> {
    match args {
        [w] => Ok(WorkspaceId::from(*w)),
        _ => Err(format!(
            "`{word}` takes one workspace id (e.g. `{word} ws-1`), found {:?}",
            args.join(" ")
        )),
    }
}

/// Parses the one instance id a verb takes.
pub fn one_instance(word: &str, args: &[&str]) -> Result<InstanceId, String> {
    match args {
        [i] => Ok(InstanceId::from(*i)),
        _ => Err(format!(
            "`{word}` takes one instance id (e.g. `{word} i-1`), found {:?}",
            args.join(" ")
        )),
    }
}

/// Parses a positive count.
pub fn count(c: &str) -> Result<u32, String> {
    match c.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a positive count, found {c:?}")),
    }
}

/// Parses a positive duration in the scenario language's units, in ms.
pub fn positive_ms(d: &str) -> Result<u64, String> {
    let dur = crate::scenario::duration::Dur::parse(d)?;
    match dur.millis() {
        Some(ms) if ms > 0 => Ok(ms),
        _ => Err(format!("expected a positive duration, found {d:?}")),
    }
}

/// A duration drawn from an inclusive millisecond range.
pub fn draw_ms(rng: &mut SimRng, (lo, hi): (u64, u64)) -> u64 {
    if hi > lo {
        rng.random_range(lo..=hi)
    } else {
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_verbs_are_unique() {
        let mut names: Vec<&str> = ACTORS.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ACTORS.len());
        let mut words: Vec<&str> = verbs().map(|v| v.word).collect();
        let n = words.len();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), n, "a verb belongs to one actor");
    }
}
