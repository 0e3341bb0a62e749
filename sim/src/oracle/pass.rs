//! What one replica's current pass has done and met, as the trace tells
//! it: kept only while the pass runs, so memory is one pass's worth.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reconciler_core::{InstanceId, InstanceState, WorkspaceId};

use crate::row::Row;
use crate::trace::Replica;

/// A control-plane answer as the trace recorded it.
#[derive(Clone, Debug)]
pub struct Answer {
    /// When it arrived.
    pub at: Duration,
    /// Its trace entry.
    pub entry: u64,
    /// What was asked about.
    pub instance: InstanceId,
    /// The answer.
    pub answer: Result<InstanceState, String>,
    /// Ground truth at arrival.
    pub truth: InstanceState,
}

/// A claim as the trace recorded it.
#[derive(Clone, Debug)]
pub struct Claim {
    /// When it wrote (or did not).
    pub at: Duration,
    /// Its trace entry.
    pub entry: u64,
    /// The instance it was guarded on.
    pub instance: InstanceId,
    /// The row just before it.
    pub before: Option<Row>,
    /// Whether it wrote.
    pub wrote: bool,
    /// Whether an offline-handler call of this pass has already used it:
    /// one claim licenses one restart.
    pub spent: bool,
}

/// Ground truth at a pass start, for the liveness check.
#[derive(Clone, Debug, Default)]
pub struct StartState {
    /// Rows in scope.
    pub in_scope: usize,
    /// In-scope rows whose instance is terminal, and whether each is
    /// `degraded`.
    pub dead: Vec<(WorkspaceId, bool)>,
}

/// One pass of one replica.
#[derive(Clone, Debug)]
pub struct Pass {
    /// The replica.
    pub r: Replica,
    /// Its number.
    pub n: u64,
    /// When it started.
    pub start: Duration,
    /// When the replica's previous pass started (the window in which an
    /// actor's touch counts as a disturbance), or the run's start.
    pub since: Duration,
    /// Ground truth at its start.
    pub at_start: StartState,
    /// The candidate query's rows and captured instances.
    pub selected: BTreeMap<WorkspaceId, Option<InstanceId>>,
    /// The candidate query failed.
    pub select_failed: bool,
    /// The instance each workspace's `IsRunning` resolved (last lookup),
    /// with its entry.
    pub resolved: BTreeMap<WorkspaceId, (u64, Option<InstanceId>)>,
    /// Re-confirm reads, by workspace (last one): when, entry, row.
    pub reconfirmed: BTreeMap<WorkspaceId, (Duration, u64, Option<Row>)>,
    /// Answers, in order.
    pub answers: Vec<Answer>,
    /// Claims, by workspace (last one).
    pub claims: BTreeMap<WorkspaceId, Claim>,
    /// Workspaces whose store read (resolve, re-confirm, claim) failed or
    /// timed out.
    pub failed_reads: BTreeSet<WorkspaceId>,
    /// Instances whose probe failed, timed out on its own limit, or was
    /// answered with an empty or unknown state: no clean answer.
    pub failed_probes: BTreeSet<InstanceId>,
    /// Instances whose probe the pass's own deadline cut short: undecided,
    /// not an error.
    pub cut_probes: BTreeSet<InstanceId>,
    /// Instances the pass read from a row: captured by its query or
    /// resolved by `IsRunning`.
    pub read: BTreeSet<InstanceId>,
}

impl Pass {
    /// A pass that starts at `start`.
    pub fn new(r: Replica, n: u64, start: Duration, since: Duration, at_start: StartState) -> Self {
        Self {
            r,
            n,
            start,
            since,
            at_start,
            selected: BTreeMap::new(),
            select_failed: false,
            resolved: BTreeMap::new(),
            reconfirmed: BTreeMap::new(),
            answers: Vec::new(),
            claims: BTreeMap::new(),
            failed_reads: BTreeSet::new(),
            failed_probes: BTreeSet::new(),
            cut_probes: BTreeSet::new(),
            read: BTreeSet::new(),
        }
    }

    /// The instance the pass asked the control plane about for `ws`: the
    /// re-resolved one when the variant re-resolves, else the captured one.
    pub fn probed_instance(&self, ws: &WorkspaceId) -> Option<&InstanceId> {
        match self.resolved.get(ws) {
            Some((_, resolved)) => resolved.as_ref(),
            None => self.selected.get(ws).and_then(Option::as_ref),
        }
    }
}
