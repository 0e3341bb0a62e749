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
//! * a flip's row is the audit's *old image* of the reconciler's own write,
//!   exact whatever the timing, and the flip is placed inside its call's
//!   window, after every answer of its pass;
//! * a read's row is the latest version of the row, up to the read's return,
//!   that agrees with what the read returned;
//! * a write of a transaction an actor held open enters the history at its
//!   commit, when other sessions can first see it.

use std::collections::BTreeMap;
use std::time::Duration;

use pg_store::world::AuditEntry;
use reconciler_core::{InstanceId, InstanceState, Row, WorkspaceId};
use sim::trace::{Cause, Event, Trace};

use super::stage::{Rec, Seen, WriteEnd};

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

/// The trace, and what building it found about the harness itself.
pub struct Built {
    /// The oracle's input.
    pub trace: Trace,
    /// Audit entries of the reconciler, or its successful guarded writes,
    /// that could not be paired (should be none).
    pub unpaired: Vec<String>,
    /// Reads whose result matched no version of the row (should be none).
    pub unmatched_reads: Vec<String>,
    /// Row writes by the actors (committed).
    pub actor_writes: usize,
}

/// Builds the trace. `baseline` is the last audit `seq` of the fleet's own
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
        .map(|(row, state)| (Duration::ZERO, Event::Fleet(row.clone(), *state)))
        .collect();
    let mut ours = Vec::new();
    let mut actor_writes = 0;
    for (at, e) in &entries {
        if e.application_name == pg_store::STORE_APPLICATION_NAME {
            ours.push((*at, *e));
        } else {
            actor_writes += 1;
            let cause = if e.application_name == "adv-platform" {
                Cause::Restart
            } else {
                Cause::Hook
            };
            let what = format!("{} {:?}", e.application_name, e.op);
            events.push((
                *at,
                Event::Act(cause, what, Some(e.id.clone()), e.new.clone()),
            ));
        }
    }

    let mut unpaired = Vec::new();
    let mut unmatched_reads = Vec::new();
    let write_starts: Vec<Duration> = recs
        .iter()
        .filter_map(|(_, r)| match r {
            Rec::Write { start, .. } => Some(*start),
            _ => None,
        })
        .collect();
    let mut next_write = 0;
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
                events.push((at, Event::Read(kind, ws, row)));
            }
            Rec::Write {
                ws,
                write,
                start,
                end,
            } => {
                next_write += 1;
                let until = match end {
                    WriteEnd::Abandoned => write_starts
                        .get(next_write)
                        .copied()
                        .unwrap_or(Duration::MAX),
                    _ => at + EPS,
                };
                let paired = ours.next_if(|(t, e)| e.id == ws && *t + EPS >= start && *t <= until);
                match (paired, end) {
                    (Some((t, e)), end) => {
                        let t = if end == WriteEnd::Abandoned {
                            t.max(start)
                        } else {
                            t.clamp(start, at)
                        };
                        events.push((
                            t,
                            Event::Flip {
                                ws,
                                write,
                                before: e.old.clone(),
                                wrote: true,
                            },
                        ));
                    }
                    (None, WriteEnd::Done(None)) => {
                        // An unconditional write that matched no row: the
                        // row did not exist.
                        events.push((
                            at,
                            Event::Flip {
                                ws,
                                write,
                                before: None,
                                wrote: false,
                            },
                        ));
                    }
                    (None, WriteEnd::Done(Some(false))) => {
                        let before = latest(versions.get(&ws), at);
                        events.push((
                            at,
                            Event::Flip {
                                ws,
                                write,
                                before,
                                wrote: false,
                            },
                        ));
                    }
                    (None, WriteEnd::Done(Some(true))) => {
                        unpaired.push(format!(
                            "guarded write of {ws} at {at:?} has no audit entry"
                        ));
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
    // Time order; equal instants keep their order (fleet first, then audit,
    // then client records in program order).
    events.sort_by_key(|(at, _)| *at);
    let mut trace = Trace::default();
    for (at, e) in events {
        trace.push(at, e);
    }
    Built {
        trace,
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
