//! Ground truth of every cloud instance: its state machine, and what the
//! control plane holds for each workspace.
//!
//! Fault model, written down beside the device (TigerBeetle's habit):
//!
//! * states move only along the cloud's edges: `pending → running`,
//!   `pending|running → stopping → stopped → pending` (a stopped instance
//!   keeps its id when started again), any live state `→ shutting-down →
//!   terminated`, and `terminated → not-found` once reaped; anything else is
//!   a bug in the world (a `debug_assert!` the tests run);
//! * transitions that take time are scheduled by the world; each carries the
//!   instance's generation at scheduling time so that a later command (a
//!   terminate during a stop) makes the stale transition a no-op;
//! * the control plane's view can lag the cloud by a window (eventual
//!   consistency): [`Cloud::view`] answers with the state the instance had
//!   that long ago, so a just-launched instance is not found yet and a
//!   just-terminated one still runs. Each instance keeps the transitions of
//!   the last window only, so memory stays bounded by the fleet;
//! * the control plane maps each workspace to the instance it last
//!   launched for it (a fleet row's instance at the start): that is what a
//!   Stop *by workspace id* terminates, whatever the row says by then.

use std::collections::BTreeMap;
use std::time::Duration;

use indexmap::IndexMap;
use reconciler_core::{InstanceId, InstanceState, WorkspaceId};

use crate::fnv::FnvBuild;

/// One instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// Its current state.
    pub state: InstanceState,
    /// Bumped on every state change; scheduled transitions carry it.
    pub generation: u64,
    /// Its transitions within the control plane's lag window, oldest first,
    /// the state it entered and when.
    recent: Vec<(Duration, InstanceState)>,
    /// Its state before the oldest of `recent` (`NotFound` before launch).
    base: InstanceState,
    /// When it was reaped (`terminated → not found`), if it was.
    reaped: Option<Duration>,
}

impl Instance {
    fn reaped_before(&self, t: Duration) -> bool {
        self.reaped.is_some_and(|r| r <= t)
    }
}

/// Every instance the cloud knows, by id (insertion order is creation order,
/// so iteration is deterministic).
#[derive(Clone, Debug, Default)]
pub struct Cloud {
    instances: IndexMap<InstanceId, Instance, FnvBuild>,
    launched_for: BTreeMap<WorkspaceId, InstanceId>,
    lag: Duration,
}

/// True when the cloud can move an instance from `from` to `to`.
pub fn edge(from: InstanceState, to: InstanceState) -> bool {
    use InstanceState::*;
    matches!(
        (from, to),
        (Pending, Running | Stopping | ShuttingDown)
            | (Running, Stopping | ShuttingDown)
            | (Stopping, Stopped | ShuttingDown)
            | (Stopped, Pending | ShuttingDown)
            | (ShuttingDown, Terminated)
            | (Terminated, NotFound)
    )
}

impl Cloud {
    /// A cloud whose control plane sees every change `lag` late.
    pub fn with_lag(lag: Duration) -> Self {
        Self {
            lag,
            ..Self::default()
        }
    }

    /// The control plane's consistency lag.
    pub fn lag(&self) -> Duration {
        self.lag
    }

    /// The real state of `id` (`NotFound` when the cloud never knew it).
    pub fn state(&self, id: &InstanceId) -> InstanceState {
        self.instances
            .get(id)
            .map_or(InstanceState::NotFound, |i| i.state)
    }

    /// The generation of `id`, for scheduling a transition.
    pub fn generation(&self, id: &InstanceId) -> u64 {
        self.instances.get(id).map_or(0, |i| i.generation)
    }

    /// An instance that exists before the run, in `state`, launched for
    /// `ws` when it is given.
    pub fn seed(&mut self, id: &InstanceId, state: InstanceState, ws: Option<&WorkspaceId>) {
        debug_assert!(state != InstanceState::Unrecognized, "not a real state");
        self.instances.insert(
            id.clone(),
            Instance {
                state,
                generation: 1,
                recent: Vec::new(),
                base: state,
                reaped: (state == InstanceState::NotFound).then_some(Duration::ZERO),
            },
        );
        if let Some(ws) = ws {
            self.launched_for.insert(ws.clone(), id.clone());
        }
    }

    /// The control plane launches `id` for `ws` at `at`: it is `pending`, and
    /// it is now the instance the control plane holds for `ws`.
    pub fn launch(&mut self, id: &InstanceId, ws: &WorkspaceId, at: Duration) {
        debug_assert!(
            !self.instances.contains_key(id),
            "instance ids are never reused"
        );
        self.instances.insert(
            id.clone(),
            Instance {
                state: InstanceState::Pending,
                generation: 1,
                recent: vec![(at, InstanceState::Pending)],
                base: InstanceState::NotFound,
                reaped: None,
            },
        );
        self.launched_for.insert(ws.clone(), id.clone());
    }

    /// The instance the control plane holds for `ws`: the one it last
    /// launched for it.
    pub fn held_for(&self, ws: &WorkspaceId) -> Option<&InstanceId> {
        self.launched_for.get(ws)
    }

    /// Moves `id` to `state` at `at` along one of the cloud's edges; returns
    /// the new generation, or `None` (nothing changes) when `id` is unknown
    /// or the move is not an edge from its current state.
    pub fn set(&mut self, id: &InstanceId, state: InstanceState, at: Duration) -> Option<u64> {
        let lag = self.lag;
        let i = self.instances.get_mut(id)?;
        if !edge(i.state, state) {
            return None;
        }
        i.state = state;
        i.generation += 1;
        if state == InstanceState::NotFound {
            i.reaped = Some(at);
        }
        if !lag.is_zero() {
            i.recent.push((at, state));
            // Transitions older than the lag are visible to the control
            // plane for good: fold them into the base state.
            let horizon = at.saturating_sub(lag);
            let visible = i.recent.iter().take_while(|(t, _)| *t <= horizon).count();
            if visible > 0 {
                i.base = i.recent[visible - 1].1;
                i.recent.drain(..visible);
            }
        }
        Some(i.generation)
    }

    /// Applies a scheduled transition if nothing changed the instance since
    /// it was scheduled; returns whether it applied.
    pub fn transition(
        &mut self,
        id: &InstanceId,
        state: InstanceState,
        generation: u64,
        at: Duration,
    ) -> bool {
        if self.generation(id) != generation {
            return false;
        }
        let applied = self.set(id, state, at).is_some();
        debug_assert!(
            applied,
            "a scheduled transition of {id} to {state} is not an edge of the state machine"
        );
        applied
    }

    /// What the control plane knows about `id` at `now`: the state it had
    /// `lag` ago, the real state when the control plane has no lag; `None`
    /// when it does not know the instance at all (never launched, or
    /// launched too recently to be visible). A reaped instance is
    /// `Some(NotFound)`: the control plane knew it, and what it answers for
    /// it is its own profile's business.
    pub fn view(&self, id: &InstanceId, now: Duration) -> Option<InstanceState> {
        let i = self.instances.get(id)?;
        if self.lag.is_zero() {
            return Some(i.state);
        }
        let horizon = now.saturating_sub(self.lag);
        let seen = i
            .recent
            .iter()
            .rev()
            .find(|(t, _)| *t <= horizon)
            .map_or(i.base, |(_, s)| *s);
        // `base` is NotFound before a launch becomes visible; a reaped
        // instance has a recent or base Terminated -> NotFound edge instead.
        (seen != InstanceState::NotFound || i.reaped_before(horizon)).then_some(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn only_the_clouds_edges_move_an_instance() {
        let mut c = Cloud::default();
        let i = InstanceId::from("i-1");
        c.seed(&i, InstanceState::Running, None);
        assert_eq!(
            c.set(&i, InstanceState::Pending, ms(1)),
            None,
            "running -> pending"
        );
        assert_eq!(c.state(&i), InstanceState::Running);
        assert!(c.set(&i, InstanceState::ShuttingDown, ms(2)).is_some());
        assert_eq!(
            c.set(&i, InstanceState::Running, ms(3)),
            None,
            "no way back"
        );
        assert!(c.set(&i, InstanceState::Terminated, ms(4)).is_some());
        assert!(c.set(&i, InstanceState::NotFound, ms(5)).is_some());
    }

    /// A transition the world scheduled that the state machine does not
    /// allow is a bug in the world, and the test profile says so.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "is not an edge of the state machine")]
    fn a_scheduled_transition_off_the_machine_is_caught() {
        let mut c = Cloud::default();
        let i = InstanceId::from("i-1");
        c.seed(&i, InstanceState::Running, None);
        let generation = c.generation(&i);
        c.transition(&i, InstanceState::Stopped, generation, ms(1));
    }

    #[test]
    fn a_lagging_view_shows_the_past() {
        let mut c = Cloud::with_lag(ms(10_000));
        let ws = WorkspaceId::from("ws-1");
        let old = InstanceId::from("i-1");
        let new = InstanceId::from("i-2");
        c.seed(&old, InstanceState::Running, Some(&ws));
        c.set(&old, InstanceState::ShuttingDown, ms(20_000));
        c.launch(&new, &ws, ms(21_000));
        assert_eq!(
            c.view(&old, ms(25_000)),
            Some(InstanceState::Running),
            "just terminated: still running"
        );
        assert_eq!(c.view(&old, ms(30_000)), Some(InstanceState::ShuttingDown));
        assert_eq!(
            c.view(&new, ms(25_000)),
            None,
            "just launched: not known yet"
        );
        assert_eq!(c.view(&new, ms(31_000)), Some(InstanceState::Pending));
        assert_eq!(c.held_for(&ws), Some(&new));
        assert_eq!(Cloud::default().view(&old, ms(1)), None);
        c.set(&old, InstanceState::Terminated, ms(40_000));
        c.set(&old, InstanceState::NotFound, ms(50_000));
        assert_eq!(c.view(&old, ms(55_000)), Some(InstanceState::Terminated));
        assert_eq!(
            c.view(&old, ms(61_000)),
            Some(InstanceState::NotFound),
            "reaped: known, not found"
        );
    }
}
