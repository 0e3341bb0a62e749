//! The simulated world's ground truth: the `workspaces` table, the cloud,
//! the faults in force, the queue of things due at later instants, and the
//! trace they all write to.
//!
//! The world is lazy where it can be: the cloud's own transitions and
//! single-step actions scheduled for an instant sit in one queue ordered by
//! (instant, sequence), and every observation (a store call, a
//! control-plane request, a flow's step, a pass boundary) first applies
//! whatever was due up to now, in time order. Ground truth is therefore
//! exact at every instant anyone looks, at the cost of an event, not a
//! timer. Only the platform's multi-step flows run as tasks
//! (`crate::platform`), because their steps take time and interleave.

mod cloud;
mod faults;
mod settings;
mod table;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::time::Duration;

use rand::RngExt;
use reconciler_core::{InstanceId, InstanceState, WorkspaceId};
use tokio::time::Instant;

pub use cloud::{Cloud, edge};
pub use faults::Faults;
pub use settings::{HeartbeatWrites, PlatformMode, Reaped, WorldSettings};
pub use table::Table;

use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::trace::{Cause, Event, Tracer};

/// How long the cloud and the platform take to do things, as inclusive
/// millisecond ranges drawn per occurrence.
#[derive(Clone, Debug)]
pub struct Timing {
    /// `pending → running`.
    pub boot_ms: (u64, u64),
    /// `stopping → stopped`.
    pub stop_ms: (u64, u64),
    /// `shutting-down → terminated`.
    pub shutdown_ms: (u64, u64),
    /// `terminated → not found`.
    pub reap_ms: u64,
    /// `RestartByID`'s sleep when it finds the row `provisioning` ("so the
    /// container exists for Stop").
    pub restart_wait_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            boot_ms: (15_000, 60_000),
            stop_ms: (5_000, 30_000),
            shutdown_ms: (10_000, 60_000),
            reap_ms: 3_600_000,
            restart_wait_ms: 10_000,
        }
    }
}

/// Something due at a later instant.
#[derive(Clone, Debug)]
enum Due {
    /// A cloud transition, valid only if the instance's generation is
    /// unchanged.
    Cloud(InstanceId, InstanceState, u64),
    /// A single-step action.
    Act(Cause, Action),
}

/// A row change, for a backend that mirrors the simulated table into a real
/// database (`crate::postgres`), and the offline events it must record too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// The row `ws` became this (`None`: deleted).
    Row(Duration, WorkspaceId, Option<Row>),
    /// A `WORKSPACE_OFFLINE` event was recorded for `ws`.
    Offline(Duration, WorkspaceId),
}

/// Where the world reads simulated time.
enum Clock {
    /// The paused tokio runtime the whole run lives on: time since this
    /// instant.
    Tokio(Instant),
    /// turmoil's elapsed time of the host asking, never going back: hosts
    /// run one after another within a turmoil step, each up to the step's
    /// end, so a host can be up to one tick behind the world (it then
    /// reads the world's time, not its own).
    Turmoil(Cell<Duration>),
}

/// The whole simulated world.
pub struct World {
    clock: Clock,
    /// The `workspaces` table.
    pub table: Table,
    /// Ground truth of instances.
    pub cloud: Cloud,
    /// Injected faults in force.
    pub faults: Faults,
    /// Everything that happened.
    pub trace: Tracer,
    /// What this platform and control plane are like.
    pub settings: WorldSettings,
    timing: Timing,
    rng: SimRng,
    due: BTreeMap<(Duration, u64), Due>,
    seq: u64,
    /// The instant of the last due item applied: nothing may be scheduled
    /// before it (it would be applied out of time order).
    applied_until: Duration,
    next_instance: u64,
    changes: Option<Vec<Change>>,
}

impl World {
    /// An empty world whose clock starts now, writing to `trace`; `rng`
    /// draws the durations of [`Timing`].
    pub fn new(timing: Timing, rng: SimRng, settings: WorldSettings, mut trace: Tracer) -> Self {
        let origin = Instant::now();
        trace.attach_logs(crate::logs::LogCapture::start(origin));
        Self {
            clock: Clock::Tokio(origin),
            table: Table::default(),
            cloud: Cloud::with_lag(settings.lag),
            faults: Faults::default(),
            trace,
            settings,
            timing,
            rng,
            due: BTreeMap::new(),
            seq: 0,
            applied_until: Duration::ZERO,
            next_instance: 1,
            changes: None,
        }
    }

    /// Simulated time since the run began.
    pub fn now(&self) -> Duration {
        match &self.clock {
            Clock::Tokio(origin) => Instant::now().saturating_duration_since(*origin),
            Clock::Turmoil(floor) => {
                let now = if turmoil::in_simulation() {
                    floor.get().max(turmoil::elapsed())
                } else {
                    floor.get()
                };
                floor.set(now);
                now
            }
        }
    }

    /// The tokio instant of a simulated time, for sleeping until it, on the
    /// runtime of the caller (in the network mode each turmoil host has its
    /// own runtime, so the instant is taken from the caller's clock).
    pub fn instant(&self, at: Duration) -> Instant {
        match &self.clock {
            Clock::Tokio(origin) => *origin + at,
            // From the caller's own elapsed time, not the world's (which
            // may be ahead of it within a step): a sleep until `at` then
            // never wakes before the world reaches `at`.
            Clock::Turmoil(floor) => {
                let own = if turmoil::in_simulation() {
                    turmoil::elapsed()
                } else {
                    floor.get()
                };
                Instant::now() + at.saturating_sub(own)
            }
        }
    }

    /// Reads time from turmoil's simulation from now on (the network mode,
    /// `crate::net`): the world is then shared by the reconciler's host and
    /// the control plane's, whose tokio runtimes each have a clock of their
    /// own. Call it before the simulation starts.
    pub fn use_turmoil_clock(&mut self) {
        self.clock = Clock::Turmoil(Cell::new(Duration::ZERO));
    }

    /// The platform's timings.
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Starts logging every row change (see [`World::take_changes`]).
    pub fn log_changes(&mut self) {
        self.changes = Some(Vec::new());
    }

    /// True when rows changed (or offline events were recorded) since the
    /// last [`World::take_changes`]: on the Postgres backend, a change the
    /// database has not been sent yet.
    pub fn has_changes(&self) -> bool {
        self.changes.as_ref().is_some_and(|c| !c.is_empty())
    }

    /// The row changes and offline events since the last call, in order.
    pub fn take_changes(&mut self) -> Vec<Change> {
        self.changes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Makes room for a fleet of `rows` and for the trace lines a run over
    /// it starts with (the fleet, then about three per row a pass), so that
    /// building and starting a run does not regrow them step by step.
    pub fn reserve(&mut self, rows: usize) {
        self.table.reserve(rows);
        self.trace.reserve(4 * rows + 16);
    }

    /// Adds a row and its instance's real state before the run starts.
    pub fn seed_row(&mut self, row: Row, state: Option<InstanceState>) {
        if let (Some(i), Some(s)) = (row.live_instance(), state) {
            self.cloud.seed(i, s, Some(&row.id));
            self.schedule_cloud_progress(Duration::ZERO, i, s);
        }
        self.trace.push(
            Duration::ZERO,
            Event::Fleet {
                row: row.clone(),
                state,
            },
        );
        self.table.insert(row);
    }

    /// Schedules a single-step `action` at `at`.
    pub fn schedule(&mut self, at: Duration, cause: Cause, action: Action) {
        debug_assert!(
            !crate::actors::starts_flow(&action),
            "flows are started by the platform, not the world's queue: {action}"
        );
        self.push_due(at, Due::Act(cause, action));
    }

    fn push_due(&mut self, at: Duration, due: Due) {
        debug_assert!(
            at >= self.applied_until,
            "scheduled at {at:?}, before {:?}, which is already applied",
            self.applied_until
        );
        self.seq += 1;
        self.due.insert((at, self.seq), due);
    }

    /// Applies everything due up to now, in time order; returns now (reading
    /// the clock is not free, and callers usually want it next).
    pub fn flush(&mut self) -> Duration {
        let now = self.now();
        while let Some(entry) = self.due.first_entry() {
            let (at, _) = *entry.key();
            if at > now {
                break;
            }
            let due = entry.remove();
            self.applied_until = at;
            match due {
                Due::Cloud(id, state, generation) => {
                    if self.cloud.transition(&id, state, generation, at) {
                        self.trace.push(
                            at,
                            Event::Cloud {
                                instance: id.clone(),
                                state,
                            },
                        );
                        self.schedule_cloud_progress(at, &id, state);
                    }
                }
                Due::Act(cause, action) => self.apply_at(at, cause, &action),
            }
        }
        now
    }

    /// Records `event` now, after whatever was due before it.
    pub fn record(&mut self, event: Event) {
        let now = self.flush();
        self.trace.push(now, event);
    }

    /// Applies a single-step `action` now.
    pub fn apply(&mut self, cause: Cause, action: &Action) {
        let now = self.flush();
        self.apply_at(now, cause, action);
    }

    fn apply_at(&mut self, at: Duration, cause: Cause, action: &Action) {
        let row = crate::actors::apply_step(self, at, action);
        self.trace.push(
            at,
            Event::Act {
                cause,
                action: action.clone(),
                row,
            },
        );
    }

    /// Changes row `ws` in place (logging the change); returns it afterwards,
    /// `None` when there is no row (an `UPDATE` matching nothing).
    pub fn update_row(
        &mut self,
        at: Duration,
        ws: &WorkspaceId,
        f: impl FnOnce(&mut Row),
    ) -> Option<Row> {
        let row = self.table.update(ws, f)?;
        if let Some(log) = &mut self.changes {
            log.push(Change::Row(at, ws.clone(), Some(row.clone())));
        }
        Some(row)
    }

    /// Deletes row `ws` (logging the change); returns whether there was one.
    pub fn delete_row(&mut self, at: Duration, ws: &WorkspaceId) -> bool {
        let gone = self.table.remove(ws).is_some();
        if let (true, Some(log)) = (gone, &mut self.changes) {
            log.push(Change::Row(at, ws.clone(), None));
        }
        gone
    }

    /// Logs a `WORKSPACE_OFFLINE` event for a mirroring backend.
    pub fn log_offline(&mut self, at: Duration, ws: &WorkspaceId) {
        if let Some(log) = &mut self.changes {
            log.push(Change::Offline(at, ws.clone()));
        }
    }

    /// The cloud moves `i` to `state` at `at` (if that is an edge from its
    /// state), records it, and schedules what follows by itself.
    fn move_instance(&mut self, at: Duration, i: &InstanceId, state: InstanceState) -> bool {
        if self.cloud.set(i, state, at).is_none() {
            return false;
        }
        self.trace.push(
            at,
            Event::Cloud {
                instance: i.clone(),
                state,
            },
        );
        self.schedule_cloud_progress(at, i, state);
        true
    }

    /// Terminates `i` if it is alive; returns its state just before.
    pub fn terminate_instance(&mut self, at: Duration, i: &InstanceId) -> InstanceState {
        let was = self.cloud.state(i);
        self.move_instance(at, i, InstanceState::ShuttingDown);
        was
    }

    /// Stops `i` if it is pending or running; returns its state just before.
    pub fn stop_instance(&mut self, at: Duration, i: &InstanceId) -> InstanceState {
        let was = self.cloud.state(i);
        if matches!(was, InstanceState::Running | InstanceState::Pending) {
            self.move_instance(at, i, InstanceState::Stopping);
        }
        was
    }

    /// Starts `i` if it is stopped.
    pub fn start_instance(&mut self, at: Duration, i: &InstanceId) {
        if self.cloud.state(i) == InstanceState::Stopped {
            self.move_instance(at, i, InstanceState::Pending);
        }
    }

    /// The control plane launches a new instance for `ws`: it boots through
    /// `pending`; returns its id and the instant it will run.
    pub fn launch_instance(&mut self, at: Duration, ws: &WorkspaceId) -> (InstanceId, Duration) {
        let id = InstanceId(format!("i-{:04}", 1000 + self.next_instance));
        self.next_instance += 1;
        self.cloud.launch(&id, ws, at);
        self.trace.push(
            at,
            Event::Cloud {
                instance: id.clone(),
                state: InstanceState::Pending,
            },
        );
        let boot = self.draw(self.timing.boot_ms);
        let generation = self.cloud.generation(&id);
        self.push_due(
            at + boot,
            Due::Cloud(id.clone(), InstanceState::Running, generation),
        );
        (id, at + boot)
    }

    /// Schedules the automatic next step of an instance that entered `state`
    /// at `at`.
    fn schedule_cloud_progress(&mut self, at: Duration, i: &InstanceId, state: InstanceState) {
        let (next, range) = match state {
            InstanceState::Pending => (InstanceState::Running, self.timing.boot_ms),
            InstanceState::Stopping => (InstanceState::Stopped, self.timing.stop_ms),
            InstanceState::ShuttingDown => (InstanceState::Terminated, self.timing.shutdown_ms),
            InstanceState::Terminated => (
                InstanceState::NotFound,
                (self.timing.reap_ms, self.timing.reap_ms),
            ),
            InstanceState::Running
            | InstanceState::Stopped
            | InstanceState::NotFound
            | InstanceState::Unrecognized => return,
        };
        let after = self.draw(range);
        let generation = self.cloud.generation(i);
        self.push_due(at + after, Due::Cloud(i.clone(), next, generation));
    }

    /// A duration drawn from an inclusive millisecond range, from the
    /// world's timing stream.
    pub fn draw(&mut self, (lo, hi): (u64, u64)) -> Duration {
        Duration::from_millis(if hi > lo {
            self.rng.random_range(lo..=hi)
        } else {
            lo
        })
    }
}

/// Simulated time as the `updated_at` value it writes.
pub fn millis(at: Duration) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}

// Only where debug assertions are on: the check it tests is one.
#[cfg(all(test, debug_assertions))]
mod tests {
    use super::*;
    use crate::seed::child_rng;
    use crate::trace::Keep;

    /// Scheduling behind what the world already applied would apply it out
    /// of time order; the test profile catches the scheduler doing so.
    #[test]
    #[should_panic(expected = "which is already applied")]
    fn scheduling_into_the_applied_past_is_caught() {
        let rt = crate::run::sim_runtime();
        rt.block_on(async {
            let mut w = World::new(
                Timing::default(),
                child_rng(1, "timing"),
                WorldSettings::default(),
                Tracer::new(Keep::All),
            );
            let slow = Action::CpSlow {
                latency_ms: 100,
                for_ms: 1_000,
            };
            w.schedule(Duration::from_secs(10), Cause::Timed, slow.clone());
            tokio::time::sleep(Duration::from_secs(20)).await;
            w.flush();
            w.schedule(Duration::from_secs(5), Cause::Timed, slow);
        });
    }
}
