//! The oracle's input, built from what really happened: every row change
//! from the audit trigger (with its transaction's timing), the cloud's
//! ground truth and the control plane's answers from the stage, and the
//! reconciler's own calls from the recording store.
//!
//! Two clocks meet here. Client-side records carry the stage's real time;
//! audit entries carry the server's `clock_timestamp()`, mapped onto the
//! stage's clock through an anchor (one round trip's midpoint). Where
//! exactness matters the mapping is not trusted:
//!
//! * a claim's row is the audit's *old image* of the reconciler's own
//!   write, exact whatever the timing, and the claim is placed inside its
//!   call's window, after every answer of its pass;
//! * a platform flow's write is paired with its audit entry by transaction
//!   id (its statement returns `txid_current()`) and placed inside its
//!   call's window; the flip's row is the version in effect at the call;
//! * an actor's write becomes the simulator's single-step action for it
//!   (told from its images), and a new row a fleet row of its own;
//! * a read's row is the latest version of the row, up to the read's return,
//!   that agrees with what the read returned;
//! * a write of a transaction an actor held open enters the history at its
//!   commit, when other sessions can first see it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use pg_store::world::AuditEntry;
use reconciler_core::{InstanceId, InstanceState, Row, Status, WorkspaceId};
use sim::action::Action;
use sim::trace::{Cause, Effect, Event};

use super::platform::PLATFORM_APPLICATION_NAME;
use super::stage::{R, Rec, Seen, WriteEnd};

/// Slack when comparing mapped server instants with client instants: the
/// anchor's error on a local or container server is well under it.
const EPS: Duration = Duration::from_millis(2);

/// The server's clock at one client instant.
#[derive(Clone, Copy, Debug)]
pub struct Anchor {
    /// `clock_timestamp()` in microseconds since the epoch...
    pub server_us: i64,
    /// ... at this stage time.
    pub client: Duration,
}

impl Anchor {
    /// A server instant on the stage's clock (never before the run began).
    fn map(self, server_us: i64) -> Duration {
        let delta = server_us - self.server_us;
        let us = i64::try_from(self.client.as_micros()).unwrap_or(i64::MAX) + delta;
        Duration::from_micros(u64::try_from(us).unwrap_or(0))
    }
}

/// The history, and what building it found about the harness itself.
pub struct Built {
    /// The oracle's input, in time order.
    pub events: Vec<(Duration, Event)>,
    /// Audit entries of the reconciler or of a flow, or its successful
    /// writes, that could not be paired (should be none).
    pub unpaired: Vec<String>,
    /// Reads whose result matched no version of the row (should be none).
    pub unmatched_reads: Vec<String>,
    /// Row writes by the actors and the platform's flows (committed).
    pub actor_writes: usize,
}

/// What an actor's write did, told from its images: the simulator's
/// single-step action for it (an insert is a new workspace, told as a
/// fleet row by the caller).
fn action(ws: &WorkspaceId, old: Option<&Row>, new: Option<&Row>) -> Action {
    match (old, new) {
        (Some(_), None) => Action::Purge(ws.clone()),
        (Some(o), Some(n)) if o.instance != n.instance => match &n.instance {
            None => Action::OrphanSweep(ws.clone()),
            Some(_) => Action::ClearInstance(ws.clone()),
        },
        (_, Some(n)) => match n.status {
            Status::Degraded => Action::Degrade(ws.clone()),
            Status::Online => Action::Recover(ws.clone()),
            ref s => Action::SetStatus(ws.clone(), s.clone()),
        },
        (None, None) => Action::Purge(ws.clone()),
    }
}

/// Builds the history. `baseline` is the last audit `seq` of the fleet's own
/// inserts, which the fleet events stand for.
pub fn build(
    fleet: &[(Row, Option<InstanceState>)],
    recs: Vec<(Duration, Rec)>,
    audit: &[AuditEntry],
    baseline: i64,
    anchor: Anchor,
    commits: &BTreeMap<i64, Duration>,
) -> Built {
    let entries: Vec<(Duration, &AuditEntry)> = audit
        .iter()
        .filter(|e| e.seq > baseline)
        .map(|e| {
            let at = commits
                .get(&e.txid)
                .copied()
                .unwrap_or_else(|| anchor.map(e.clock_ts.0));
            (at, e)
        })
        .collect();
    // Every version of every row, in write order, from the fleet on.
    let mut versions: BTreeMap<WorkspaceId, Vec<(Duration, Option<Row>)>> = BTreeMap::new();
    for (row, _) in fleet {
        versions.insert(row.id.clone(), vec![(Duration::ZERO, Some(row.clone()))]);
    }
    for (at, e) in &entries {
        versions
            .entry(e.id.clone())
            .or_default()
            .push((*at, e.new.clone()));
    }

    let mut events: Vec<(Duration, Event)> = fleet
        .iter()
        .map(|(row, state)| {
            (
                Duration::ZERO,
                Event::Fleet {
                    row: row.clone(),
                    state: *state,
                },
            )
        })
        .collect();
    let flow_txids: BTreeSet<i64> = recs
        .iter()
        .filter_map(|(_, r)| match r {
            Rec::FlowWrite { txid, .. } => *txid,
            _ => None,
        })
        .collect();
    let mut ours = Vec::new();
    let mut flows: BTreeMap<i64, (Duration, &AuditEntry)> = BTreeMap::new();
    let mut actor_writes = 0;
    let mut unpaired = Vec::new();
    for (at, e) in &entries {
        if e.application_name == pg_store::STORE_APPLICATION_NAME {
            ours.push((*at, *e));
            continue;
        }
        actor_writes += 1;
        if flow_txids.contains(&e.txid) {
            if flows.insert(e.txid, (*at, *e)).is_some() {
                unpaired.push(format!("flow transaction {} wrote twice", e.txid));
            }
        } else if e.application_name == PLATFORM_APPLICATION_NAME {
            unpaired.push(format!(
                "platform write seq {} of {} matches no flow step",
                e.seq, e.id
            ));
        } else if let (None, Some(row)) = (&e.old, &e.new) {
            // A new workspace, on a running instance of its own.
            events.push((
                *at,
                Event::Fleet {
                    row: row.clone(),
                    state: Some(InstanceState::Running),
                },
            ));
        } else {
            events.push((
                *at,
                Event::Act {
                    cause: Cause::Timed,
                    action: action(&e.id, e.old.as_ref(), e.new.as_ref()),
                    row: e.new.clone(),
                },
            ));
        }
    }

    let mut unmatched_reads = Vec::new();
    let claim_starts: Vec<Duration> = recs
        .iter()
        .filter_map(|(_, r)| match r {
            Rec::Claim { start, .. } => Some(*start),
            _ => None,
        })
        .collect();
    let mut next_claim = 0;
    let mut ours = ours.into_iter().peekable();
    for (at, rec) in recs {
        match rec {
            Rec::Ev(e) => events.push((at, e)),
            Rec::Read { kind, ws, seen } => {
                let row = match seen_version(versions.get(&ws), at, &seen) {
                    Some(row) => row,
                    None => {
                        unmatched_reads.push(format!("{kind:?} {ws} at {at:?} returned {seen:?}"));
                        latest(versions.get(&ws), at)
                    }
                };
                events.push((
                    at,
                    Event::Read {
                        r: R,
                        kind,
                        ws,
                        row,
                    },
                ));
            }
            Rec::Flip { ws, proven } => {
                let row = latest(versions.get(&ws), at);
                events.push((
                    at,
                    Event::Flip {
                        r: R,
                        ws,
                        proven,
                        row,
                    },
                ));
            }
            Rec::FlowWrite {
                flow,
                step,
                ws,
                txid,
                start,
            } => {
                let effect = match txid.map(|t| (t, flows.remove(&t))) {
                    None => Some((at, Effect::NoMatch)),
                    Some((_, Some((t, e)))) => e
                        .new
                        .clone()
                        .map(|row| (t.clamp(start, at), Effect::Wrote(row))),
                    Some((t, None)) => {
                        unpaired.push(format!(
                            "the {} step of {} on {ws} (transaction {t}) has no audit entry",
                            step.as_str(),
                            flow.id
                        ));
                        None
                    }
                };
                if let Some((t, effect)) = effect {
                    events.push((
                        t,
                        Event::Step {
                            flow,
                            step,
                            ws,
                            effect,
                        },
                    ));
                }
            }
            Rec::Claim {
                ws,
                instance,
                quiet_for,
                start,
                end,
            } => {
                next_claim += 1;
                let until = match end {
                    WriteEnd::Abandoned => claim_starts
                        .get(next_claim)
                        .copied()
                        .unwrap_or(Duration::MAX),
                    _ => at + EPS,
                };
                let paired = ours.next_if(|(t, e)| e.id == ws && *t + EPS >= start && *t <= until);
                let claim = |t, before, wrote| {
                    (
                        t,
                        Event::Claim {
                            r: R,
                            ws: ws.clone(),
                            instance: instance.clone(),
                            quiet_for,
                            before,
                            wrote,
                        },
                    )
                };
                match (paired, end) {
                    (Some((t, e)), end) => {
                        let t = if end == WriteEnd::Abandoned {
                            t.max(start)
                        } else {
                            t.clamp(start, at)
                        };
                        events.push(claim(t, e.old.clone(), true));
                    }
                    (None, WriteEnd::Done(false)) => {
                        events.push(claim(at, latest(versions.get(&ws), at), false));
                    }
                    (None, WriteEnd::Done(true)) => {
                        unpaired.push(format!("claim of {ws} at {at:?} has no audit entry"));
                    }
                    (None, WriteEnd::Failed | WriteEnd::Abandoned) => {}
                }
            }
        }
    }
    unpaired.extend(ours.map(|(t, e)| {
        format!(
            "reconciler write seq {} of {} at {t:?} matches no call",
            e.seq, e.id
        )
    }));
    unpaired.extend(flows.values().map(|(t, e)| {
        format!(
            "flow write seq {} of {} at {t:?} matches no step",
            e.seq, e.id
        )
    }));
    // Time order; equal instants keep their order (fleet first, then audit,
    // then client records in program order).
    events.sort_by_key(|(at, _)| *at);
    Built {
        events,
        unpaired,
        unmatched_reads,
        actor_writes,
    }
}
/// The version of a row in effect at `at`.
fn latest(versions: Option<&Vec<(Duration, Option<Row>)>>, at: Duration) -> Option<Row> {
    versions?
        .iter()
        .rev()
        .find(|(t, _)| *t <= at + EPS)
        .and_then(|(_, r)| r.clone())
}

/// The latest version, up to `at`, that agrees with what a read returned;
/// `None` when none does.
fn seen_version(
    versions: Option<&Vec<(Duration, Option<Row>)>>,
    at: Duration,
    seen: &Seen,
) -> Option<Option<Row>> {
    let agrees = |row: &Option<Row>| match seen {
        Seen::Instance(i) => row.as_ref().and_then(Row::live_instance) == i.as_ref(),
        Seen::View(None) => row.is_none(),
        Seen::View(Some(view)) => row.as_ref().is_some_and(|r| {
            r.status == view.status
                && r.instance
                    .clone()
                    .unwrap_or_else(|| InstanceId(String::new()))
                    == view.instance
        }),
    };
    match versions {
        None => matches!(seen, Seen::Instance(None) | Seen::View(None)).then_some(None),
        Some(v) => v
            .iter()
            .rev()
            .filter(|(t, _)| *t <= at + EPS)
            .find(|(_, r)| agrees(r))
            .map(|(_, r)| r.clone()),
    }
}
