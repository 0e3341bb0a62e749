//! The run's ordered event list: what the oracle judges, what `replay`
//! prints, what a snapshot holds.
//!
//! Every event is stamped with simulated time and carries ground truth taken
//! by the world at that instant (the row as it was, the instance's real
//! state), never what the reconciler believed.

use std::fmt::{self, Write as _};
use std::time::Duration;

use reconciler_core::{InstanceId, InstanceState, WorkspaceId};

use crate::row::{Row, fmt_time};

/// Which store read a [`Event::Read`] was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadKind {
    /// `IsRunning`'s instance lookup by workspace id.
    Resolve,
    /// The re-confirm read.
    Reconfirm,
}

/// How a flip wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlipWrite {
    /// `UPDATE … SET status='offline' WHERE id=$1`.
    Unconditional,
    /// The compare-and-set on (id, this instance, live status, runtime).
    Guarded(InstanceId),
}

/// Who caused an [`Event::Act`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The scheduler, at a hook point.
    Hook,
    /// An action scheduled for a simulated instant.
    Timed,
    /// The offline handler's restart.
    Restart,
    /// A follow-up of an earlier action (a reprovision finishing, a pause
    /// completing).
    FollowUp,
}

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A row as the run starts, with its instance's real state.
    Fleet(Row, Option<InstanceState>),
    /// The loop started pass `n`.
    PassStart(u64),
    /// Pass `n` returned (a cancelled pass has no end).
    PassEnd(u64),
    /// The candidate query returned these rows (id, captured instance).
    Select(Vec<(WorkspaceId, Option<InstanceId>)>),
    /// A primary-key read returned this row (`None`: no row).
    Read(ReadKind, WorkspaceId, Option<Row>),
    /// A request to the control plane about an instance left the reconciler.
    Probe(InstanceId),
    /// The control plane's answer arrived; `truth` is the instance's real
    /// state at that instant.
    Answer {
        /// What was asked about.
        instance: InstanceId,
        /// The answer (an error is its message).
        answer: Result<InstanceState, String>,
        /// Ground truth when the answer arrived.
        truth: InstanceState,
    },
    /// A call was abandoned by the reconciler before it completed (its
    /// timeout fired); `what` names the call.
    Abandoned(&'static str, String),
    /// A store call failed by injection: the call, and the workspace it was
    /// about (empty for the candidate query).
    StoreFault(&'static str, String),
    /// A flip's write; `before` is the row at that instant, `wrote` whether
    /// a row changed.
    Flip {
        /// The workspace.
        ws: WorkspaceId,
        /// How it wrote.
        write: FlipWrite,
        /// Ground truth just before the write.
        before: Option<Row>,
        /// Whether the write changed a row.
        wrote: bool,
    },
    /// The offline handler was called: a restart is requested.
    Restart(WorkspaceId),
    /// An actor acted; `after` is the row afterwards when the action is
    /// about a row.
    Act(Cause, String, Option<WorkspaceId>, Option<Row>),
    /// An instance changed state in the cloud.
    Cloud(InstanceId, InstanceState),
}

/// An event at an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Simulated time since the run began.
    pub at: Duration,
    /// What happened.
    pub event: Event,
}

/// The whole ordered trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Entries in the order they happened (times never decrease).
    pub entries: Vec<Entry>,
}

impl Trace {
    /// Appends an event.
    pub fn push(&mut self, at: Duration, event: Event) {
        self.entries.push(Entry { at, event });
    }

    /// The stable text rendering, one line per event.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let _ = writeln!(out, "{e}");
        }
        out
    }

    /// The last `n` lines of the rendering.
    pub fn tail(&self, n: usize) -> String {
        let start = self.entries.len().saturating_sub(n);
        let mut out = String::new();
        for e in &self.entries[start..] {
            let _ = writeln!(out, "{e}");
        }
        out
    }

    /// A 64-bit FNV-1a hash of the rendering: equal traces, equal hashes, on
    /// every platform.
    pub fn hash(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.render().bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

fn opt_row(r: &Option<Row>) -> String {
    r.as_ref()
        .map_or_else(|| "no row".to_owned(), ToString::to_string)
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>10} ", fmt_time(self.at))?;
        match &self.event {
            Event::Fleet(row, state) => match state {
                Some(s) => write!(f, "fleet     {row} cloud={s}"),
                None => write!(f, "fleet     {row}"),
            },
            Event::PassStart(n) => write!(f, "pass      #{n} start"),
            Event::PassEnd(n) => write!(f, "pass      #{n} end"),
            Event::Select(rows) => {
                write!(f, "select    {} rows:", rows.len())?;
                for (w, i) in rows {
                    match i {
                        Some(i) => write!(f, " {w}={i}")?,
                        None => write!(f, " {w}")?,
                    }
                }
                Ok(())
            }
            Event::Read(kind, ws, row) => {
                let k = match kind {
                    ReadKind::Resolve => "resolve  ",
                    ReadKind::Reconfirm => "reconfirm",
                };
                write!(f, "{k} {ws} -> {}", opt_row(row))
            }
            Event::Probe(i) => write!(f, "probe     {i}"),
            Event::Answer {
                instance,
                answer,
                truth,
            } => match answer {
                Ok(s) => write!(f, "answer    {instance} = {s} (truth {truth})"),
                Err(e) => write!(f, "answer    {instance} ERROR {e} (truth {truth})"),
            },
            Event::Abandoned(what, about) => write!(f, "abandoned {what} {about} (timeout)"),
            Event::StoreFault(op, ws) => write!(f, "db-fault  {op} {ws} failed (injected)"),
            Event::Flip {
                ws,
                write,
                before,
                wrote,
            } => {
                let how = match write {
                    FlipWrite::Unconditional => "unconditional".to_owned(),
                    FlipWrite::Guarded(i) => format!("guarded on {i}"),
                };
                write!(
                    f,
                    "FLIP      {ws} {how} wrote={wrote} before={}",
                    opt_row(before)
                )
            }
            Event::Restart(ws) => write!(f, "restart   {ws} requested"),
            Event::Act(cause, what, _, after) => {
                let c = match cause {
                    Cause::Hook => "hook",
                    Cause::Timed => "timed",
                    Cause::Restart => "restart",
                    Cause::FollowUp => "follow-up",
                };
                match after {
                    Some(r) => write!(f, "actor     [{c}] {what} -> {r}"),
                    None => write!(f, "actor     [{c}] {what}"),
                }
            }
            Event::Cloud(i, s) => write!(f, "cloud     {i} -> {s}"),
        }
    }
}
