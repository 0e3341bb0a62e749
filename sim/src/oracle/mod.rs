//! The oracle: judges a run from its trace alone, as the trace is written.
//!
//! It depends on the trace's event types and on nothing else in the harness
//! — not on the world, not on the reconciler's predicates (it has
//! [`definitions`] of its own). Every fact it uses was written into the
//! trace by the world at the instant it was true (rows as they were, the
//! instance's real state when an answer arrived); nothing it uses is the
//! reconciler's belief. It reads each entry once, keeps ground truth, the
//! current pass of each replica and the flows in flight, and forgets a pass
//! when it ends, so its memory is the fleet's, not the run's. Each rule
//! lives in its own file and documents its exact definition.

pub mod definitions;
mod harm;
mod liveness;
mod pass;
mod safety;
mod timeliness;
mod truth;
mod verdict;

use std::collections::BTreeMap;
use std::time::Duration;

use reconciler_core::{InstanceState, Status, Variant, WorkspaceId};

pub use verdict::{Kind, Label, Sub, Violation};

use self::definitions::{in_scope, instance_of, terminal};
use self::pass::{Answer, Claim, Pass, StartState};
use self::truth::Truth;
use crate::action::Action;
use crate::trace::{Call, Caller, Effect, Entry, Event, Observer, ReadKind, Replica};

/// What the oracle needs to know about the run's rules.
#[derive(Clone, Debug)]
pub struct Rules {
    /// The pass deadline every variant is held to.
    pub pass_deadline: Duration,
    /// Slack on the deadline for the last write of a pass.
    pub overrun_tolerance: Duration,
    /// Worst-case time to process one row (probe plus writes), used to
    /// bound how many rows a pass can be expected to reach.
    pub per_row_cost: Duration,
    /// The candidate query's `LIMIT`.
    pub limit: u32,
    /// Extra passes granted beyond the capacity bound before a dead row
    /// counts as missed.
    pub liveness_slack: u64,
    /// A bound set by hand (a scenario's `missed_dead_bound`), replacing
    /// the computed one.
    pub fixed_liveness_bound: Option<u64>,
    /// How many flips of one workspace, with no comeback between them, make
    /// a restart storm.
    pub storm_bound: u32,
}

impl Rules {
    /// How many rows one pass can be relied on to process.
    pub fn pass_capacity(&self) -> u64 {
        let per_row = self.per_row_cost.as_millis().max(1);
        let by_time = (self.pass_deadline.as_millis() / per_row).max(1);
        u64::try_from(by_time)
            .unwrap_or(u64::MAX)
            .min(u64::from(self.limit))
    }

    /// Passes within which a dead, undisturbed row among `in_scope` rows
    /// must be flipped.
    pub fn liveness_bound(&self, in_scope: usize) -> u64 {
        if let Some(b) = self.fixed_liveness_bound {
            return b;
        }
        (in_scope as u64).div_ceil(self.pass_capacity()) + self.liveness_slack
    }
}

/// The most violations kept in full; the rest are counted.
pub const KEPT_VIOLATIONS: usize = 1_000;

/// The oracle of one run: an [`Observer`] of its trace.
pub struct Oracle {
    rules: Rules,
    variant: Variant,
    seen: u64,
    truth: Truth,
    passes: BTreeMap<Replica, Pass>,
    last_start: BTreeMap<Replica, Duration>,
    touched_at: BTreeMap<WorkspaceId, Duration>,
    flipped_at: BTreeMap<WorkspaceId, Duration>,
    liveness: liveness::Liveness,
    harm: harm::Harm,
    out: Vec<Violation>,
    dropped: u64,
}

impl Oracle {
    /// An oracle for a run of `variant` under `rules`.
    pub fn new(rules: Rules, variant: Variant) -> Self {
        Self {
            rules,
            variant,
            seen: 0,
            truth: Truth::default(),
            passes: BTreeMap::new(),
            last_start: BTreeMap::new(),
            touched_at: BTreeMap::new(),
            flipped_at: BTreeMap::new(),
            liveness: liveness::Liveness::default(),
            harm: harm::Harm::default(),
            out: Vec::new(),
            dropped: 0,
        }
    }

    fn report(&mut self, v: Violation) {
        if self.out.len() < KEPT_VIOLATIONS {
            self.out.push(v);
        } else {
            self.dropped += 1;
        }
    }

    /// The violations, in time order (at most [`KEPT_VIOLATIONS`], then one
    /// more line counting the rest is the caller's to print: see
    /// [`Oracle::dropped`]).
    pub fn finish(mut self, _end: Duration) -> Vec<Violation> {
        self.out.sort_by_key(|v| v.at);
        self.out
    }

    /// How many violations beyond [`KEPT_VIOLATIONS`] were counted, not
    /// kept.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn touch(&mut self, ws: &WorkspaceId, at: Duration) {
        self.touched_at.insert(ws.clone(), at);
    }

    fn start_state(&self) -> StartState {
        let mut s = StartState::default();
        for r in self.truth.rows().filter(|r| in_scope(r)) {
            s.in_scope += 1;
            let state = instance_of(r).map_or(InstanceState::NotFound, |i| self.truth.state(i));
            if terminal(state) {
                s.dead.push((r.id.clone(), r.status == Status::Degraded));
            }
        }
        s
    }

    fn pass_mut(&mut self, r: Replica) -> Option<&mut Pass> {
        self.passes.get_mut(&r)
    }
}

impl Observer for Oracle {
    fn observe(&mut self, entry: &Entry) {
        let idx = self.seen;
        self.seen += 1;
        let at = entry.at;
        match &entry.event {
            Event::Fleet { row, state } => {
                if let (Some(i), Some(s)) = (instance_of(row), state) {
                    self.truth.set_state(i, *s);
                }
                self.truth.set_row(&row.id, Some(row));
            }
            Event::PassStart { r, n } => {
                let since = self.last_start.insert(*r, at).unwrap_or(Duration::ZERO);
                let start = self.start_state();
                self.passes.insert(*r, Pass::new(*r, *n, at, since, start));
            }
            Event::PassEnd { r, .. } => {
                if let Some(pass) = self.passes.remove(r) {
                    let mut found = Vec::new();
                    timeliness::check(&pass, at, &self.rules, &mut found);
                    self.liveness.pass_end(
                        &pass,
                        at,
                        &self.rules,
                        &self.touched_at,
                        &self.flipped_at,
                        &mut found,
                    );
                    for v in found {
                        self.report(v);
                    }
                }
            }
            Event::Select { r, rows } => {
                let mut found = Vec::new();
                if let Some(pass) = self.passes.get_mut(r) {
                    for (ws, captured) in rows {
                        pass.selected.insert(ws.clone(), captured.clone());
                        if let Some(i) = captured {
                            pass.read.insert(i.clone());
                        }
                    }
                    safety::selected(pass, &self.truth, rows, at, idx, &mut found);
                }
                for v in found {
                    self.report(v);
                }
            }
            Event::Read { r, kind, ws, row } => {
                let mut found = Vec::new();
                if let Some(pass) = self.passes.get_mut(r) {
                    match kind {
                        ReadKind::Resolve => {
                            let instance = row.as_ref().and_then(instance_of).cloned();
                            if let Some(i) = &instance {
                                pass.read.insert(i.clone());
                            }
                            safety::resolved(pass, ws, row.as_ref(), at, idx, &mut found);
                            pass.resolved.insert(ws.clone(), (idx, instance));
                        }
                        ReadKind::Reconfirm => {
                            pass.reconfirmed.insert(ws.clone(), (at, idx, row.clone()));
                        }
                    }
                }
                for v in found {
                    self.report(v);
                }
            }
            Event::Probe { r, instance } => {
                let mut found = Vec::new();
                if let Some(pass) = self.passes.get(r) {
                    safety::probed(pass, instance, at, idx, &mut found);
                }
                for v in found {
                    self.report(v);
                }
            }
            Event::Answer {
                r,
                instance,
                answer,
                truth,
            } => {
                if let Some(pass) = self.pass_mut(*r) {
                    if matches!(answer, Err(_) | Ok(InstanceState::Unrecognized)) {
                        pass.failed_probes.insert(instance.clone());
                    }
                    pass.answers.push(Answer {
                        at,
                        entry: idx,
                        instance: instance.clone(),
                        answer: answer.clone(),
                        truth: *truth,
                    });
                }
            }
            Event::Abandoned { r, call, about } => {
                let deadline = self.rules.pass_deadline;
                if let Some(pass) = self.pass_mut(*r) {
                    let cut = at >= pass.start + deadline;
                    failed_call(pass, *call, about, cut);
                }
            }
            Event::StoreFault { by, about } => {
                if let Caller::Reconciler(r, call) = by
                    && let Some(pass) = self.pass_mut(*r)
                {
                    failed_call(pass, *call, about, false);
                }
            }
            Event::Claim {
                r,
                ws,
                instance,
                before,
                wrote,
                ..
            } => {
                if *wrote {
                    let ms = millis(at);
                    self.truth.update_row(ws, |row| {
                        row.status = Status::Offline;
                        row.updated_at = ms;
                    });
                }
                if let Some(pass) = self.pass_mut(*r) {
                    pass.claims.insert(
                        ws.clone(),
                        Claim {
                            at,
                            entry: idx,
                            instance: instance.clone(),
                            before: before.clone(),
                            wrote: *wrote,
                            spent: false,
                        },
                    );
                }
            }
            Event::Flip { r, ws, proven, row } => {
                let mut found = Vec::new();
                if let Some(pass) = self.passes.get_mut(r) {
                    let flip = safety::Flip {
                        at,
                        entry: idx,
                        ws,
                        proven: proven.as_ref(),
                        row: row.as_ref(),
                    };
                    safety::judge(self.variant, pass, &flip, &mut found);
                    if let Some(claim) = pass.claims.get_mut(ws) {
                        claim.spent = true;
                    }
                }
                self.harm.flip(ws, at, idx, &self.rules, &mut found);
                self.flipped_at.insert(ws.clone(), at);
                for v in found {
                    self.report(v);
                }
            }
            Event::FlowStart { flow, ws, cause } => {
                self.harm.flow_start(*flow, ws, *cause);
            }
            Event::Step {
                flow,
                step,
                ws,
                effect,
            } => {
                let mut found = Vec::new();
                let before = self.truth.row(ws).cloned();
                self.harm.step(
                    *flow,
                    *step,
                    ws,
                    effect,
                    before.as_ref(),
                    at,
                    idx,
                    &mut found,
                );
                match effect {
                    Effect::Wrote(row) => {
                        self.truth.set_row(ws, Some(row));
                        self.touch(ws, at);
                    }
                    Effect::Stopped { .. } | Effect::Launched(_) => self.touch(ws, at),
                    Effect::Read(_) | Effect::NoMatch | Effect::Waited(_) => {}
                }
                for v in found {
                    self.report(v);
                }
            }
            Event::FlowEnd { flow, ws, .. } => {
                let mut found = Vec::new();
                self.harm.flow_end(*flow, ws, &mut found);
                for v in found {
                    self.report(v);
                }
            }
            Event::Act { action, row, .. } => {
                if let Some(ws) = action.workspace() {
                    self.truth.set_row(ws, row.as_ref());
                    self.touch(ws, at);
                    if matches!(action, Action::Purge(_)) {
                        self.harm.gone(ws);
                    }
                }
                if let Some(i) = action.instance() {
                    for ws in self.truth.holders(i).to_vec() {
                        self.touch(&ws, at);
                    }
                }
            }
            Event::Cloud { instance, state } => {
                let before = self.truth.set_state(instance, *state);
                // Natural progress of a dying instance is not a
                // disturbance; anything else to a row's instance is.
                let natural = before.is_some_and(terminal) && terminal(*state);
                if !natural {
                    for ws in self.truth.holders(instance).to_vec() {
                        self.touch(&ws, at);
                    }
                }
                self.harm
                    .cloud(instance, *state, &self.truth, at, idx, &mut self.out);
                self.truth.forget_if_gone(instance);
            }
            Event::Offline { .. } | Event::RestartRequested { .. } | Event::Log(_) => {}
        }
    }
}

/// A reconciler call that failed (`cut`: abandoned by the pass's own
/// deadline rather than by an error or the call's own timeout).
fn failed_call(pass: &mut Pass, call: Call, about: &str, cut: bool) {
    match call {
        Call::Select => pass.select_failed = true,
        Call::Probe => {
            let i = reconciler_core::InstanceId::from(about);
            if cut {
                pass.cut_probes.insert(i);
            } else {
                pass.failed_probes.insert(i);
            }
        }
        Call::Resolve | Call::Reconfirm | Call::Claim => {
            pass.failed_reads.insert(WorkspaceId::from(about));
        }
    }
}

/// Simulated time as an `updated_at` value (milliseconds), as the world
/// writes it.
fn millis(at: Duration) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use reconciler_core::{InstanceId, Row};

    use super::*;

    fn rules() -> Rules {
        Rules {
            pass_deadline: Duration::from_secs(45),
            overrun_tolerance: Duration::from_secs(1),
            per_row_cost: Duration::from_secs(1),
            limit: 100,
            liveness_slack: 1,
            fixed_liveness_bound: None,
            storm_bound: 3,
        }
    }

    /// A `hardened` pass over one dead row: selected, proven terminated,
    /// claimed; then `flips` calls of the offline handler on that claim.
    fn claimed_then_flipped(flips: usize) -> Vec<Violation> {
        let r = Replica(0);
        let ws = WorkspaceId::from("ws-1");
        let i = InstanceId::from("i-1");
        let row = Row {
            id: ws.clone(),
            status: Status::Online,
            instance: Some(i.clone()),
            runtime: None,
            updated_at: 0,
        };
        let claimed = Row {
            status: Status::Offline,
            ..row.clone()
        };
        let mut events = vec![
            Event::Fleet {
                row: row.clone(),
                state: Some(InstanceState::Terminated),
            },
            Event::PassStart { r, n: 1 },
            Event::Select {
                r,
                rows: vec![(ws.clone(), Some(i.clone()))],
            },
            Event::Probe {
                r,
                instance: i.clone(),
            },
            Event::Answer {
                r,
                instance: i.clone(),
                answer: Ok(InstanceState::Terminated),
                truth: InstanceState::Terminated,
            },
            Event::Claim {
                r,
                ws: ws.clone(),
                instance: i.clone(),
                quiet_for: None,
                before: Some(row),
                wrote: true,
            },
        ];
        events.extend((0..flips).map(|_| Event::Flip {
            r,
            ws: ws.clone(),
            proven: Some(i.clone()),
            row: Some(claimed.clone()),
        }));
        let mut oracle = Oracle::new(rules(), Variant::Hardened);
        for (n, event) in events.into_iter().enumerate() {
            let at = Duration::from_millis(u64::try_from(n).unwrap_or(u64::MAX));
            oracle.observe(&Entry { at, event });
        }
        oracle.finish(Duration::from_secs(1))
    }

    #[test]
    fn one_matched_claim_licenses_one_restart() {
        // The flip-twice mutant of `hardened` (ci/mutants/) called the
        // offline handler twice after one matched claim; on the fixed
        // platform the second restart is refused, so only this rule sees it.
        assert_eq!(claimed_then_flipped(1), Vec::new());
        let found = claimed_then_flipped(2);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].sub, Sub::NoClaim);
        assert!(
            found[0].detail.contains("second restart"),
            "{}",
            found[0].detail
        );
    }
}
