//! The run's ordered event list: what the oracle judges, what `replay`
//! prints, what a snapshot holds.
//!
//! Every event is stamped with simulated time and carries ground truth taken
//! by the world at that instant (the row as it was, the instance's real
//! state), never what the reconciler believed. Events are values with typed
//! fields end to end: no consumer decides anything by comparing the text of
//! another's rendering.
//!
//! A trace does not have to stay in memory: [`Trace`] keeps all of it, only
//! its last lines, or none, and hands every entry, as it is pushed, to the
//! observers a run installs (the oracle, a digest, a streaming printer), so
//! that a long run's memory depends on the fleet, not on its length.

use std::collections::VecDeque;
use std::fmt::{self, Write as _};
use std::time::Duration;

use reconciler_core::{InstanceId, InstanceState, WorkspaceId};

use crate::action::Action;
use crate::hook::{Flow, Step};
use crate::logs::{LogCapture, LogLine};
use crate::row::{Row, fmt_time};

/// A reconciler replica: one process of the platform, with its own loop and
/// its own `RestartByID` coalescing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Replica(pub u8);

impl fmt::Display for Replica {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// One run of a platform flow, numbered from 1 in the order flows start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId(pub u32);

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "f{}", self.0)
    }
}

/// A flow run and what kind of flow it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRef {
    /// Which run.
    pub id: FlowId,
    /// Which flow.
    pub kind: Flow,
}

/// One of the reconciler's calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Call {
    /// The candidate query.
    Select,
    /// `IsRunning`'s instance lookup.
    Resolve,
    /// The re-confirm read.
    Reconfirm,
    /// `hardened`'s claim.
    Claim,
    /// A control-plane request.
    Probe,
}

impl Call {
    /// The name traces print.
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Select => "select",
            Call::Resolve => "resolve",
            Call::Reconfirm => "reconfirm",
            Call::Claim => "claim",
            Call::Probe => "probe",
        }
    }
}

/// Who issued a store call that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A reconciler replica's call.
    Reconciler(Replica, Call),
    /// A platform flow's step.
    Flow(FlowRef, Step),
}

/// Which store read a [`Event::Read`] was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadKind {
    /// `IsRunning`'s instance lookup by workspace id.
    Resolve,
    /// The re-confirm read.
    Reconfirm,
}

/// Who started an action or a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The director, at a hook point.
    Hook,
    /// A step scheduled for a simulated instant.
    Timed,
    /// A replica's flip (the offline handler requested a restart).
    Flip(Replica),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Hook => f.write_str("hook"),
            Cause::Timed => f.write_str("timed"),
            Cause::Flip(r) => write!(f, "flip by {r}"),
        }
    }
}

/// Why a flow ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Its read found no row it may act on (gone, or a status it skips).
    NoRow,
    /// The row's runtime is external.
    External,
    /// Its guarded claim matched no row.
    ClaimLost,
    /// A store call failed.
    DbError,
    /// The instance it launched never ran (terminated while booting).
    NeverRan,
    /// The row no longer holds the instance it launched.
    Superseded,
}

impl Refusal {
    /// The words traces print.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NoRow => "no row to act on",
            Refusal::External => "external runtime",
            Refusal::ClaimLost => "claim matched no row",
            Refusal::DbError => "database error",
            Refusal::NeverRan => "the new instance never ran",
            Refusal::Superseded => "the row moved on to another instance",
        }
    }
}

/// What one flow step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A read: the row it returned (`None`: no row).
    Read(Option<Row>),
    /// A write that matched a row: the row afterwards.
    Wrote(Row),
    /// A write that matched no row.
    NoMatch,
    /// A sleep.
    Waited(Duration),
    /// A stop (or termination) request; `instance` is what the control
    /// plane acted on (`None`: it held nothing for the workspace) and `was`
    /// its real state at that instant.
    Stopped {
        /// The instance acted on.
        instance: Option<InstanceId>,
        /// Its real state just before.
        was: InstanceState,
    },
    /// The control plane launched this instance.
    Launched(InstanceId),
}

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A row as the run starts, with its instance's real state.
    Fleet {
        /// The row.
        row: Row,
        /// Its instance's real state, when it has a live instance.
        state: Option<InstanceState>,
    },
    /// A replica started pass `n`.
    PassStart {
        /// The replica.
        r: Replica,
        /// The pass, from 0.
        n: u64,
    },
    /// Pass `n` returned (a cancelled pass has no end).
    PassEnd {
        /// The replica.
        r: Replica,
        /// The pass.
        n: u64,
    },
    /// The candidate query returned these rows (id, captured instance).
    Select {
        /// The replica.
        r: Replica,
        /// The rows, in query order.
        rows: Vec<(WorkspaceId, Option<InstanceId>)>,
    },
    /// A primary-key read returned this row (`None`: no row).
    Read {
        /// The replica.
        r: Replica,
        /// Which read.
        kind: ReadKind,
        /// The workspace.
        ws: WorkspaceId,
        /// What it returned, in full (ground truth at that instant).
        row: Option<Row>,
    },
    /// A request to the control plane about an instance left the reconciler.
    Probe {
        /// The replica.
        r: Replica,
        /// The instance asked about.
        instance: InstanceId,
    },
    /// The control plane's answer arrived; `truth` is the instance's real
    /// state at that instant.
    Answer {
        /// The replica.
        r: Replica,
        /// What was asked about.
        instance: InstanceId,
        /// The answer (an error is its message).
        answer: Result<InstanceState, String>,
        /// Ground truth when the answer arrived.
        truth: InstanceState,
    },
    /// A call was abandoned by the reconciler before it completed (its
    /// timeout fired).
    Abandoned {
        /// The replica.
        r: Replica,
        /// The call.
        call: Call,
        /// The workspace or instance it was about (empty for the query).
        about: String,
    },
    /// A store call failed by injection.
    StoreFault {
        /// Who issued it.
        by: Caller,
        /// The workspace it was about (empty for the candidate query).
        about: String,
    },
    /// `hardened`'s claim; `before` is the row at that instant.
    Claim {
        /// The replica.
        r: Replica,
        /// The workspace.
        ws: WorkspaceId,
        /// The instance the claim was guarded on.
        instance: InstanceId,
        /// The quiet period it required, if any.
        quiet_for: Option<Duration>,
        /// Ground truth just before the write.
        before: Option<Row>,
        /// Whether it wrote.
        wrote: bool,
    },
    /// The flip: a replica called the offline handler; `row` is ground
    /// truth at that instant.
    Flip {
        /// The replica.
        r: Replica,
        /// The workspace.
        ws: WorkspaceId,
        /// The instance the caller handed over as proven dead, if any.
        proven: Option<InstanceId>,
        /// The row at the call.
        row: Option<Row>,
    },
    /// The offline handler recorded a `WORKSPACE_OFFLINE` event.
    Offline {
        /// The workspace.
        ws: WorkspaceId,
    },
    /// The offline handler asked this replica's `RestartByID` for a restart.
    RestartRequested {
        /// The replica whose coalescing map took the request.
        r: Replica,
        /// The workspace.
        ws: WorkspaceId,
        /// The flow run it started, or `None` when a cycle was already
        /// running (the request set `pending`).
        started: Option<FlowId>,
    },
    /// A platform flow started.
    FlowStart {
        /// The run.
        flow: FlowRef,
        /// The workspace.
        ws: WorkspaceId,
        /// Who started it.
        cause: Cause,
    },
    /// A flow took a step.
    Step {
        /// The run.
        flow: FlowRef,
        /// The step.
        step: Step,
        /// The workspace.
        ws: WorkspaceId,
        /// What it did.
        effect: Effect,
    },
    /// A flow ended; `refused` says why when it stopped early.
    FlowEnd {
        /// The run.
        flow: FlowRef,
        /// The workspace.
        ws: WorkspaceId,
        /// Why it stopped early, if it did.
        refused: Option<Refusal>,
    },
    /// A single-step actor acted; `row` is the row afterwards when the
    /// action is about a row.
    Act {
        /// Who made it act.
        cause: Cause,
        /// What it did.
        action: Action,
        /// The row afterwards (`None`: no row).
        row: Option<Row>,
    },
    /// An instance changed state in the cloud.
    Cloud {
        /// The instance.
        instance: InstanceId,
        /// Its new state.
        state: InstanceState,
    },
    /// A log line the reconciler emitted (only with `--log`; see
    /// [`crate::logs`]): what it believed and decided, in its own words.
    Log(LogLine),
}

impl Event {
    /// The replica a reconciler event belongs to, if it is one.
    pub fn replica(&self) -> Option<Replica> {
        match self {
            Event::PassStart { r, .. }
            | Event::PassEnd { r, .. }
            | Event::Select { r, .. }
            | Event::Read { r, .. }
            | Event::Probe { r, .. }
            | Event::Answer { r, .. }
            | Event::Abandoned { r, .. }
            | Event::Claim { r, .. }
            | Event::Flip { r, .. }
            | Event::RestartRequested { r, .. } => Some(*r),
            Event::StoreFault {
                by: Caller::Reconciler(r, _),
                ..
            } => Some(*r),
            _ => None,
        }
    }
}

/// An event at an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Simulated time since the run began.
    pub at: Duration,
    /// What happened.
    pub event: Event,
}

/// How much of a trace stays in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Everything (scenario runs, snapshots, replays, shrinking).
    All,
    /// The last `n` entries (exploration: the failure report's tail).
    Tail(usize),
}

/// Something that reads every entry as it is pushed.
pub trait Observer {
    /// Called once per entry, in order.
    fn observe(&mut self, entry: &Entry);
}

/// A shared observer: the run keeps one handle to read the result, the
/// trace holds the other.
impl<T: Observer> Observer for std::rc::Rc<std::cell::RefCell<T>> {
    fn observe(&mut self, entry: &Entry) {
        self.borrow_mut().observe(entry);
    }
}

/// The ordered trace as recorded: kept in full or in part. Plain data
/// (`Send`, `Clone`), so a run's result can travel between threads.
#[derive(Clone, Debug)]
pub struct Trace {
    keep: Keep,
    entries: VecDeque<Entry>,
    pushed: u64,
    last_at: Duration,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new(Keep::All)
    }
}

impl Trace {
    /// An empty trace that keeps `keep`.
    pub fn new(keep: Keep) -> Self {
        Self {
            keep,
            entries: VecDeque::new(),
            pushed: 0,
            last_at: Duration::ZERO,
        }
    }

    /// Makes room for `n` more entries, when they are kept.
    pub fn reserve(&mut self, n: usize) {
        if self.keep == Keep::All {
            self.entries.reserve(n);
        }
    }

    /// Appends an entry. Times never decrease: the world applies what is
    /// due in time order before anything else is recorded.
    fn push(&mut self, entry: Entry) {
        debug_assert!(
            entry.at >= self.last_at,
            "trace time went back from {:?} to {:?}: {:?}",
            self.last_at,
            entry.at,
            entry.event
        );
        self.last_at = entry.at;
        self.pushed += 1;
        match self.keep {
            Keep::All => self.entries.push_back(entry),
            Keep::Tail(0) => {}
            Keep::Tail(n) => {
                if self.entries.len() == n {
                    self.entries.pop_front();
                }
                self.entries.push_back(entry);
            }
        }
    }

    /// The kept entries, in order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &Entry> + DoubleEndedIterator {
        self.entries.iter()
    }

    /// How many entries were pushed (kept or not).
    pub fn len(&self) -> u64 {
        self.pushed
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// The instant of the last entry.
    pub fn last_at(&self) -> Duration {
        self.last_at
    }

    /// True when every entry pushed is still kept.
    pub fn is_whole(&self) -> bool {
        self.entries.len() as u64 == self.pushed
    }

    /// The stable text rendering of the kept entries, one line per event.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let _ = writeln!(out, "{e}");
        }
        out
    }

    /// The last `n` kept lines of the rendering.
    pub fn tail(&self, n: usize) -> String {
        let start = self.entries.len().saturating_sub(n);
        let mut out = String::new();
        for e in self.entries.iter().skip(start) {
            let _ = writeln!(out, "{e}");
        }
        out
    }
}

/// The trace a run writes to: the [`Trace`] it keeps, and the observers
/// that read every entry as it is pushed.
#[derive(Default)]
pub struct Tracer {
    trace: Trace,
    observers: Vec<Box<dyn Observer>>,
    logs: Option<LogCapture>,
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracer")
            .field("trace", &self.trace)
            .field("observers", &self.observers.len())
            .field("logs", &self.logs)
            .finish()
    }
}

impl Tracer {
    /// A tracer keeping `keep`, with no observer yet.
    pub fn new(keep: Keep) -> Self {
        Self {
            trace: Trace::new(keep),
            observers: Vec::new(),
            logs: None,
        }
    }

    /// Takes the reconciler's log lines from `capture` into this trace,
    /// each before the first entry not earlier than it (see
    /// [`crate::logs`]); `None` leaves the trace as it was.
    pub fn attach_logs(&mut self, capture: Option<LogCapture>) {
        self.logs = capture;
    }

    /// Adds an observer; it sees every entry pushed from now on.
    pub fn observe(&mut self, observer: Box<dyn Observer>) {
        self.observers.push(observer);
    }

    /// Makes room for `n` more entries, when they are kept.
    pub fn reserve(&mut self, n: usize) {
        self.trace.reserve(n);
    }

    /// Appends an event, after showing it to every observer; log lines
    /// captured up to `at` go first.
    pub fn push(&mut self, at: Duration, event: Event) {
        if let Some(logs) = &self.logs {
            for (t, line) in logs.take_until(at) {
                self.push_entry(Entry {
                    at: t,
                    event: Event::Log(line),
                });
            }
        }
        self.push_entry(Entry { at, event });
    }

    fn push_entry(&mut self, entry: Entry) {
        for o in &mut self.observers {
            o.observe(&entry);
        }
        self.trace.push(entry);
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// How many entries were pushed.
    pub fn len(&self) -> u64 {
        self.trace.len()
    }

    /// True when nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.trace.is_empty()
    }

    /// The kept entries, in order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &Entry> + DoubleEndedIterator {
        self.trace.entries()
    }

    /// Ends the run's writing: drops the observers (their shared handles
    /// are then the only ones left) and returns the trace.
    /// Log lines still captured go in first, at their own instants.
    pub fn finish(mut self) -> Trace {
        if let Some(logs) = self.logs.take() {
            for (at, line) in logs.take_all() {
                self.push_entry(Entry {
                    at,
                    event: Event::Log(line),
                });
            }
        }
        self.trace
    }
}

/// A 64-bit FNV-1a hash of rendered lines, fed one entry at a time: equal
/// traces, equal hashes, on every platform, without keeping the trace.
#[derive(Clone, Debug)]
pub struct LineHash {
    hash: u64,
    line: String,
}

impl Default for LineHash {
    fn default() -> Self {
        Self {
            hash: 0xcbf2_9ce4_8422_2325,
            line: String::new(),
        }
    }
}

impl LineHash {
    /// Hashes one entry's line (with its newline).
    pub fn add(&mut self, entry: &Entry) {
        self.line.clear();
        let _ = writeln!(self.line, "{entry}");
        for b in self.line.bytes() {
            self.hash ^= u64::from(b);
            self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn value(&self) -> u64 {
        self.hash
    }

    /// The hash of a whole kept trace.
    pub fn of(trace: &Trace) -> u64 {
        let mut h = LineHash::default();
        for e in trace.entries() {
            h.add(e);
        }
        h.value()
    }
}

fn opt_row(r: &Option<Row>) -> String {
    r.as_ref()
        .map_or_else(|| "no row".to_owned(), ToString::to_string)
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::Read(row) => write!(f, "read {}", opt_row(row)),
            Effect::Wrote(row) => write!(f, "wrote -> {row}"),
            Effect::NoMatch => f.write_str("matched no row"),
            Effect::Waited(d) => write!(f, "slept {}", fmt_time(*d)),
            Effect::Stopped { instance, was } => match instance {
                Some(i) => write!(f, "{i} (was {was})"),
                None => f.write_str("nothing held for the workspace"),
            },
            Effect::Launched(i) => write!(f, "launched {i}"),
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>10} ", fmt_time(self.at))?;
        match &self.event {
            Event::Fleet { row, state } => match state {
                Some(s) => write!(f, "   fleet     {row} cloud={s}"),
                None => write!(f, "   fleet     {row}"),
            },
            Event::PassStart { r, n } => write!(f, "{r} pass      #{n} start"),
            Event::PassEnd { r, n } => write!(f, "{r} pass      #{n} end"),
            Event::Select { r, rows } => {
                write!(f, "{r} select    {} rows:", rows.len())?;
                for (w, i) in rows {
                    match i {
                        Some(i) => write!(f, " {w}={i}")?,
                        None => write!(f, " {w}")?,
                    }
                }
                Ok(())
            }
            Event::Read { r, kind, ws, row } => {
                let k = match kind {
                    ReadKind::Resolve => "resolve  ",
                    ReadKind::Reconfirm => "reconfirm",
                };
                write!(f, "{r} {k} {ws} -> {}", opt_row(row))
            }
            Event::Probe { r, instance } => write!(f, "{r} probe     {instance}"),
            Event::Answer {
                r,
                instance,
                answer,
                truth,
            } => match answer {
                Ok(s) => write!(f, "{r} answer    {instance} = {s} (truth {truth})"),
                Err(e) => write!(f, "{r} answer    {instance} ERROR {e} (truth {truth})"),
            },
            Event::Abandoned { r, call, about } => {
                write!(f, "{r} abandoned {} {about} (timeout)", call.as_str())
            }
            Event::StoreFault { by, about } => match by {
                Caller::Reconciler(r, call) => {
                    write!(f, "{r} db-fault  {} {about} failed", call.as_str())
                }
                Caller::Flow(flow, step) => write!(
                    f,
                    "{} db-fault  {}.{} {about} failed",
                    flow.id,
                    flow.kind.as_str(),
                    step.as_str()
                ),
            },
            Event::Claim {
                r,
                ws,
                instance,
                quiet_for,
                before,
                wrote,
            } => {
                write!(f, "{r} claim     {ws} on {instance}")?;
                if let Some(q) = quiet_for {
                    write!(f, " quiet {}", fmt_time(*q))?;
                }
                write!(f, " wrote={wrote} before={}", opt_row(before))
            }
            Event::Flip { r, ws, proven, row } => {
                write!(f, "{r} FLIP      {ws}")?;
                if let Some(i) = proven {
                    write!(f, " proven {i}")?;
                }
                write!(f, " row={}", opt_row(row))
            }
            Event::Offline { ws } => write!(f, "   event     WORKSPACE_OFFLINE {ws}"),
            Event::RestartRequested { r, ws, started } => match started {
                Some(flow) => write!(f, "{r} restart   {ws} requested: {flow} starts"),
                None => write!(f, "{r} restart   {ws} requested: coalesced (pending)"),
            },
            Event::FlowStart { flow, ws, cause } => {
                write!(
                    f,
                    "{:<3}{:<10} {ws} start ({cause})",
                    flow.id.to_string(),
                    flow.kind.as_str()
                )
            }
            Event::Step {
                flow,
                step,
                ws,
                effect,
            } => write!(
                f,
                "{:<3}{:<10} {ws} {}: {effect}",
                flow.id.to_string(),
                flow.kind.as_str(),
                step.as_str()
            ),
            Event::FlowEnd { flow, ws, refused } => {
                write!(
                    f,
                    "{:<3}{:<10} {ws} end",
                    flow.id.to_string(),
                    flow.kind.as_str()
                )?;
                match refused {
                    Some(why) => write!(f, " early: {}", why.as_str()),
                    None => Ok(()),
                }
            }
            Event::Act { cause, action, row } => match row {
                Some(r) => write!(f, "   actor     [{cause}] {action} -> {r}"),
                None => write!(f, "   actor     [{cause}] {action}"),
            },
            Event::Cloud { instance, state } => write!(f, "   cloud     {instance} -> {state}"),
            Event::Log(line) => write!(f, "   log       {line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass_start(secs: u64) -> Entry {
        Entry {
            at: Duration::from_secs(secs),
            event: Event::PassStart {
                r: Replica(0),
                n: 0,
            },
        }
    }

    #[test]
    fn a_tail_keeps_the_last_entries_and_counts_all() {
        let mut t = Trace::new(Keep::Tail(2));
        for s in 0..5 {
            t.push(pass_start(s));
        }
        assert_eq!(t.len(), 5);
        assert!(!t.is_whole());
        let kept: Vec<_> = t.entries().map(|e| e.at.as_secs()).collect();
        assert_eq!(kept, vec![3, 4]);
    }

    /// Time going back in the trace means the world applied something out
    /// of order; the test profile stops there.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "trace time went back")]
    fn time_going_back_is_caught() {
        let mut t = Trace::new(Keep::All);
        t.push(pass_start(2));
        t.push(pass_start(1));
    }
}
