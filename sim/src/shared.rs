//! The state every simulated component shares within one run.
//!
//! One thread, one run: `Rc<RefCell<…>>` is enough. No borrow is ever held
//! across an `.await` (every method here borrows and releases within one
//! synchronous stretch; the world's `RefCell` would panic in the tests
//! otherwise, which is the check).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use indexmap::IndexMap;
use rand::RngExt;
use reconciler_core::{InstanceId, WorkspaceId};

use crate::action::CpFailure;
use crate::actors;
use crate::director::Director;
use crate::hook::Hook;
use crate::platform::{self, Platform};
use crate::seed::SimRng;
use crate::trace::Cause;
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
    /// Whether random failures are drawn from the wire-level ones too
    /// ([`CpFailure::WIRE`]): the network mode's swarm does, the
    /// in-process one does not (its streams stay what they were).
    pub wire_faults: bool,
}

/// How the control plane treats every request about one instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpOverride {
    /// This latency range (ms, inclusive) instead of the profile's.
    Latency((u64, u64)),
    /// Every request fails this way.
    Fail(CpFailure),
}

/// The world, the director, the platform, and the randomness of the store
/// and the control plane.
pub struct Shared {
    /// The world.
    pub world: RefCell<World>,
    /// The platform's per-run state.
    pub platform: Platform,
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
        rngs: [SimRng; 3],
    ) -> Self {
        let [store_rng, cp_rng, platform_rng] = rngs;
        Self {
            world: RefCell::new(world),
            platform: Platform::new(platform_rng),
            director: RefCell::new(director),
            behaviour,
            store_rng: RefCell::new(store_rng),
            cp_rng: RefCell::new(cp_rng),
        }
    }

    /// The store's and control plane's behaviour.
    pub fn behaviour(&self) -> &Behaviour {
        &self.behaviour
    }

    /// A hook point: brings the world up to now, then lets the director
    /// act; single-step actions apply at once, flows start as tasks.
    pub fn hook(self: &Rc<Self>, hook: Hook, ws: Option<&WorkspaceId>) {
        let actions = {
            let mut world = self.world.borrow_mut();
            world.flush();
            let actions = self.director.borrow_mut().at_hook(hook, ws, &world);
            if actions.is_empty() {
                return;
            }
            actions
        };
        for action in actions {
            self.act(Cause::Hook, action);
        }
    }

    /// Makes `action` happen now: at once, or as the start of its flow.
    pub fn act(self: &Rc<Self>, cause: Cause, action: crate::action::Action) {
        if actors::starts_flow(&action) {
            platform::start(self, cause, action);
        } else {
            self.world.borrow_mut().apply(cause, &action);
        }
    }

    /// The latency of the reconciler's next store call.
    pub fn store_latency(&self) -> Duration {
        draw(
            &mut self.store_rng.borrow_mut(),
            self.behaviour.store_latency_ms,
        )
    }

    /// Whether the reconciler's next store call fails: an injected
    /// `db_error` first, then the random rate.
    pub fn store_fails(&self) -> bool {
        if self.take_db_error() {
            return true;
        }
        self.behaviour.db_error_permille > 0
            && self.store_rng.borrow_mut().random_range(0..1000) < self.behaviour.db_error_permille
    }

    fn take_db_error(&self) -> bool {
        let mut world = self.world.borrow_mut();
        if world.faults.db_errors > 0 {
            world.faults.db_errors -= 1;
            return true;
        }
        false
    }

    /// The latency of a platform flow's next database call.
    pub fn platform_db_latency(&self) -> Duration {
        draw(&mut self.platform.rng(), self.behaviour.store_latency_ms)
    }

    /// Whether a platform flow's next database call fails: an injected
    /// `db_error` first, then the random rate (from the platform's stream).
    pub fn platform_db_fails(&self) -> bool {
        if self.take_db_error() {
            return true;
        }
        self.behaviour.db_error_permille > 0
            && self.platform.rng().random_range(0..1000) < self.behaviour.db_error_permille
    }

    /// The latency of a platform flow's next control-plane request (a
    /// `cp_slow` in force overrides the profile, which is drawn anyway).
    pub fn platform_cp_latency(&self) -> Duration {
        let drawn = draw(&mut self.platform.rng(), self.behaviour.cp_latency_ms);
        self.slowed(drawn)
    }

    fn slowed(&self, drawn: Duration) -> Duration {
        let world = self.world.borrow();
        match world.faults.cp_slow {
            Some((latency, until)) if world.now() < until => latency,
            _ => drawn,
        }
    }

    /// Holds a control-plane request until a partition in force heals.
    pub async fn wait_out_partition(&self) {
        let until = {
            let world = self.world.borrow();
            world
                .faults
                .cp_partition_until
                .filter(|u| *u > world.now())
                .map(|u| world.instant(u))
        };
        if let Some(at) = until {
            tokio::time::sleep_until(at).await;
        }
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
        self.slowed(drawn)
    }

    /// How the next state request, about `instance`, fails, if it does: an
    /// injected `cp_error` first, then the instance's permanent failure,
    /// then the random rate.
    pub fn cp_failure(&self, instance: &InstanceId) -> Option<CpFailure> {
        if let Some(f) = self.world.borrow_mut().faults.cp_errors.pop_front() {
            return Some(f);
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
        let kinds = if self.behaviour.wire_faults {
            CpFailure::ALL.len() + CpFailure::WIRE.len()
        } else {
            CpFailure::ALL.len()
        };
        let k = rng.random_range(0..kinds);
        Some(match CpFailure::ALL.get(k) {
            Some(f) => *f,
            None => CpFailure::WIRE[k - CpFailure::ALL.len()],
        })
    }
}

/// A duration drawn from an inclusive millisecond range.
pub(crate) fn draw(rng: &mut SimRng, (lo, hi): (u64, u64)) -> Duration {
    Duration::from_millis(if hi > lo {
        rng.random_range(lo..=hi)
    } else {
        lo
    })
}
