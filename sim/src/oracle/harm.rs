//! Harm: what a flip costs, judged on the restart it starts — the real
//! price of an unproven flip in the platform as its code runs.

use std::collections::BTreeMap;
use std::time::Duration;

use reconciler_core::{InstanceId, InstanceState, WorkspaceId};

use super::definitions::{alive, owner_stopped};
use super::truth::Truth;
use super::{Rules, Sub, Violation};
use crate::hook::{Flow, Step};
use crate::row::{Row, fmt_time};
use crate::trace::{Cause, Effect, FlowId, FlowRef};

/// A flow in flight, as far as harm is concerned.
struct FlowInfo {
    kind: Flow,
    ws: WorkspaceId,
    /// Started by a flip (a `RestartByID` cycle), and by which entry.
    by_flip: bool,
    /// Every instance it launched (a flow may stop its own new instance
    /// when its guarded record fails: no harm to anyone).
    launched: Vec<InstanceId>,
    /// An instance it launched that came up while the row was gone or
    /// stopped by its owner, and when (with its trace entry): harm unless
    /// the flow stops it before it ends.
    orphan: Option<(InstanceId, Duration, u64)>,
    /// Whether it has acted yet (stopped, written or launched): a flow
    /// whose guarded claim then fails never touches anything.
    acted: bool,
    reported_owner: bool,
    reported_manual: bool,
}

impl FlowInfo {
    /// True while the flow is under way: it has acted (its end, in the
    /// trace, is the end of everything it started, background provision
    /// included).
    fn in_progress(&self) -> bool {
        self.acted
    }
}

/// A provision in flight: launched, not yet running or dead.
struct Provision {
    ws: WorkspaceId,
    flow: FlowId,
    by_flip: bool,
    entry: u64,
}

/// Flips of one workspace since it last came back.
struct Storm {
    flips: u32,
    first: Duration,
    reported: bool,
}

/// The state the harm rules keep: flows and provisions in flight, and the
/// flip counts of restart storms. Bounded by what is in flight.
#[derive(Default)]
pub struct Harm {
    flows: BTreeMap<FlowId, FlowInfo>,
    provisions: BTreeMap<InstanceId, Provision>,
    storms: BTreeMap<WorkspaceId, Storm>,
}

fn harm(sub: Sub, at: Duration, ws: &WorkspaceId, detail: String, evidence: Vec<u64>) -> Violation {
    Violation {
        sub,
        at,
        pass: None,
        ws: Some(ws.clone()),
        detail,
        evidence,
    }
}

fn describe(row: Option<&Row>) -> String {
    row.map_or_else(|| "gone".to_owned(), |r| format!("{}", r.status))
}

impl Harm {
    /// A flow started.
    pub fn flow_start(&mut self, flow: FlowRef, ws: &WorkspaceId, cause: Cause) {
        if !matches!(cause, Cause::Flip(_)) {
            // The owner acted: whatever the reconciler's flips did before
            // is no longer a storm of its own making.
            self.storms.remove(ws);
        }
        self.flows.insert(
            flow.id,
            FlowInfo {
                kind: flow.kind,
                ws: ws.clone(),
                by_flip: matches!(cause, Cause::Flip(_)),
                launched: Vec::new(),
                orphan: None,
                acted: false,
                reported_owner: false,
                reported_manual: false,
            },
        );
    }

    /// A flow ended, with everything it started. A flip's restart that
    /// leaves running an instance it launched for a workspace that is gone
    /// or stopped by its owner has undone the owner's decision
    /// (`undid_owner`, see [`Harm::step`]).
    pub fn flow_end(&mut self, flow: FlowRef, ws: &WorkspaceId, out: &mut Vec<Violation>) {
        let Some(info) = self.flows.remove(&flow.id) else {
            return;
        };
        if let (Some((instance, at, entry)), false) = (info.orphan, info.reported_owner) {
            out.push(harm(
                Sub::UndidOwner,
                at,
                ws,
                format!(
                    "{instance}, launched by the restart {} of a flip, came up while the row was gone or stopped by its owner, and the restart left it running",
                    flow.id
                ),
                vec![entry],
            ));
        }
    }

    /// A row is gone for good: its storm is over.
    pub fn gone(&mut self, ws: &WorkspaceId) {
        self.storms.remove(ws);
    }

    /// `restart_storm/never_back` — more than `storm_bound` flips of one
    /// workspace (by any replica) with no comeback between them: no
    /// provision brought the row back `online` (a flow's `online` step)
    /// and no owner flow started. The merged platform writes no status on a
    /// flip, so a restart that gives up leaves the row to be flipped, and
    /// restarted, again and again.
    pub fn flip(
        &mut self,
        ws: &WorkspaceId,
        at: Duration,
        entry: u64,
        rules: &Rules,
        out: &mut Vec<Violation>,
    ) {
        let s = self.storms.entry(ws.clone()).or_insert(Storm {
            flips: 0,
            first: at,
            reported: false,
        });
        s.flips += 1;
        if s.flips > rules.storm_bound && !s.reported {
            s.reported = true;
            out.push(harm(
                Sub::NeverBack,
                at,
                ws,
                format!(
                    "flipped {} times since {} and no restart brought it back (bound {})",
                    s.flips,
                    fmt_time(s.first),
                    rules.storm_bound
                ),
                vec![entry],
            ));
        }
    }

    /// One step of a flow; `before` is the row just before it.
    ///
    /// `restart_harm` — a `RestartByID` cycle started by a flip:
    /// * `killed_live_instance`: its Stop terminated an instance that was
    ///   `pending` or `running` at that instant (one it did not launch
    ///   itself) — the real cost of an unproven flip;
    /// * `undid_owner`: it wrote a row whose status was `paused`,
    ///   `hibernating`, `hibernated` or `removed`, or an instance it
    ///   launched came up while the row was in one of those statuses or gone
    ///   and it ended without stopping it (see [`Harm::cloud`],
    ///   [`Harm::flow_end`]) — the owner's decision undone in effect (an
    ///   instance it cleans up at once costs nobody anything);
    /// * `during_manual_restart`: it stopped, wrote or launched while a
    ///   manual restart of the same workspace was in progress (it had
    ///   stopped, written or launched, and its instance was not yet running
    ///   or dead);
    /// * `racing_provisions`: it (or any flow, while it had one in flight)
    ///   launched an instance for a workspace that already had a provision
    ///   in flight — two provisions of one workspace at once, at least one
    ///   started by a flip.
    #[allow(clippy::too_many_arguments, reason = "one step's facts, each used")]
    pub fn step(
        &mut self,
        flow: FlowRef,
        step: Step,
        ws: &WorkspaceId,
        effect: &Effect,
        before: Option<&Row>,
        at: Duration,
        entry: u64,
        out: &mut Vec<Violation>,
    ) {
        if step == Step::Online && matches!(effect, Effect::Wrote(_)) {
            self.storms.remove(ws);
        }
        let acts = matches!(
            effect,
            Effect::Wrote(_) | Effect::Stopped { .. } | Effect::Launched(_)
        );
        let manual_in_progress = acts
            && self.flows.iter().any(|(id, f)| {
                *id != flow.id && f.kind == Flow::ManualRestart && &f.ws == ws && f.in_progress()
            });
        let Some(info) = self.flows.get_mut(&flow.id) else {
            return;
        };
        info.acted |= acts;
        if info.by_flip {
            if manual_in_progress && !info.reported_manual {
                info.reported_manual = true;
                out.push(harm(
                    Sub::DuringManualRestart,
                    at,
                    ws,
                    format!(
                        "the restart {} of a flip took its {} step while a manual restart was in progress",
                        flow.id,
                        step.as_str()
                    ),
                    vec![entry],
                ));
            }
            match effect {
                Effect::Stopped {
                    instance: Some(i), ..
                } if info.orphan.as_ref().is_some_and(|(o, _, _)| o == i) => {
                    info.orphan = None;
                }
                Effect::Stopped {
                    instance: Some(i),
                    was,
                } if alive(*was) && !info.launched.contains(i) => {
                    out.push(harm(
                        Sub::KilledLiveInstance,
                        at,
                        ws,
                        format!(
                            "the restart {} of a flip terminated {i}, which was {was}",
                            flow.id
                        ),
                        vec![entry],
                    ));
                }
                Effect::Wrote(_)
                    if !info.reported_owner && before.is_none_or(|r| owner_stopped(&r.status)) =>
                {
                    info.reported_owner = true;
                    out.push(harm(
                        Sub::UndidOwner,
                        at,
                        ws,
                        format!(
                            "the restart {} of a flip took its {} step on a row that was {}",
                            flow.id,
                            step.as_str(),
                            describe(before)
                        ),
                        vec![entry],
                    ));
                }
                _ => {}
            }
        }
        if let Effect::Launched(j) = effect {
            let by_flip = info.by_flip;
            info.launched.push(j.clone());
            let racing: Vec<(&InstanceId, &Provision)> = self
                .provisions
                .iter()
                .filter(|(_, p)| &p.ws == ws && (p.by_flip || by_flip))
                .collect();
            if let Some((other, p)) = racing.first() {
                out.push(harm(
                    Sub::RacingProvisions,
                    at,
                    ws,
                    format!(
                        "{} launched {j} while {other} (launched by {}) was still booting",
                        flow.id, p.flow
                    ),
                    vec![p.entry, entry],
                ));
            }
            self.provisions.insert(
                j.clone(),
                Provision {
                    ws: ws.clone(),
                    flow: flow.id,
                    by_flip,
                    entry,
                },
            );
        }
    }

    /// An instance changed state: a provision in flight ends when its
    /// instance leaves `pending` (it runs, is stopped or dies: once stopped,
    /// a later boot is whoever starts it again, not the provision); a
    /// flip's instance that comes up on a row that is gone or stopped by its
    /// owner is noted, and judged when its flow ends — or at once, when its
    /// flow has already ended (it gave up before the instance booted, and
    /// nobody is left to stop it).
    pub fn cloud(
        &mut self,
        instance: &InstanceId,
        state: InstanceState,
        truth: &Truth,
        at: Duration,
        entry: u64,
        out: &mut Vec<Violation>,
    ) {
        if state == InstanceState::Pending {
            return;
        }
        let Some(p) = self.provisions.remove(instance) else {
            return;
        };
        let row = truth.row(&p.ws);
        if state != InstanceState::Running
            || !p.by_flip
            || !row.is_none_or(|r| owner_stopped(&r.status))
        {
            return;
        }
        match self.flows.get_mut(&p.flow) {
            Some(info) => info.orphan = Some((instance.clone(), at, entry)),
            None => out.push(harm(
                Sub::UndidOwner,
                at,
                &p.ws,
                format!(
                    "{instance}, launched by the restart {} of a flip, came up while the row was {} after the restart had ended: it runs for nobody",
                    p.flow,
                    describe(row)
                ),
                vec![p.entry, entry],
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Replica;

    fn restart_launched(
        harm: &mut Harm,
        out: &mut Vec<Violation>,
    ) -> (FlowRef, WorkspaceId, InstanceId) {
        let flow = FlowRef {
            id: FlowId(1),
            kind: Flow::Restart,
        };
        let ws = WorkspaceId::from("ws-1");
        let i = InstanceId::from("i-1001");
        harm.flow_start(flow, &ws, Cause::Flip(Replica(0)));
        harm.step(
            flow,
            Step::Launch,
            &ws,
            &Effect::Launched(i.clone()),
            None,
            Duration::from_secs(1),
            1,
            out,
        );
        (flow, ws, i)
    }

    /// The rule's teeth: the flip's restart gave up, its instance boots
    /// anyway and runs for a workspace that is gone.
    #[test]
    fn a_flips_instance_booting_after_its_restart_ended_on_a_gone_row_undid_the_owner() {
        let (mut harm, mut out, truth) = (Harm::default(), Vec::new(), Truth::default());
        let (flow, ws, i) = restart_launched(&mut harm, &mut out);
        harm.flow_end(flow, &ws, &mut out);
        harm.cloud(
            &i,
            InstanceState::Running,
            &truth,
            Duration::from_secs(60),
            2,
            &mut out,
        );
        assert_eq!(
            out.iter().map(|v| v.sub).collect::<Vec<_>>(),
            [Sub::UndidOwner]
        );
    }

    /// Seed 52861 of hardened on the hardened platform: the restart's
    /// instance was stopped while it booted, the restart gave up, and later
    /// someone else started it again before the row was purged. That boot
    /// is not the provision's: no harm of the flip's.
    #[test]
    fn an_instance_stopped_while_booting_ends_its_provision_and_a_later_start_is_not_the_flips() {
        let (mut harm, mut out, truth) = (Harm::default(), Vec::new(), Truth::default());
        let (flow, ws, i) = restart_launched(&mut harm, &mut out);
        harm.cloud(
            &i,
            InstanceState::Stopping,
            &truth,
            Duration::from_secs(2),
            2,
            &mut out,
        );
        harm.flow_end(flow, &ws, &mut out);
        harm.cloud(
            &i,
            InstanceState::Stopped,
            &truth,
            Duration::from_secs(10),
            3,
            &mut out,
        );
        harm.cloud(
            &i,
            InstanceState::Pending,
            &truth,
            Duration::from_secs(45),
            4,
            &mut out,
        );
        harm.cloud(
            &i,
            InstanceState::Running,
            &truth,
            Duration::from_secs(80),
            5,
            &mut out,
        );
        assert!(
            out.is_empty(),
            "{:?}",
            out.iter().map(|v| v.sub).collect::<Vec<_>>()
        );
    }
}
