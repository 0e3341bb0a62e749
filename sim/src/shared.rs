//! The state every simulated component shares within one run.
//!
//! One thread, one run: `Rc<RefCell<…>>` is enough, and no borrow is ever
//! held across an `.await`.

use std::cell::RefCell;
use std::time::Duration;

use indexmap::IndexMap;
use rand::RngExt;
use reconciler_core::{InstanceId, WorkspaceId};

use crate::action::CpFailure;
use crate::director::Director;
use crate::hook::Hook;
use crate::seed::SimRng;
use crate::trace::{Cause, Event};
use crate::world::World;

/// How the simulated store and control plane behave when no fault is
/// injected.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// Control-plane latency, inclusive range in ms.
    pub cp_latency_ms: (u64, u64),
    /// Per-request control-plane failure rate, per mille.
    pub cp_error_permille: u32,
    /// Store call latency, inclusive range in ms.
    pub store_latency_ms: (u64, u64),
    /// Per-call store failure rate, per mille.
    pub db_error_permille: u32,
    /// Per-instance control-plane behaviour (scenario files); empty for
    /// swarm runs.
    pub cp_instances: IndexMap<InstanceId, CpOverride>,
}

/// How the control plane treats every request about one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpOverride {
    /// This latency range (ms, inclusive) instead of the profile's.
    Latency((u64, u64)),
    /// Every request fails this way.
    Fail(CpFailure),
}

/// The world, the director, and the randomness of the store and the
/// control plane.
pub struct Shared {
    /// The world.
    pub world: RefCell<World>,
    director: RefCell<Box<dyn Director>>,
    behaviour: Behaviour,
    store_rng: RefCell<SimRng>,
    cp_rng: RefCell<SimRng>,
}

impl Shared {
    /// Bundles a run's parts.
    pub fn new(
        world: World,
        director: Box<dyn Director>,
        behaviour: Behaviour,
        store_rng: SimRng,
        cp_rng: SimRng,
    ) -> Self {
        Self {
            world: RefCell::new(world),
            director: RefCell::new(director),
            behaviour,
            store_rng: RefCell::new(store_rng),
            cp_rng: RefCell::new(cp_rng),
        }
    }

    /// A hook point: brings the world up to now, then lets the director act.
    pub fn hook(&self, hook: Hook, ws: Option<&WorkspaceId>) {
        let mut world = self.world.borrow_mut();
        world.flush();
        let actions = self.director.borrow_mut().at_hook(hook, ws, &world);
        for action in &actions {
            world.apply(Cause::Hook, action);
        }
    }

    /// Records an event now, after whatever was due before it.
    pub fn record(&self, event: Event) {
        let mut world = self.world.borrow_mut();
        world.flush();
        let now = world.now();
        world.trace.push(now, event);
    }

    /// The latency of the next store call.
    pub fn store_latency(&self) -> Duration {
        draw(
            &mut self.store_rng.borrow_mut(),
            self.behaviour.store_latency_ms,
        )
    }

    /// Whether the next store call fails: an injected `db_error` first, then
    /// the random rate.
    pub fn store_fails(&self) -> bool {
        let mut world = self.world.borrow_mut();
        if world.faults.db_errors > 0 {
            world.faults.db_errors -= 1;
            return true;
        }
        self.behaviour.db_error_permille > 0
            && self.store_rng.borrow_mut().random_range(0..1000) < self.behaviour.db_error_permille
    }

    /// The latency of the next control-plane request about `instance` (a
    /// `cp_slow` in force overrides the instance's latency, which overrides
    /// the profile). The profile is drawn in every case, so an override
    /// never shifts the stream of later requests.
    pub fn cp_latency(&self, instance: &InstanceId) -> Duration {
        let mut drawn = draw(&mut self.cp_rng.borrow_mut(), self.behaviour.cp_latency_ms);
        if let Some(CpOverride::Latency(range)) = self.behaviour.cp_instances.get(instance) {
            drawn = draw(&mut self.cp_rng.borrow_mut(), *range);
        }
        let world = self.world.borrow();
        match world.faults.cp_slow {
            Some((latency, until)) if world.now() < until => latency,
            _ => drawn,
        }
    }

    /// How the next control-plane request, about `instance`, fails, if it
    /// does: an injected `cp_error` first, then the instance's permanent
    /// failure, then the random rate.
    pub fn cp_failure(&self, instance: &InstanceId) -> Option<CpFailure> {
        {
            let mut world = self.world.borrow_mut();
            if !world.faults.cp_errors.is_empty() {
                return Some(world.faults.cp_errors.remove(0));
            }
        }
        if let Some(CpOverride::Fail(kind)) = self.behaviour.cp_instances.get(instance) {
            return Some(*kind);
        }
        let mut rng = self.cp_rng.borrow_mut();
        if self.behaviour.cp_error_permille == 0
            || rng.random_range(0..1000) >= self.behaviour.cp_error_permille
        {
            return None;
        }
        Some(match rng.random_range(0..3u32) {
            0 => CpFailure::Transport,
            1 => CpFailure::Status5xx,
            _ => CpFailure::Garbage,
        })
    }
}

fn draw(rng: &mut SimRng, (lo, hi): (u64, u64)) -> Duration {
    Duration::from_millis(if hi > lo {
        rng.random_range(lo..=hi)
    } else {
        lo
    })
}
