//! What every participant of a stress run shares: the real clock, the
//! client-side record of what happened, the simulated cloud (ground truth of
//! instances, and the instance the control plane holds for each workspace),
//! and the control plane that answers from it.
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
    ControlPlane, CpError, InstanceId, InstanceState, PassObserver, PassReport, RowView,
    WorkspaceId,
};
use sim::hook::Step;
use sim::seed::{SimRng, child_rng};
use sim::trace::{Call, Event, FlowId, FlowRef, ReadKind, Replica};
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

/// The one reconciler replica of a stress run (the platform's replicas are
/// the simulator's business; here the concurrency is the server's).
pub const R: Replica = Replica(0);

/// How one of the reconciler's claims ended, as the reconciler saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteEnd {
    /// It returned whether it matched a row.
    Done(bool),
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
    /// `hardened`'s claim, to be paired with its audit entry (if any).
    Claim {
        /// The workspace.
        ws: WorkspaceId,
        /// The instance it was guarded on.
        instance: InstanceId,
        /// The quiet period it required.
        quiet_for: Option<Duration>,
        /// When the statement was sent.
        start: Duration,
        /// How it ended.
        end: WriteEnd,
    },
    /// The flip: the offline handler was called; its row is the version in
    /// effect at that instant.
    Flip {
        /// The workspace.
        ws: WorkspaceId,
        /// The instance handed over as proven dead.
        proven: Option<InstanceId>,
    },
    /// A platform flow's write, paired with its audit entry by transaction
    /// id (`txid` is `None` when it matched no row).
    FlowWrite {
        /// The flow run.
        flow: FlowRef,
        /// Its step.
        step: Step,
        /// The workspace.
        ws: WorkspaceId,
        /// The writing transaction, when a row was written.
        txid: Option<i64>,
        /// When the statement was sent.
        start: Duration,
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
    unrecognized_permille: u32,
}

/// How the control plane answers, besides the truth: latencies (inclusive,
/// real milliseconds) and how often an answer is an error or a `2xx` with
/// an empty or unknown `state` (the platform's vocabulary; issue #11).
#[derive(Clone, Copy, Debug)]
pub struct CpProfile {
    /// Latency of one request.
    pub latency_ms: (u64, u64),
    /// Transport errors and `503`s, per thousand requests.
    pub error_permille: u32,
    /// `2xx` answers whose `state` is empty or unknown, per thousand.
    pub unrecognized_permille: u32,
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
    commits: RefCell<BTreeMap<i64, Duration>>,
    next_flow: Cell<u32>,
    platform_rng: RefCell<SimRng>,
    stopped: Cell<bool>,
}

impl Stage {
    /// A stage whose clock starts now; `seed` seeds the cloud's durations,
    /// the control plane's latencies and failures and the platform's own
    /// call latencies.
    pub fn new(seed: u64, timing: CloudTiming, cp: CpProfile) -> Self {
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
                latency_ms: cp.latency_ms,
                slow: None,
                error_permille: cp.error_permille,
                unrecognized_permille: cp.unrecognized_permille,
            }),
            selected: RefCell::new(BTreeMap::new()),
            hot: RefCell::new(None),
            commits: RefCell::new(BTreeMap::new()),
            next_flow: Cell::new(1),
            platform_rng: RefCell::new(child_rng(seed, "platform")),
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

    /// The next flow run's id, numbered from 1 in the order flows start.
    pub fn next_flow(&self) -> FlowId {
        let id = self.next_flow.get();
        self.next_flow.set(id + 1);
        FlowId(id)
    }

    /// The latency of one of the platform's control-plane calls (Stop,
    /// launch): the control plane's usual latency, never failing (every
    /// flow ignores a Stop's error, and a failed launch is not modelled).
    pub fn platform_latency(&self) -> Duration {
        let (lo, hi) = self.cp.borrow().latency_ms;
        Duration::from_millis(self.platform_rng.borrow_mut().random_range(lo..=hi))
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
            if cloud.cloud.transition(&id, state, generation, at) {
                self.recs.borrow_mut().push((
                    at,
                    Rec::Ev(Event::Cloud {
                        instance: id.clone(),
                        state,
                    }),
                ));
                cloud.progress(at, &id, state);
            }
        }
    }

    /// The instance's real state now.
    pub fn cloud_state(&self, id: &InstanceId) -> InstanceState {
        self.flush_cloud();
        self.cloud.borrow().cloud.state(id)
    }

    /// Moves an instance to `state` now along one of the cloud's edges
    /// (nothing happens off them), recording it and scheduling its
    /// automatic next step; returns its state just before.
    fn move_to(&self, id: &InstanceId, state: InstanceState) -> InstanceState {
        self.flush_cloud();
        let now = self.now();
        let mut cloud = self.cloud.borrow_mut();
        let was = cloud.cloud.state(id);
        if cloud.cloud.set(id, state, now).is_some() {
            self.recs.borrow_mut().push((
                now,
                Rec::Ev(Event::Cloud {
                    instance: id.clone(),
                    state,
                }),
            ));
            cloud.progress(now, id, state);
        }
        was
    }

    /// Creates a fleet instance of `ws` in `state` (the fleet events carry
    /// it; no cloud event): the instance the control plane holds for `ws`.
    pub fn seed_instance(&self, id: &InstanceId, state: InstanceState, ws: &WorkspaceId) {
        self.flush_cloud();
        let now = self.now();
        let mut cloud = self.cloud.borrow_mut();
        cloud.cloud.seed(id, state, Some(ws));
        cloud.progress(now, id, state);
    }

    /// The control plane launches a new instance for `ws` (booting,
    /// `pending`): it is now the one held for `ws`. Returns its id and the
    /// stage instant it will run if nothing stops it.
    pub fn launch(&self, ws: &WorkspaceId) -> (InstanceId, Duration) {
        let id = self.fresh_id();
        self.flush_cloud();
        let now = self.now();
        let mut cloud = self.cloud.borrow_mut();
        cloud.cloud.launch(&id, ws, now);
        self.recs.borrow_mut().push((
            now,
            Rec::Ev(Event::Cloud {
                instance: id.clone(),
                state: InstanceState::Pending,
            }),
        ));
        let ready = cloud.progress(now, &id, InstanceState::Pending);
        (id, ready)
    }

    /// An id the cloud has never used.
    pub fn fresh_id(&self) -> InstanceId {
        let mut cloud = self.cloud.borrow_mut();
        let id = InstanceId(format!("i-{:04}", cloud.next_id));
        cloud.next_id += 1;
        id
    }

    /// The instance the control plane holds for `ws`: the one it last
    /// launched for it (what a Stop by workspace id terminates).
    pub fn held_for(&self, ws: &WorkspaceId) -> Option<InstanceId> {
        self.cloud.borrow().cloud.held_for(ws).cloned()
    }

    /// The cloud terminates the instance (no-op once it is dying); returns
    /// its state just before.
    pub fn terminate(&self, id: &InstanceId) -> InstanceState {
        self.move_to(id, InstanceState::ShuttingDown)
    }

    /// The cloud stops a running or booting instance.
    pub fn stop_instance(&self, id: &InstanceId) {
        self.move_to(id, InstanceState::Stopping);
    }

    /// The cloud starts a stopped instance (same id, through `pending`).
    pub fn start_instance(&self, id: &InstanceId) {
        self.move_to(id, InstanceState::Pending);
    }

    /// The latency and failure of the next control-plane request, and
    /// whether a clean answer comes back with an unrecognized state.
    fn draw_cp(&self) -> (Duration, Option<CpError>, bool) {
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
        let unrecognized =
            cp.unrecognized_permille > 0 && cp.rng.random_range(0..1000) < cp.unrecognized_permille;
        (latency, failure, unrecognized)
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
            InstanceState::Running
            | InstanceState::Stopped
            | InstanceState::NotFound
            | InstanceState::Unrecognized => return at,
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
    armed: Option<(Call, String, Option<Rec>)>,
}

impl<'a> Abandon<'a> {
    /// Arms the guard for `call` about `about`; `write` is what to record
    /// besides the event if the call is the claim.
    pub fn new(stage: &'a Stage, call: Call, about: String, write: Option<Rec>) -> Self {
        Self {
            stage,
            armed: Some((call, about, write)),
        }
    }

    /// The call completed.
    pub fn done(mut self) {
        self.armed = None;
    }
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if let Some((call, about, write)) = self.armed.take() {
            self.stage.event(Event::Abandoned { r: R, call, about });
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
        stage.event(Event::Probe {
            r: R,
            instance: instance.clone(),
        });
        let guard = Abandon::new(stage, Call::Probe, instance.to_string(), None);
        let (latency, failure, unrecognized) = stage.draw_cp();
        let outbound = latency / 2;
        tokio::time::sleep(outbound).await;
        let state = stage.cloud_state(instance);
        tokio::time::sleep(latency - outbound).await;
        let truth = stage.cloud_state(instance);
        let state = if unrecognized {
            InstanceState::Unrecognized
        } else {
            state
        };
        let answer = failure.map_or(Ok(state), Err);
        stage.event(Event::Answer {
            r: R,
            instance: instance.clone(),
            answer: answer.clone().map_err(|e| e.to_string()),
            truth,
        });
        guard.done();
        answer
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
        self.stage.event(Event::PassStart { r: R, n: pass });
    }

    fn pass_finished(&mut self, pass: u64, _report: &PassReport) {
        self.stage.event(Event::PassEnd { r: R, n: pass });
        self.passes = pass + 1;
        if self.passes >= self.max_passes || self.stage.now() >= self.duration {
            self.cancel.cancel();
        }
    }
}
