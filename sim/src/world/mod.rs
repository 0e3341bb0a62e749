//! The simulated world: the `workspaces` table, the cloud, the faults, the
//! queue of things due at later instants, and the trace they all write to.
//!
//! The world is lazy: nothing runs in the background. Every observation (a
//! store call, a control-plane request, a flip, a pass boundary) first
//! applies whatever was due up to now, in time order, so ground truth is
//! exact at every instant anyone looks, and a run needs no actor tasks.

mod cloud;
mod faults;
mod table;

use std::collections::BTreeMap;
use std::time::Duration;

use rand::RngExt;
use reconciler_core::{InstanceId, InstanceState, Status, WorkspaceId};
use tokio::time::Instant;

pub use cloud::Cloud;
pub use faults::Faults;
pub use table::Table;

use crate::action::Action;
use crate::row::Row;
use crate::seed::SimRng;
use crate::trace::{Cause, Event, Trace};

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
    /// From a flip to the restart's reprovision.
    pub restart_ms: (u64, u64),
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            boot_ms: (15_000, 60_000),
            stop_ms: (5_000, 30_000),
            shutdown_ms: (10_000, 60_000),
            reap_ms: 3_600_000,
            restart_ms: (5_000, 60_000),
        }
    }
}

/// Something due at a later instant.
#[derive(Clone, Debug)]
enum Due {
    /// A cloud transition, valid only if the instance's generation is
    /// unchanged.
    Cloud(InstanceId, InstanceState, u64),
    /// An action.
    Act(Cause, Action),
    /// A reprovision completes if the row still carries this instance.
    Provisioned(WorkspaceId, InstanceId),
}

/// The whole simulated world.
pub struct World {
    origin: Instant,
    /// The `workspaces` table.
    pub table: Table,
    /// Ground truth of instances.
    pub cloud: Cloud,
    /// Injected faults in force.
    pub faults: Faults,
    /// Everything that happened.
    pub trace: Trace,
    timing: Timing,
    rng: SimRng,
    due: BTreeMap<(Duration, u64), Due>,
    seq: u64,
    next_instance: u64,
}

impl World {
    /// An empty world whose clock starts now; `rng` draws the durations of
    /// [`Timing`].
    pub fn new(timing: Timing, rng: SimRng) -> Self {
        Self {
            origin: Instant::now(),
            table: Table::default(),
            cloud: Cloud::default(),
            faults: Faults::default(),
            trace: Trace::default(),
            timing,
            rng,
            due: BTreeMap::new(),
            seq: 0,
            next_instance: 1,
        }
    }

    /// Simulated time since the run began.
    pub fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    /// Makes room for a fleet of `rows` and for the trace lines a run over
    /// it starts with (the fleet, then about three per row a pass), so that
    /// building and starting a run does not regrow them step by step.
    pub fn reserve(&mut self, rows: usize) {
        self.table.reserve(rows);
        self.trace.entries.reserve(4 * rows + 16);
    }

    /// Adds a row and its instance's real state before the run starts.
    pub fn seed_row(&mut self, row: Row, state: Option<InstanceState>) {
        if let (Some(i), Some(s)) = (row.live_instance(), state) {
            self.cloud.set(i, s);
            self.schedule_cloud_progress(i, s);
        }
        self.trace
            .push(Duration::ZERO, Event::Fleet(row.clone(), state));
        self.table.insert(row);
    }

    /// Schedules `action` at `at`.
    pub fn schedule(&mut self, at: Duration, cause: Cause, action: Action) {
        self.push_due(at, Due::Act(cause, action));
    }

    fn push_due(&mut self, at: Duration, due: Due) {
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
            self.apply_due(at, due);
        }
        now
    }

    fn apply_due(&mut self, at: Duration, due: Due) {
        match due {
            Due::Cloud(id, state, generation) => {
                if self.cloud.transition(&id, state, generation) {
                    self.trace.push(at, Event::Cloud(id.clone(), state));
                    self.schedule_cloud_progress_at(at, &id, state);
                }
            }
            Due::Act(cause, action) => self.apply_at(at, cause, &action),
            Due::Provisioned(ws, instance) => {
                let done = self.table.get(&ws).is_some_and(|r| {
                    r.status == Status::Provisioning && r.instance.as_ref() == Some(&instance)
                });
                if done {
                    let ms = millis(at);
                    let row = self.table.update(&ws, |r| {
                        r.status = Status::Online;
                        r.updated_at = ms;
                    });
                    self.trace.push(
                        at,
                        Event::Act(Cause::FollowUp, format!("provisioned {ws}"), Some(ws), row),
                    );
                }
            }
        }
    }

    /// Applies `action` now.
    pub fn apply(&mut self, cause: Cause, action: &Action) {
        let now = self.now();
        self.apply_at(now, cause, action);
    }

    fn apply_at(&mut self, at: Duration, cause: Cause, action: &Action) {
        let ms = millis(at);
        // The actor's line goes first so the trace reads cause then effect;
        // the row it left behind is filled in once the action is applied.
        let line = self.trace.entries.len();
        self.trace.push(
            at,
            Event::Act(cause, action.to_string(), action.workspace().cloned(), None),
        );
        let row_after = match action {
            Action::Delete(w) => {
                self.table.remove(w);
                None
            }
            Action::OrphanSweep(w) => self.table.update(w, |r| r.instance = None),
            Action::ClearInstance(w) => self
                .table
                .update(w, |r| r.instance = Some(InstanceId(String::new()))),
            Action::Degrade(w) => self.table.update(w, |r| {
                r.status = Status::Degraded;
                r.updated_at = ms;
            }),
            Action::Recover(w) => self.table.update(w, |r| {
                r.status = Status::Online;
                r.updated_at = ms;
            }),
            Action::SetStatus(w, s) => self.table.update(w, |r| {
                r.status = s.clone();
                r.updated_at = ms;
            }),
            Action::Reprovision(w) => self.reprovision(at, w),
            Action::Pause(w) => {
                let row = self.table.update(w, |r| {
                    r.status = Status::Paused;
                    r.updated_at = ms;
                });
                if let Some(i) = row.as_ref().and_then(|r| r.live_instance().cloned()) {
                    self.stop_instance(at, &i);
                }
                row
            }
            Action::Resume(w) => {
                let row = self.table.update(w, |r| {
                    r.status = Status::Online;
                    r.updated_at = ms;
                });
                if let Some(i) = row.as_ref().and_then(|r| r.live_instance().cloned()) {
                    self.start_instance(at, &i);
                }
                row
            }
            Action::Terminate(i) => {
                self.terminate_instance(at, i);
                None
            }
            Action::Stop(i) => {
                self.stop_instance(at, i);
                None
            }
            Action::Start(i) => {
                self.start_instance(at, i);
                None
            }
            Action::CpSlow { latency_ms, for_ms } => {
                self.faults.cp_slow = Some((
                    Duration::from_millis(*latency_ms),
                    at + Duration::from_millis(*for_ms),
                ));
                None
            }
            Action::CpError { count, kind } => {
                self.faults.cp_errors.extend((0..*count).map(|_| *kind));
                None
            }
            Action::CpPartition { for_ms } => {
                self.faults.cp_partition_until = Some(at + Duration::from_millis(*for_ms));
                None
            }
            Action::DbError { count } => {
                self.faults.db_errors += count;
                None
            }
        };
        if let Event::Act(_, _, _, after) = &mut self.trace.entries[line].event {
            *after = row_after;
        }
    }

    fn reprovision(&mut self, at: Duration, w: &WorkspaceId) -> Option<Row> {
        let old = self.table.get(w)?.live_instance().cloned();
        if let Some(old) = old {
            self.terminate_instance(at, &old);
        }
        let new = InstanceId(format!("i-{:04}", 1000 + self.next_instance));
        self.next_instance += 1;
        self.cloud.set(&new, InstanceState::Pending);
        self.trace
            .push(at, Event::Cloud(new.clone(), InstanceState::Pending));
        let boot = self.draw(self.timing.boot_ms);
        let generation = self.cloud.generation(&new);
        self.push_due(
            at + boot,
            Due::Cloud(new.clone(), InstanceState::Running, generation),
        );
        self.push_due(at + boot, Due::Provisioned(w.clone(), new.clone()));
        let ms = millis(at);
        self.table.update(w, |r| {
            r.instance = Some(new);
            r.status = Status::Provisioning;
            r.updated_at = ms;
        })
    }

    fn terminate_instance(&mut self, at: Duration, i: &InstanceId) {
        let s = self.cloud.state(i);
        if s.is_terminal() {
            return;
        }
        self.cloud.set(i, InstanceState::ShuttingDown);
        self.trace
            .push(at, Event::Cloud(i.clone(), InstanceState::ShuttingDown));
        self.schedule_cloud_progress_at(at, i, InstanceState::ShuttingDown);
    }

    fn stop_instance(&mut self, at: Duration, i: &InstanceId) {
        if !matches!(
            self.cloud.state(i),
            InstanceState::Running | InstanceState::Pending
        ) {
            return;
        }
        self.cloud.set(i, InstanceState::Stopping);
        self.trace
            .push(at, Event::Cloud(i.clone(), InstanceState::Stopping));
        self.schedule_cloud_progress_at(at, i, InstanceState::Stopping);
    }

    fn start_instance(&mut self, at: Duration, i: &InstanceId) {
        if self.cloud.state(i) != InstanceState::Stopped {
            return;
        }
        self.cloud.set(i, InstanceState::Pending);
        self.trace
            .push(at, Event::Cloud(i.clone(), InstanceState::Pending));
        self.schedule_cloud_progress_at(at, i, InstanceState::Pending);
    }

    fn schedule_cloud_progress(&mut self, i: &InstanceId, state: InstanceState) {
        let now = self.now();
        self.schedule_cloud_progress_at(now, i, state);
    }

    /// Schedules the automatic next step of an instance that just entered
    /// `state` at `at`.
    fn schedule_cloud_progress_at(&mut self, at: Duration, i: &InstanceId, state: InstanceState) {
        let (next, range) = match state {
            InstanceState::Pending => (InstanceState::Running, self.timing.boot_ms),
            InstanceState::Stopping => (InstanceState::Stopped, self.timing.stop_ms),
            InstanceState::ShuttingDown => (InstanceState::Terminated, self.timing.shutdown_ms),
            InstanceState::Terminated => (
                InstanceState::NotFound,
                (self.timing.reap_ms, self.timing.reap_ms),
            ),
            InstanceState::Running | InstanceState::Stopped | InstanceState::NotFound => return,
        };
        let after = self.draw(range);
        let generation = self.cloud.generation(i);
        self.push_due(at + after, Due::Cloud(i.clone(), next, generation));
    }

    /// Schedules the restart a flip requested.
    pub fn request_restart(&mut self, ws: &WorkspaceId) {
        let now = self.now();
        self.trace.push(now, Event::Restart(ws.clone()));
        let delay = self.draw(self.timing.restart_ms);
        self.schedule(now + delay, Cause::Restart, Action::Reprovision(ws.clone()));
    }

    fn draw(&mut self, (lo, hi): (u64, u64)) -> Duration {
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
