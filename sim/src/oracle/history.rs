//! The trace, replayed into per-pass facts the checks read.
//!
//! Every fact borrows from the trace: replaying a run allocates maps and
//! vectors, never copies of rows or ids.

use std::borrow::Cow;
use std::time::Duration;

use indexmap::{IndexMap, IndexSet};
use reconciler_core::{InstanceId, InstanceState, Status, WorkspaceId};

use crate::fnv::FnvBuild;
use crate::row::Row;
use crate::trace::{Event, FlipWrite, ReadKind, Trace};

/// A control-plane answer as the trace recorded it.
#[derive(Clone, Debug)]
pub struct Answer<'a> {
    /// When it arrived.
    pub at: Duration,
    /// What was asked about.
    pub instance: &'a InstanceId,
    /// The answer.
    pub answer: &'a Result<InstanceState, String>,
    /// Ground truth at arrival.
    pub truth: InstanceState,
}

/// A flip as the trace recorded it.
#[derive(Clone, Debug)]
pub struct Flip<'a> {
    /// When the write happened.
    pub at: Duration,
    /// The workspace.
    pub ws: &'a WorkspaceId,
    /// The row just before the write.
    pub before: Option<&'a Row>,
}

/// Ground truth at a pass start, for the liveness check.
#[derive(Clone, Debug, Default)]
pub struct StartState<'a> {
    /// Rows in scope.
    pub in_scope: usize,
    /// In-scope rows whose instance is terminal.
    pub dead: Vec<&'a WorkspaceId>,
    /// Which of those are `degraded` (MED-3's case).
    pub degraded: Vec<&'a WorkspaceId>,
}

/// What one pass did and met.
#[derive(Clone, Debug, Default)]
pub struct Pass<'a> {
    /// Its number.
    pub n: u64,
    /// When it started.
    pub start: Duration,
    /// When it returned (`None`: cancelled).
    pub end: Option<Duration>,
    /// Ground truth at its start.
    pub at_start: StartState<'a>,
    /// The candidate query's rows and captured instances.
    pub selected: IndexMap<&'a WorkspaceId, Option<&'a InstanceId>, FnvBuild>,
    /// The candidate query failed.
    pub select_failed: bool,
    /// The instance each workspace's `IsRunning` resolved (last lookup).
    pub resolved: IndexMap<&'a WorkspaceId, Option<&'a InstanceId>, FnvBuild>,
    /// Re-confirm reads, by workspace (last one).
    pub reconfirmed: IndexMap<&'a WorkspaceId, (Duration, Option<&'a Row>), FnvBuild>,
    /// `IsRunning` lookups that returned an instance — so a probe followed —
    /// from a row that was out of scope when read.
    pub out_of_scope_probes: Vec<(Duration, &'a WorkspaceId, &'a Row)>,
    /// Answers, in order.
    pub answers: Vec<Answer<'a>>,
    /// Effective flips (an unconditional write, or a guarded one that
    /// matched), in order.
    pub flips: Vec<Flip<'a>>,
    /// Workspaces (their ids) whose store read (resolve, re-confirm) failed
    /// or timed out.
    pub failed_reads: IndexSet<&'a str, FnvBuild>,
    /// Instances (their ids) whose probe failed or timed out.
    pub failed_probes: IndexSet<&'a str, FnvBuild>,
    /// Workspaces an actor touched (row or instance) since the previous
    /// pass started.
    pub disturbed: IndexSet<&'a WorkspaceId, FnvBuild>,
}

impl<'a> Pass<'a> {
    /// The instance the pass asked the control plane about for `ws`: the
    /// re-resolved one when the variant re-resolves, else the captured one.
    pub fn probed_instance(&self, ws: &WorkspaceId) -> Option<&'a InstanceId> {
        match self.resolved.get(ws) {
            Some(resolved) => *resolved,
            None => self.selected.get(ws).copied().flatten(),
        }
    }

    /// True when the probe of instance `i` failed or timed out.
    pub fn probe_failed(&self, i: &InstanceId) -> bool {
        self.failed_probes.contains(i.0.as_str())
    }

    /// True when a store read of `ws` failed or timed out.
    pub fn read_failed(&self, ws: &WorkspaceId) -> bool {
        self.failed_reads.contains(ws.0.as_str())
    }
}

/// The whole run, by pass.
#[derive(Clone, Debug, Default)]
pub struct History<'a> {
    /// Passes in order.
    pub passes: Vec<Pass<'a>>,
}

/// Ground truth as the trace left it: rows, and instances with their state
/// and the rows that hold them.
#[derive(Default)]
struct Truth<'a> {
    /// Rows in id order (the trace's fleet comes in id order, so building
    /// it appends); a flip's write is the only change the trace does not
    /// carry as a whole row, hence the `Cow`.
    rows: Vec<(&'a WorkspaceId, Cow<'a, Row>)>,
    /// Every instance the trace named: its state, when known, and the rows
    /// whose `instance_id` it is.
    instances: IndexMap<&'a InstanceId, Instance<'a>, FnvBuild>,
}

/// What the replay knows about one instance.
#[derive(Default)]
struct Instance<'a> {
    state: Option<InstanceState>,
    holders: Vec<&'a WorkspaceId>,
}

impl<'a> Truth<'a> {
    fn position(&self, ws: &WorkspaceId) -> Result<usize, usize> {
        match self.rows.last() {
            Some((last, _)) if *last < ws => Err(self.rows.len()),
            _ => self.rows.binary_search_by(|(id, _)| (*id).cmp(ws)),
        }
    }

    /// The row `ws` becomes `row` (`None`: deleted).
    fn set_row(&mut self, ws: &'a WorkspaceId, row: Option<&'a Row>) {
        let old = match (self.position(ws), row) {
            (Ok(p), Some(r)) => Some(std::mem::replace(&mut self.rows[p], (ws, Cow::Borrowed(r)))),
            (Ok(p), None) => Some(self.rows.remove(p)),
            (Err(p), Some(r)) => {
                self.rows.insert(p, (ws, Cow::Borrowed(r)));
                None
            }
            (Err(_), None) => None,
        };
        let before = old.as_ref().and_then(|(_, r)| r.instance.as_ref());
        let after = row.and_then(|r| r.instance.as_ref());
        if before == after {
            return;
        }
        if let Some(i) = before
            && let Some(inst) = self.instances.get_mut(i)
        {
            inst.holders.retain(|w| *w != ws);
        }
        if let Some(i) = after {
            self.instances.entry(i).or_default().holders.push(ws);
        }
    }

    fn row_mut(&mut self, ws: &WorkspaceId) -> Option<&mut Cow<'a, Row>> {
        let p = self.position(ws).ok()?;
        Some(&mut self.rows[p].1)
    }

    /// Sets the state of `i`; returns the previous one.
    fn set_state(&mut self, i: &'a InstanceId, state: InstanceState) -> Option<InstanceState> {
        self.instances.entry(i).or_default().state.replace(state)
    }

    /// The state of `i` (not found when the trace never gave one).
    fn state(&self, i: &InstanceId) -> InstanceState {
        self.instances
            .get(i)
            .and_then(|x| x.state)
            .unwrap_or(InstanceState::NotFound)
    }

    /// The rows whose `instance_id` is `i`.
    fn holders(&self, i: &InstanceId) -> &[&'a WorkspaceId] {
        self.instances.get(i).map_or(&[], |x| x.holders.as_slice())
    }
}

impl<'a> History<'a> {
    /// Replays `trace`.
    pub fn build(trace: &'a Trace) -> Self {
        let mut truth = Truth::default();
        let mut passes: Vec<Pass<'a>> = Vec::new();
        let mut disturbed: IndexSet<&'a WorkspaceId, FnvBuild> = IndexSet::default();
        for entry in &trace.entries {
            let at = entry.at;
            match &entry.event {
                Event::Fleet(row, state) => {
                    if let (Some(i), Some(s)) = (row.live_instance(), state) {
                        truth.set_state(i, *s);
                    }
                    truth.set_row(&row.id, Some(row));
                }
                Event::PassStart(n) => {
                    let at_start = start_state(&truth);
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
                        disturbed.insert(ws);
                        truth.set_row(ws, after.as_ref());
                    }
                }
                Event::Cloud(i, s) => {
                    let before = truth.set_state(i, *s);
                    // Natural progress of a dying instance is not a
                    // disturbance; anything else to a row's instance is.
                    let natural = before.is_some_and(InstanceState::is_terminal) && s.is_terminal();
                    if !natural {
                        disturbed.extend(truth.holders(i));
                    }
                }
                Event::Flip {
                    ws,
                    write,
                    before,
                    wrote,
                } => {
                    if let (true, Some(r)) = (*wrote, truth.row_mut(ws)) {
                        let r = r.to_mut();
                        r.status = Status::Offline;
                        r.updated_at = crate::world::millis(at);
                    }
                    let effective = *wrote || *write == FlipWrite::Unconditional;
                    if let (true, Some(p)) = (effective, passes.last_mut()) {
                        p.flips.push(Flip {
                            at,
                            ws,
                            before: before.as_ref(),
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

fn start_state<'a>(truth: &Truth<'a>) -> StartState<'a> {
    let mut s = StartState::default();
    for (id, r) in truth.rows.iter().filter(|(_, r)| r.in_scope()) {
        s.in_scope += 1;
        let id = *id;
        let state = r
            .live_instance()
            .map_or(InstanceState::NotFound, |i| truth.state(i));
        if state.is_terminal() {
            if r.status == Status::Degraded {
                s.degraded.push(id);
            }
            s.dead.push(id);
        }
    }
    s
}

fn pass_event<'a>(p: &mut Pass<'a>, at: Duration, event: &'a Event) {
    match event {
        Event::PassEnd(_) => p.end = Some(at),
        Event::Select(rows) => {
            p.selected = rows.iter().map(|(w, i)| (w, i.as_ref())).collect();
        }
        Event::Read(ReadKind::Resolve, ws, row) => {
            let instance = row.as_ref().and_then(Row::live_instance);
            if let Some(r) = row.as_ref().filter(|r| instance.is_some() && !r.in_scope()) {
                p.out_of_scope_probes.push((at, ws, r));
            }
            p.resolved.insert(ws, instance);
        }
        Event::Read(ReadKind::Reconfirm, ws, row) => {
            p.reconfirmed.insert(ws, (at, row.as_ref()));
        }
        Event::Answer {
            instance,
            answer,
            truth,
        } => {
            if answer.is_err() {
                p.failed_probes.insert(&instance.0);
            }
            p.answers.push(Answer {
                at,
                instance,
                answer,
                truth: *truth,
            });
        }
        Event::Abandoned(what, about) => match *what {
            "probe" => {
                p.failed_probes.insert(about);
            }
            "select" => p.select_failed = true,
            _ => {
                p.failed_reads.insert(about);
            }
        },
        Event::StoreFault(what, about) => match *what {
            "select" => p.select_failed = true,
            _ => {
                p.failed_reads.insert(about);
            }
        },
        _ => {}
    }
}
