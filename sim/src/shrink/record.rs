//! A swarm run made explicit: the fleet with its real instance states, every
//! action the swarm director took at a hook point, every timed action, and
//! every random store or control-plane failure, each placed so that a
//! [`ScriptDirector`](crate::scenario::ScriptDirector) replays it.
//!
//! Placement is by hook firing, not by instant: a scripted run draws its
//! latencies from its own stream, so the same instant would fall at another
//! point of the reconciler's work, while "the 3rd `after probe` about ws-7"
//! is the same point in both runs (the reconciler is sequential). A timed
//! action goes to the firing whose hook applied it, or to the one before
//! when the reconciler (or the oracle's ground truth) looked at the world in
//! between: it was in place before that look, and stays so. Director
//! actions and random failures are always placed at firings; timed actions
//! fall back to their instants when the hook form does not reproduce.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use indexmap::{IndexMap, IndexSet};
use reconciler_core::{Config, InstanceId, InstanceState, Variant, WorkspaceId};
use tokio::runtime::Runtime;

use crate::action::{Action, CpFailure};
use crate::director::{Director, Swarm, SwarmDirector};
use crate::hook::{Hook, Point};
use crate::row::Row;
use crate::run::{run_world, swarm_setup};
use crate::scenario::{HookStep, Script};
use crate::trace::{Cause, Event, Keep, LineHash, Trace, Tracer};
use crate::world::{World, WorldSettings};

/// One hook firing of the recorded run.
#[derive(Clone, Debug)]
struct Fired {
    hook: Hook,
    ws: Option<WorkspaceId>,
    /// Trace length when the director was asked (after the hook's flush).
    trace_len: u64,
    /// What the swarm director did there.
    actions: Vec<Action>,
}

/// The swarm director, with a log of every firing and its answer.
struct Recorder {
    inner: SwarmDirector,
    log: Rc<RefCell<Vec<Fired>>>,
}

impl Director for Recorder {
    fn at_hook(&mut self, hook: Hook, ws: Option<&WorkspaceId>, world: &World) -> Vec<Action> {
        let actions = self.inner.at_hook(hook, ws, world);
        self.log.borrow_mut().push(Fired {
            hook,
            ws: ws.cloned(),
            trace_len: world.trace.len(),
            actions: actions.clone(),
        });
        actions
    }
}

/// Where timed actions go in the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// At the hook firing around which they were applied (tried first: it
    /// survives different latencies).
    Hooks,
    /// At their original instants (`at:` steps): the fallback, for runs
    /// where an action's place in time matters more than its place among
    /// the reconciler's calls (e.g. between passes, against a cloud timer).
    Instants,
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Anchor::Hooks => "hooks",
            Anchor::Instants => "instants",
        })
    }
}

/// A recorded swarm run.
pub struct Recorded {
    fleet: Vec<(Row, Option<InstanceState>)>,
    trace: Trace,
    fired: Vec<Fired>,
    /// Timed actions in the order they were applied, with their instants.
    timed: Vec<(Duration, Action)>,
    passes: u64,
    phases: Vec<Duration>,
    world: WorldSettings,
    cp_latency_ms: (u64, u64),
    store_latency_ms: (u64, u64),
}

/// Runs `swarm` against `variant` with a recording director. The recorder
/// only watches, so the trace is the one `replay` prints (checked).
pub fn record(rt: &Runtime, swarm: &Swarm, variant: Variant) -> Result<Recorded, String> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let recorder = Recorder {
        inner: SwarmDirector::new(swarm),
        log: Rc::clone(&log),
    };
    let trace = rt
        .block_on(async {
            let mut setup = swarm_setup(swarm, Tracer::new(Keep::All));
            setup.director = Box::new(recorder);
            run_world(variant, Config::default(), setup).await
        })
        .trace
        .finish();
    let plain = crate::run::run_seed(rt, variant, swarm).trace;
    if LineHash::of(&plain) != LineHash::of(&trace) {
        return Err("recording changed the run (the recorder must only watch)".to_owned());
    }
    let fleet = swarm.fleet_rows();
    let scheduled = swarm.timed_actions(&fleet);
    let applied = trace
        .entries()
        .filter(|e| timed(&e.event).is_some())
        .count();
    let timed: Vec<(Duration, Action)> = scheduled.into_iter().take(applied).collect();
    let fired = Rc::try_unwrap(log)
        .map(RefCell::into_inner)
        .map_err(|_| "the recorder outlived the run".to_owned())?;
    Ok(Recorded {
        fleet,
        trace,
        fired,
        timed,
        passes: swarm.passes,
        phases: swarm.phases.clone(),
        world: swarm.world,
        cp_latency_ms: swarm.latency.range_ms(),
        store_latency_ms: swarm.store_latency_ms,
    })
}

/// True for events at which the reconciler (or the oracle's ground truth)
/// looks at the world: an action applied before one of these must be in
/// place before it in the script too.
fn observes(e: &Event) -> bool {
    matches!(
        e,
        Event::Select { .. }
            | Event::Read { .. }
            | Event::Claim { .. }
            | Event::Flip { .. }
            | Event::Answer { .. }
            | Event::StoreFault { .. }
            | Event::Step { .. }
    )
}

/// The timed action an event shows was applied, if it shows one: a
/// single-step action, or the start of a flow.
fn timed(e: &Event) -> Option<Action> {
    match e {
        Event::Act {
            cause: Cause::Timed,
            action,
            ..
        } => Some(action.clone()),
        Event::FlowStart {
            flow,
            ws,
            cause: Cause::Timed,
        } => crate::actors::action_of(flow.kind, ws),
        _ => None,
    }
}

/// How a control-plane error answer was caused, from its message.
fn cp_failure_of(message: &str) -> CpFailure {
    if message.contains("HTTP") {
        CpFailure::Status5xx
    } else if message.contains("decode") {
        CpFailure::Garbage
    } else {
        CpFailure::Transport
    }
}

impl Recorded {
    /// The explicit script of this run, before any minimisation. Actions
    /// that name an instance no fleet row holds at the start (one launched
    /// by a reprovision during the run) cannot be written in a scenario and
    /// are left out; the caller checks that the script still reproduces.
    pub fn script(&self, anchor: Anchor, base: &Script) -> Result<Script, String> {
        let n = self.fired.len();
        let mut early: Vec<Vec<Action>> = vec![Vec::new(); n];
        let mut late: Vec<Vec<Action>> = vec![Vec::new(); n];
        let mut schedule = self.timed.iter();
        let mut at_instants = Vec::new();
        let entries: Vec<&crate::trace::Entry> = self.trace.entries().collect();
        for (i, entry) in entries.iter().enumerate() {
            // The first firing whose hook had already seen this entry.
            let next = self.fired.partition_point(|f| f.trace_len <= i as u64);
            if let Some(shown) = timed(&entry.event) {
                let (at, action) = schedule
                    .next()
                    .ok_or("more timed actions in the trace than were scheduled")?;
                if *action != shown {
                    return Err(format!(
                        "timed action mismatch: trace has {shown}, schedule has {action}"
                    ));
                }
                {
                    if anchor == Anchor::Instants {
                        at_instants.push((*at, action.clone()));
                    } else if next < n {
                        let until =
                            usize::try_from(self.fired[next].trace_len).unwrap_or(usize::MAX);
                        let seen_before = entries[i + 1..until].iter().any(|e| observes(&e.event));
                        if seen_before && next > 0 {
                            late[next - 1].push(action.clone());
                        } else {
                            early[next].push(action.clone());
                        }
                    }
                }
                continue;
            }
            match &entry.event {
                Event::StoreFault { .. } if next > 0 => {
                    late[next - 1].push(Action::DbError { count: 1 });
                }
                Event::Answer { answer, .. } => {
                    let kind = match answer {
                        Err(message) => cp_failure_of(message),
                        Ok(InstanceState::Unrecognized) => CpFailure::EmptyState,
                        Ok(_) => continue,
                    };
                    let probe = self.fired[..next]
                        .iter()
                        .rposition(|f| f.hook == Hook::after(Point::Probe))
                        .ok_or("a control-plane failure with no probe before it")?;
                    late[probe].push(Action::CpError { count: 1, kind });
                }
                _ => {}
            }
        }
        let instances: IndexSet<InstanceId> = self
            .fleet
            .iter()
            .filter_map(|(r, _)| r.live_instance().cloned())
            .collect();
        let writable = |a: &Action| a.instance().is_none_or(|i| instances.contains(i));
        let mut by_filter: BTreeMap<(Hook, Option<WorkspaceId>), u64> = BTreeMap::new();
        let mut by_hook: BTreeMap<Hook, u64> = BTreeMap::new();
        let mut hooked = Vec::new();
        for (k, f) in self.fired.iter().enumerate() {
            let all = by_hook.entry(f.hook).or_default();
            *all += 1;
            let nth = match &f.ws {
                Some(w) => {
                    let c = by_filter.entry((f.hook, Some(w.clone()))).or_default();
                    *c += 1;
                    *c
                }
                None => *all,
            };
            let actions: Vec<Action> = early[k]
                .iter()
                .chain(&f.actions)
                .chain(&late[k])
                .filter(|a| writable(a))
                .cloned()
                .collect();
            if !actions.is_empty() {
                hooked.push(HookStep {
                    hook: f.hook,
                    ws: f.ws.clone(),
                    nth,
                    actions,
                });
            }
        }
        at_instants.retain(|(_, a)| writable(a));
        let mut script = base.clone();
        script.fleet = self.fleet.clone();
        script.passes = self.passes;
        script.phases = self.phases.clone();
        script.world = self.world;
        script.cp_latency_ms = self.cp_latency_ms;
        script.cp_instances = IndexMap::new();
        script.store_latency_ms = self.store_latency_ms;
        script.timed = at_instants;
        script.hooked = hooked;
        Ok(script)
    }
}
