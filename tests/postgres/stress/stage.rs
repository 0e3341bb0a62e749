//! What every participant of a stress run shares: the real clock, the
//! client-side record of what happened, the simulated cloud (ground truth of
//! instances), the control plane that answers from it, and the restart
//! handler.
//!
//! Everything runs on one tokio thread (`RefCell`, no borrow across an
//! `.await`); the concurrency that matters is in the Postgres server, where
//! every participant has its own connection.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use rand::RngExt;
use reconciler_core::{
    ControlPlane, CpError, InstanceId, InstanceState, OfflineHandler, PassObserver, PassReport,
    RowView, WorkspaceId,
};
use sim::seed::{SimRng, child_rng};
use sim::trace::{Event, FlipWrite, ReadKind};
use sim::world::Cloud;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What a store read returned, kept so the row it saw can be found in the
/// audited history afterwards.
#[derive(Clone, Debug)]
pub enum Seen {
    /// `resolve_instance`'s answer.
    Instance(Option<InstanceId>),
    /// `reconfirm`'s answer.
    View(Option<RowView>),
}

/// How one of the reconciler's writes ended, as the reconciler saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteEnd {
    /// It returned; for the guarded write, whether it matched a row.
    Done(Option<bool>),
    /// It returned an error.
    Failed,
    /// The reconciler's timeout dropped it mid-flight (the server may still
    /// have executed it).
    Abandoned,
}

/// One client-side record; turned into oracle events once the audit is read.
#[derive(Clone, Debug)]
pub enum Rec {
    /// An event that needs nothing from the audit.
    Ev(Event),
    /// A primary-key read, to be matched to the row version it saw.
    Read {
        /// Which read.
        kind: ReadKind,
        /// Of which workspace.
        ws: WorkspaceId,
        /// What it returned.
        seen: Seen,
    },
    /// A flip's write, to be paired with its audit entry (if any).
    Write {
        /// The workspace.
        ws: WorkspaceId,
        /// Unconditional or guarded.
        write: FlipWrite,
        /// When the statement was sent.
        start: Duration,
        /// How it ended.
        end: WriteEnd,
    },
}

/// How long the cloud and the platform take, in real milliseconds
/// (inclusive ranges).
#[derive(Clone, Debug)]
pub struct CloudTiming {
    /// `pending → running`.
    pub boot_ms: (u64, u64),
    /// `stopping → stopped`.
    pub stop_ms: (u64, u64),
    /// `shutting-down → terminated`.
    pub shutdown_ms: (u64, u64),
    /// `terminated → not found`.
    pub reap_ms: u64,
}

/// The simulated cloud in real time: the simulator's instance state machine
/// ([`Cloud`]) plus a queue of automatic transitions applied lazily whenever
/// anyone looks, as the simulated world does.
struct RealCloud {
    cloud: Cloud,
    due: BTreeMap<(Duration, u64), (InstanceId, InstanceState, u64)>,
    seq: u64,
    next_id: u64,
    timing: CloudTiming,
    rng: SimRng,
}

/// The control plane's behaviour.
struct CpBehaviour {
    rng: SimRng,
    latency_ms: (u64, u64),
    slow: Option<(Duration, Duration)>,
    error_permille: u32,
}

/// The shared state of one stress run.
pub struct Stage {
    origin: Instant,
    recs: RefCell<Vec<(Duration, Rec)>>,
    cloud: RefCell<RealCloud>,
    cp: RefCell<CpBehaviour>,
    /// The instance each workspace had in the last candidate query, so that
    /// a probe can tell the actors which row the reconciler is on.
    selected: RefCell<BTreeMap<InstanceId, WorkspaceId>>,
    hot: RefCell<Option<WorkspaceId>>,
    restarts: RefCell<Vec<WorkspaceId>>,
    commits: RefCell<BTreeMap<i64, Duration>>,
    stopped: Cell<bool>,
}

impl Stage {
    /// A stage whose clock starts now; `seed` seeds the cloud's durations and
    /// the control plane's latencies and failures.
    pub fn new(
        seed: u64,
        timing: CloudTiming,
        latency_ms: (u64, u64),
        error_permille: u32,
    ) -> Self {
        Self {
            origin: Instant::now(),
            recs: RefCell::new(Vec::new()),
            cloud: RefCell::new(RealCloud {
                cloud: Cloud::default(),
                due: BTreeMap::new(),
                seq: 0,
                next_id: 1,
                timing,
                rng: child_rng(seed, "cloud"),
            }),
            cp: RefCell::new(CpBehaviour {
                rng: child_rng(seed, "cp"),
                latency_ms,
                slow: None,
                error_permille,
            }),
            selected: RefCell::new(BTreeMap::new()),
            hot: RefCell::new(None),
            restarts: RefCell::new(Vec::new()),
            commits: RefCell::new(BTreeMap::new()),
            stopped: Cell::new(false),
        }
    }

    /// Real time since the run began.
    pub fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Records `rec` now.
    pub fn record(&self, rec: Rec) {
        let now = self.now();
        self.recs.borrow_mut().push((now, rec));
    }

    /// Records an event now.
    pub fn event(&self, event: Event) {
        self.record(Rec::Ev(event));
    }

    /// Everything recorded, in program order (times never decrease).
    pub fn take_recs(&self) -> Vec<(Duration, Rec)> {
        self.flush_cloud();
        std::mem::take(&mut self.recs.borrow_mut())
    }

    /// Asks every actor to stop after its current step.
    pub fn stop(&self) {
        self.stopped.set(true);
    }

    /// True once [`Stage::stop`] was called.
    pub fn stopped(&self) -> bool {
        self.stopped.get()
    }

    /// The workspace the reconciler is working on, if any: actors aim at it
    /// half the time, because that is where a race can matter.
    pub fn hot(&self) -> Option<WorkspaceId> {
        self.hot.borrow().clone()
    }

    /// Marks `ws` as the row the reconciler is on.
    pub fn set_hot(&self, ws: &WorkspaceId) {
        *self.hot.borrow_mut() = Some(ws.clone());
    }

    /// Remembers the candidate query's captured instances.
    pub fn selected(&self, rows: &[(WorkspaceId, Option<InstanceId>)]) {
        let mut map = self.selected.borrow_mut();
        map.clear();
        for (ws, i) in rows {
            if let Some(i) = i {
                map.insert(i.clone(), ws.clone());
            }
        }
        if let Some((ws, _)) = rows.first() {
            self.set_hot(ws);
        }
    }

    /// Remembers when a transaction an actor held open committed, so its
    /// writes enter the history at their commit rather than at the write.
    pub fn committed(&self, txid: i64) {
        let now = self.now();
        self.commits.borrow_mut().insert(txid, now);
    }

    /// Commit instants of held-open transactions, by txid.
    pub fn commits(&self) -> BTreeMap<i64, Duration> {
        self.commits.borrow().clone()
    }

    /// Restarts the reconciler requested and the platform has not yet taken.
    pub fn take_restarts(&self) -> Vec<WorkspaceId> {
        std::mem::take(&mut self.restarts.borrow_mut())
    }

    /// Makes the control plane slow (every request takes `latency`) until
    /// `until`.
    pub fn cp_slow(&self, latency: Duration, until: Duration) {
        self.cp.borrow_mut().slow = Some((latency, until));
    }

    /// Applies every cloud transition due by now, recording each at its
    /// instant.
    fn flush_cloud(&self) {
        let now = self.now();
        let mut cloud = self.cloud.borrow_mut();
        while let Some(entry) = cloud.due.first_entry() {
            let (at, _) = *entry.key();
            if at > now {
                break;
            }
            let (id, state, generation) = entry.remove();
            if cloud.cloud.transition(&id, state, generation) {
                self.recs
                    .borrow_mut()
                    .push((at, Rec::Ev(Event::Cloud(id.clone(), state))));
                cloud.progress(at, &id, state);
            }
        }
    }

    /// The instance's real state now.
    pub fn cloud_state(&self, id: &InstanceId) -> InstanceState {
        self.flush_cloud();
        self.cloud.borrow().cloud.state(id)
    }

    /// Puts an instance into `state` now (a fleet row at the start, or a
    /// command), recording it and scheduling its automatic next step;
    /// returns when that step is due.
    fn set_state(&self, id: &InstanceId, state: InstanceState, record: bool) -> Duration {
        self.flush_cloud();
        let now = self.now();
        let mut cloud = self.cloud.borrow_mut();
        cloud.cloud.set(id, state);
        if record {
            self.recs
                .borrow_mut()
                .push((now, Rec::Ev(Event::Cloud(id.clone(), state))));
        }
        cloud.progress(now, id, state)
    }

    /// Creates a fleet instance in `state` before the run (the fleet events
    /// carry it; no cloud event).
    pub fn seed_instance(&self, id: &InstanceId, state: InstanceState) {
        self.set_state(id, state, false);
    }

    /// Launches a new instance (booting, `pending`); returns its id and how
    /// long its boot will take.
    pub fn launch(&self) -> (InstanceId, Duration) {
        let id = self.fresh_id();
        let running_at = self.set_state(&id, InstanceState::Pending, true);
        (id, running_at.saturating_sub(self.now()))
    }

    /// An id the cloud has never used, for a fleet row.
    pub fn fresh_id(&self) -> InstanceId {
        let mut cloud = self.cloud.borrow_mut();
        let id = InstanceId(format!("i-{:04}", cloud.next_id));
        cloud.next_id += 1;
        id
    }

    /// The cloud terminates the instance (no-op when already dying).
    pub fn terminate(&self, id: &InstanceId) {
        if !self.cloud_state(id).is_terminal() {
            self.set_state(id, InstanceState::ShuttingDown, true);
        }
    }

    /// The cloud stops a running or booting instance.
    pub fn stop_instance(&self, id: &InstanceId) {
        if matches!(
            self.cloud_state(id),
            InstanceState::Running | InstanceState::Pending
        ) {
            self.set_state(id, InstanceState::Stopping, true);
        }
    }

    /// The cloud starts a stopped instance (same id, through `pending`).
    pub fn start_instance(&self, id: &InstanceId) {
        if self.cloud_state(id) == InstanceState::Stopped {
            self.set_state(id, InstanceState::Pending, true);
        }
    }

    /// The latency and failure of the next control-plane request.
    fn draw_cp(&self) -> (Duration, Option<CpError>) {
        let now = self.now();
        let mut cp = self.cp.borrow_mut();
        let (lo, hi) = cp.latency_ms;
        let drawn = Duration::from_millis(cp.rng.random_range(lo..=hi));
        let latency = match cp.slow {
            Some((latency, until)) if now < until => latency,
            _ => drawn,
        };
        let fails = cp.error_permille > 0 && cp.rng.random_range(0..1000) < cp.error_permille;
        let failure = fails.then(|| match cp.rng.random_range(0..2u32) {
            0 => CpError::Transport("connection reset".to_owned()),
            _ => CpError::Status(503),
        });
        (latency, failure)
    }
}

impl RealCloud {
    /// Schedules the automatic next step of an instance that entered `state`
    /// at `at`; returns when it is due (`at` itself when there is none).
    fn progress(&mut self, at: Duration, id: &InstanceId, state: InstanceState) -> Duration {
        let (next, (lo, hi)) = match state {
            InstanceState::Pending => (InstanceState::Running, self.timing.boot_ms),
            InstanceState::Stopping => (InstanceState::Stopped, self.timing.stop_ms),
            InstanceState::ShuttingDown => (InstanceState::Terminated, self.timing.shutdown_ms),
            InstanceState::Terminated => (
                InstanceState::NotFound,
                (self.timing.reap_ms, self.timing.reap_ms),
            ),
            InstanceState::Running | InstanceState::Stopped | InstanceState::NotFound => {
                return at;
            }
        };
        let after = Duration::from_millis(if hi > lo {
            self.rng.random_range(lo..=hi)
        } else {
            lo
        });
        let generation = self.cloud.generation(id);
        self.seq += 1;
        self.due
            .insert((at + after, self.seq), (id.clone(), next, generation));
        at + after
    }
}

/// Records `Abandoned` (and, for a write, its [`Rec::Write`]) if the call it
/// guards is dropped by the reconciler's timeout before it completes.
pub struct Abandon<'a> {
    stage: &'a Stage,
    armed: Option<(&'static str, String, Option<Rec>)>,
}

impl<'a> Abandon<'a> {
    /// Arms the guard for call `what` about `about`; `write` is what to
    /// record besides the event if the call is a flip's write.
    pub fn new(stage: &'a Stage, what: &'static str, about: String, write: Option<Rec>) -> Self {
        Self {
            stage,
            armed: Some((what, about, write)),
        }
    }

    /// The call completed.
    pub fn done(mut self) {
        self.armed = None;
    }
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if let Some((what, about, write)) = self.armed.take() {
            self.stage.event(Event::Abandoned(what, about));
            if let Some(write) = write {
                self.stage.record(write);
            }
        }
    }
}

/// The control plane: answers from the cloud's ground truth after a seeded
/// latency, reading the state halfway (when the request reaches it) and
/// recording the truth when the answer arrives.
pub struct StageCp(pub Rc<Stage>);

impl ControlPlane for StageCp {
    async fn instance_state(&self, instance: &InstanceId) -> Result<InstanceState, CpError> {
        let stage = &*self.0;
        if let Some(ws) = stage.selected.borrow().get(instance) {
            stage.set_hot(ws);
        }
        stage.event(Event::Probe(instance.clone()));
        let guard = Abandon::new(stage, "probe", instance.to_string(), None);
        let (latency, failure) = stage.draw_cp();
        let outbound = latency / 2;
        tokio::time::sleep(outbound).await;
        let state = stage.cloud_state(instance);
        tokio::time::sleep(latency - outbound).await;
        let truth = stage.cloud_state(instance);
        let answer = failure.map_or(Ok(state), Err);
        stage.event(Event::Answer {
            instance: instance.clone(),
            answer: answer.clone().map_err(|e| e.to_string()),
            truth,
        });
        guard.done();
        answer
    }
}

/// The offline handler: records the restart and hands it to the platform
/// actor, which reprovisions the workspace shortly after.
pub struct StageRestart(pub Rc<Stage>);

impl OfflineHandler for StageRestart {
    async fn on_offline(&self, id: &WorkspaceId) {
        self.0.event(Event::Restart(id.clone()));
        self.0.restarts.borrow_mut().push(id.clone());
    }
}

/// Marks pass boundaries and ends the loop at a pass boundary once the run's
/// time or pass budget is spent (never mid-pass, so no write is cut off by
/// the end of the run).
pub struct Budget {
    /// The stage.
    pub stage: Rc<Stage>,
    /// Stop after this much real time...
    pub duration: Duration,
    /// ... or this many passes, whichever comes first.
    pub max_passes: u64,
    /// Cancels the loop.
    pub cancel: CancellationToken,
    /// Passes finished.
    pub passes: u64,
}

impl PassObserver for Budget {
    fn pass_started(&mut self, pass: u64) {
        self.stage.event(Event::PassStart(pass));
    }

    fn pass_finished(&mut self, pass: u64, _report: &PassReport) {
        self.stage.event(Event::PassEnd(pass));
        self.passes = pass + 1;
        if self.passes >= self.max_passes || self.stage.now() >= self.duration {
            self.cancel.cancel();
        }
    }
}
