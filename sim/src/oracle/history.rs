//! The trace, replayed into per-pass facts the checks read.

use std::collections::BTreeMap;
use std::time::Duration;

use indexmap::{IndexMap, IndexSet};
use reconciler_core::{InstanceId, InstanceState, Status, WorkspaceId};

use crate::row::Row;
use crate::trace::{Event, FlipWrite, ReadKind, Trace};

/// A control-plane answer as the trace recorded it.
#[derive(Clone, Debug)]
pub struct Answer {
    /// When it arrived.
    pub at: Duration,
    /// What was asked about.
    pub instance: InstanceId,
    /// The answer.
    pub answer: Result<InstanceState, String>,
    /// Ground truth at arrival.
    pub truth: InstanceState,
}

/// A flip as the trace recorded it.
#[derive(Clone, Debug)]
pub struct Flip {
    /// When the write happened.
    pub at: Duration,
    /// The workspace.
    pub ws: WorkspaceId,
    /// The row just before the write.
    pub before: Option<Row>,
}

/// Ground truth at a pass start, for the liveness check.
#[derive(Clone, Debug, Default)]
pub struct StartState {
    /// Rows in scope.
    pub in_scope: usize,
    /// In-scope rows whose instance is terminal.
    pub dead: Vec<WorkspaceId>,
    /// Which of those are `degraded` (MED-3's case).
    pub degraded: Vec<WorkspaceId>,
}

/// What one pass did and met.
#[derive(Clone, Debug, Default)]
pub struct Pass {
    /// Its number.
    pub n: u64,
    /// When it started.
    pub start: Duration,
    /// When it returned (`None`: cancelled).
    pub end: Option<Duration>,
    /// Ground truth at its start.
    pub at_start: StartState,
    /// The candidate query's rows and captured instances.
    pub selected: IndexMap<WorkspaceId, Option<InstanceId>>,
    /// The candidate query failed.
    pub select_failed: bool,
    /// The instance each workspace's `IsRunning` resolved (last lookup).
    pub resolved: IndexMap<WorkspaceId, Option<InstanceId>>,
    /// Re-confirm reads, by workspace (last one).
    pub reconfirmed: IndexMap<WorkspaceId, (Duration, Option<Row>)>,
    /// `IsRunning` lookups that returned an instance — so a probe followed —
    /// from a row that was out of scope when read.
    pub out_of_scope_probes: Vec<(Duration, WorkspaceId, Row)>,
    /// Answers, in order.
    pub answers: Vec<Answer>,
    /// Effective flips (an unconditional write, or a guarded one that
    /// matched), in order.
    pub flips: Vec<Flip>,
    /// Workspaces whose store read (resolve, re-confirm) failed or timed
    /// out.
    pub failed_reads: IndexSet<WorkspaceId>,
    /// Instances whose probe failed or timed out.
    pub failed_probes: IndexSet<InstanceId>,
    /// Workspaces an actor touched (row or instance) since the previous
    /// pass started.
    pub disturbed: IndexSet<WorkspaceId>,
}

impl Pass {
    /// The instance the pass asked the control plane about for `ws`: the
    /// re-resolved one when the variant re-resolves, else the captured one.
    pub fn probed_instance(&self, ws: &WorkspaceId) -> Option<&InstanceId> {
        match self.resolved.get(ws) {
            Some(resolved) => resolved.as_ref(),
            None => self.selected.get(ws).and_then(Option::as_ref),
        }
    }
}

/// The whole run, by pass.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Passes in order.
    pub passes: Vec<Pass>,
}

impl History {
    /// Replays `trace`.
    pub fn build(trace: &Trace) -> Self {
        let mut rows: BTreeMap<WorkspaceId, Row> = BTreeMap::new();
        let mut cloud: BTreeMap<InstanceId, InstanceState> = BTreeMap::new();
        let mut passes: Vec<Pass> = Vec::new();
        let mut disturbed: IndexSet<WorkspaceId> = IndexSet::new();
        for entry in &trace.entries {
            let at = entry.at;
            match &entry.event {
                Event::Fleet(row, state) => {
                    if let (Some(i), Some(s)) = (row.live_instance(), state) {
                        cloud.insert(i.clone(), *s);
                    }
                    rows.insert(row.id.clone(), row.clone());
                }
                Event::PassStart(n) => {
                    let at_start = start_state(&rows, &cloud);
                    passes.push(Pass {
                        n: *n,
                        start: at,
                        at_start,
                        disturbed: std::mem::take(&mut disturbed),
                        ..Pass::default()
                    });
                }
                Event::Act(_, _, ws, after) => {
                    if let Some(ws) = ws {
                        disturbed.insert(ws.clone());
                        match after {
                            Some(r) => {
                                rows.insert(ws.clone(), r.clone());
                            }
                            None => {
                                rows.remove(ws);
                            }
                        }
                    }
                }
                Event::Cloud(i, s) => {
                    let before = cloud.insert(i.clone(), *s);
                    // Natural progress of a dying instance is not a
                    // disturbance; anything else to a row's instance is.
                    let natural = before.is_some_and(InstanceState::is_terminal) && s.is_terminal();
                    if !natural {
                        for r in rows.values() {
                            if r.instance.as_ref() == Some(i) {
                                disturbed.insert(r.id.clone());
                            }
                        }
                    }
                }
                Event::Flip {
                    ws,
                    write,
                    before,
                    wrote,
                } => {
                    if let (true, Some(r)) = (*wrote, rows.get_mut(ws)) {
                        r.status = Status::Offline;
                        r.updated_at = crate::world::millis(at);
                    }
                    let effective = *wrote || *write == FlipWrite::Unconditional;
                    if let (true, Some(p)) = (effective, passes.last_mut()) {
                        p.flips.push(Flip {
                            at,
                            ws: ws.clone(),
                            before: before.clone(),
                        });
                    }
                }
                other => {
                    if let Some(p) = passes.last_mut() {
                        pass_event(p, at, other);
                    }
                }
            }
        }
        History { passes }
    }
}

fn start_state(
    rows: &BTreeMap<WorkspaceId, Row>,
    cloud: &BTreeMap<InstanceId, InstanceState>,
) -> StartState {
    let mut s = StartState::default();
    for r in rows.values().filter(|r| r.in_scope()) {
        s.in_scope += 1;
        let state = r.live_instance().map_or(InstanceState::NotFound, |i| {
            cloud.get(i).copied().unwrap_or(InstanceState::NotFound)
        });
        if state.is_terminal() {
            if r.status == Status::Degraded {
                s.degraded.push(r.id.clone());
            }
            s.dead.push(r.id.clone());
        }
    }
    s
}

fn pass_event(p: &mut Pass, at: Duration, event: &Event) {
    match event {
        Event::PassEnd(_) => p.end = Some(at),
        Event::Select(rows) => {
            p.selected = rows.iter().cloned().collect();
        }
        Event::Read(ReadKind::Resolve, ws, row) => {
            let instance = row.as_ref().and_then(|r| r.live_instance().cloned());
            if let Some(r) = row.as_ref().filter(|r| instance.is_some() && !r.in_scope()) {
                p.out_of_scope_probes.push((at, ws.clone(), r.clone()));
            }
            p.resolved.insert(ws.clone(), instance);
        }
        Event::Read(ReadKind::Reconfirm, ws, row) => {
            p.reconfirmed.insert(ws.clone(), (at, row.clone()));
        }
        Event::Answer {
            instance,
            answer,
            truth,
        } => {
            if answer.is_err() {
                p.failed_probes.insert(instance.clone());
            }
            p.answers.push(Answer {
                at,
                instance: instance.clone(),
                answer: answer.clone(),
                truth: *truth,
            });
        }
        Event::Abandoned(what, about) => match *what {
            "probe" => {
                p.failed_probes.insert(InstanceId(about.clone()));
            }
            "select" => p.select_failed = true,
            _ => {
                p.failed_reads.insert(WorkspaceId(about.clone()));
            }
        },
        Event::StoreFault(what, about) => match *what {
            "select" => p.select_failed = true,
            _ => {
                p.failed_reads.insert(WorkspaceId(about.clone()));
            }
        },
        _ => {}
    }
}
