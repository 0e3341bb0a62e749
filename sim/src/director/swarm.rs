//! Swarm testing: each seed picks which adversaries exist, how big the fleet
//! is, how the control plane behaves and how many passes run — and then, at
//! hook points, which adversary strikes which row.
//!
//! Nothing here knows any particular bug. The only bias is generic: an actor
//! striking at a hook point usually strikes the row the operation is about,
//! because that is where a race can matter.

use std::fmt::Write as _;
use std::time::Duration;

use rand::RngExt;
use reconciler_core::{InstanceId, InstanceState, Status, WorkspaceId};

use crate::action::Action;
use crate::director::Director;
use crate::hook::Hook;
use crate::row::Row;
use crate::seed::{SimRng, child_rng};
use crate::world::World;

/// An actor class the swarm can enable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Adversary {
    /// Concurrent deletes.
    Delete,
    /// The orphan sweeper NULLing reaped instances.
    OrphanSweep,
    /// Restarts onto a new instance.
    Reprovision,
    /// The heartbeat handler toggling online/degraded.
    Heartbeat,
    /// Pause and resume of the same instance.
    Pause,
    /// The cloud terminating instances.
    CloudTerminate,
    /// The cloud stopping instances.
    CloudStop,
    /// Periods of a slow (but answering) control plane.
    SlowCp,
    /// Control-plane requests failing (transport, 5xx, garbage).
    FailingCp,
    /// Store calls failing.
    DbErrors,
}

impl Adversary {
    /// Every adversary.
    pub const ALL: [Adversary; 10] = [
        Adversary::Delete,
        Adversary::OrphanSweep,
        Adversary::Reprovision,
        Adversary::Heartbeat,
        Adversary::Pause,
        Adversary::CloudTerminate,
        Adversary::CloudStop,
        Adversary::SlowCp,
        Adversary::FailingCp,
        Adversary::DbErrors,
    ];

    /// The name used on command lines and in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            Adversary::Delete => "delete",
            Adversary::OrphanSweep => "orphan_sweep",
            Adversary::Reprovision => "reprovision",
            Adversary::Heartbeat => "heartbeat",
            Adversary::Pause => "pause",
            Adversary::CloudTerminate => "terminate",
            Adversary::CloudStop => "stop",
            Adversary::SlowCp => "cp_slow",
            Adversary::FailingCp => "cp_error",
            Adversary::DbErrors => "db_error",
        }
    }

    /// True for actors that touch rows or instances (as opposed to faults).
    fn acts_on_rows(self) -> bool {
        !matches!(
            self,
            Adversary::SlowCp | Adversary::FailingCp | Adversary::DbErrors
        )
    }
}

/// How fast the control plane answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyProfile {
    /// 1–50 ms.
    Fast,
    /// 20 ms – 3 s.
    Variable,
    /// 7–9.9 s: slow but under the 10 s probe timeout (MED-2's case).
    SlowUnderCap,
    /// 8–12 s: some probes time out.
    OverCap,
}

impl LatencyProfile {
    /// The inclusive latency range in milliseconds.
    pub fn range_ms(self) -> (u64, u64) {
        match self {
            LatencyProfile::Fast => (1, 50),
            LatencyProfile::Variable => (20, 3_000),
            LatencyProfile::SlowUnderCap => (7_000, 9_900),
            LatencyProfile::OverCap => (8_000, 12_000),
        }
    }
}

/// Everything one seed decides before the run starts.
#[derive(Clone, Debug)]
pub struct Swarm {
    /// The run seed.
    pub seed: u64,
    /// Rows in the fleet.
    pub fleet: usize,
    /// Passes to run.
    pub passes: u64,
    /// Control-plane latency.
    pub latency: LatencyProfile,
    /// Store call latency range, ms.
    pub store_latency_ms: (u64, u64),
    /// Per-request control-plane failure rate, per mille (0 unless
    /// `cp_error` is enabled).
    pub cp_error_permille: u32,
    /// Per-call store failure rate, per mille (0 unless `db_error` is
    /// enabled).
    pub db_error_permille: u32,
    /// Chance, per mille, that an actor strikes at a hook point.
    pub hook_permille: u32,
    /// The enabled adversaries.
    pub adversaries: Vec<Adversary>,
}

impl Swarm {
    /// Derives every setting from `seed`; `passes` overrides the drawn
    /// number of passes (the one-pass benchmark uses it).
    pub fn from_seed(seed: u64, passes: Option<u64>) -> Self {
        let mut rng = child_rng(seed, "swarm");
        let fleet = match rng.random_range(0..10u32) {
            0..=5 => rng.random_range(1..=8),
            6..=8 => rng.random_range(9..=50),
            _ => rng.random_range(51..=300),
        };
        let drawn_passes = rng.random_range(1..=30u64);
        let latency = match rng.random_range(0..10u32) {
            0..=3 => LatencyProfile::Fast,
            4..=6 => LatencyProfile::Variable,
            7..=8 => LatencyProfile::SlowUnderCap,
            _ => LatencyProfile::OverCap,
        };
        let adversaries: Vec<Adversary> = Adversary::ALL
            .into_iter()
            .filter(|_| rng.random_bool(0.5))
            .collect();
        let hook_permille = [20, 100, 300][rng.random_range(0..3usize)];
        let enabled = |a| adversaries.contains(&a);
        Self {
            seed,
            fleet,
            passes: passes.unwrap_or(drawn_passes),
            latency,
            store_latency_ms: (1, 20),
            cp_error_permille: if enabled(Adversary::FailingCp) {
                100
            } else {
                0
            },
            db_error_permille: if enabled(Adversary::DbErrors) { 30 } else { 0 },
            hook_permille,
            adversaries,
        }
    }

    /// Every setting, one per line, for the head of a replay.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "seed         {}", self.seed);
        let _ = writeln!(s, "fleet        {} rows", self.fleet);
        let _ = writeln!(s, "passes       {}", self.passes);
        let (lo, hi) = self.latency.range_ms();
        let _ = writeln!(s, "cp latency   {:?} ({lo}-{hi} ms)", self.latency);
        let _ = writeln!(s, "cp errors    {}‰", self.cp_error_permille);
        let _ = writeln!(s, "db errors    {}‰", self.db_error_permille);
        let _ = writeln!(s, "hook strikes {}‰", self.hook_permille);
        let names: Vec<&str> = self.adversaries.iter().map(|a| a.as_str()).collect();
        let _ = writeln!(
            s,
            "adversaries  {}",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
        s
    }

    /// The fleet at the start of the run, with each instance's real state.
    pub fn fleet_rows(&self) -> Vec<(Row, Option<InstanceState>)> {
        let mut rng = child_rng(self.seed, "fleet");
        (0..self.fleet).map(|i| generate_row(&mut rng, i)).collect()
    }

    /// Actions at simulated instants, spread over the run.
    pub fn timed_actions(&self, fleet: &[(Row, Option<InstanceState>)]) -> Vec<(Duration, Action)> {
        let mut rng = child_rng(self.seed, "timed");
        let span_ms = self.passes * 60_000;
        let mut out = Vec::new();
        for &adv in &self.adversaries {
            let count = rng.random_range(0..=self.passes);
            for _ in 0..count {
                let at = Duration::from_millis(rng.random_range(0..span_ms));
                let action = match adv {
                    Adversary::SlowCp => Action::CpSlow {
                        latency_ms: rng.random_range(7_000..=9_900),
                        for_ms: rng.random_range(30_000..=300_000),
                    },
                    Adversary::FailingCp | Adversary::DbErrors => continue,
                    _ => {
                        let (row, state) = &fleet[rng.random_range(0..fleet.len())];
                        // The orphan sweeper only reaps rows whose instance is gone.
                        if adv == Adversary::OrphanSweep
                            && !state.is_some_and(InstanceState::is_terminal)
                        {
                            continue;
                        }
                        match row_action(adv, row, &mut rng) {
                            Some(a) => a,
                            None => continue,
                        }
                    }
                };
                out.push((at, action));
            }
        }
        out.sort_by_key(|(at, _)| *at);
        out
    }
}

fn generate_row(rng: &mut SimRng, i: usize) -> (Row, Option<InstanceState>) {
    let status = match rng.random_range(0..100u32) {
        0..=69 => Status::Online,
        70..=84 => Status::Degraded,
        85..=89 => Status::Offline,
        90..=94 => Status::Provisioning,
        _ => Status::Paused,
    };
    let instance = match rng.random_range(0..100u32) {
        0..=89 => Some(InstanceId(format!("i-{:04}", i + 1))),
        90..=94 => None,
        _ => Some(InstanceId(String::new())),
    };
    let runtime = match rng.random_range(0..100u32) {
        0..=84 => None,
        85..=94 => Some("external".to_owned()),
        _ => Some("saas".to_owned()),
    };
    let state =
        instance
            .as_ref()
            .filter(|i| !i.0.is_empty())
            .map(|_| match rng.random_range(0..100u32) {
                0..=69 => InstanceState::Running,
                70..=77 => InstanceState::Terminated,
                78..=80 => InstanceState::ShuttingDown,
                81..=84 => InstanceState::NotFound,
                85..=90 => InstanceState::Stopped,
                91..=93 => InstanceState::Stopping,
                _ => InstanceState::Pending,
            });
    // Dead instances stopped heartbeating long ago; live ones recently.
    let updated_at = if state.is_some_and(InstanceState::is_terminal) {
        -rng.random_range(600_000..86_400_000i64)
    } else {
        -rng.random_range(0..600_000i64)
    };
    let row = Row {
        id: WorkspaceId(format!("ws-{:03}", i + 1)),
        status,
        instance,
        runtime,
        updated_at,
    };
    (row, state)
}

/// The action a row-touching adversary takes on `row`, if it applies
/// (shared with the scenario `explore:` strikes, so both strike alike).
pub fn row_action(adv: Adversary, row: &Row, rng: &mut SimRng) -> Option<Action> {
    let ws = row.id.clone();
    let instance = row.live_instance().cloned();
    Some(match adv {
        Adversary::Delete => Action::Delete(ws),
        Adversary::OrphanSweep => {
            if rng.random_bool(0.5) {
                Action::OrphanSweep(ws)
            } else {
                Action::ClearInstance(ws)
            }
        }
        Adversary::Reprovision => Action::Reprovision(ws),
        Adversary::Heartbeat => match row.status {
            Status::Online => Action::Degrade(ws),
            Status::Degraded => Action::Recover(ws),
            _ => return None,
        },
        Adversary::Pause => match row.status {
            Status::Paused => Action::Resume(ws),
            _ => Action::Pause(ws),
        },
        Adversary::CloudTerminate => Action::Terminate(instance?),
        Adversary::CloudStop => {
            let i = instance?;
            if rng.random_bool(0.5) {
                Action::Stop(i)
            } else {
                Action::Start(i)
            }
        }
        Adversary::SlowCp | Adversary::FailingCp | Adversary::DbErrors => return None,
    })
}

/// The random director: strikes at hook points with the swarm's rate.
pub struct SwarmDirector {
    rng: SimRng,
    hook_permille: u32,
    row_adversaries: Vec<Adversary>,
}

impl SwarmDirector {
    /// The director for `swarm`.
    pub fn new(swarm: &Swarm) -> Self {
        Self {
            rng: child_rng(swarm.seed, "director"),
            hook_permille: swarm.hook_permille,
            row_adversaries: swarm
                .adversaries
                .iter()
                .copied()
                .filter(|a| a.acts_on_rows())
                .collect(),
        }
    }
}

impl Director for SwarmDirector {
    fn at_hook(&mut self, _hook: Hook, ws: Option<&WorkspaceId>, world: &World) -> Vec<Action> {
        if self.row_adversaries.is_empty()
            || world.table.is_empty()
            || self.rng.random_range(0..1000) >= self.hook_permille
        {
            return Vec::new();
        }
        let adv = self.row_adversaries[self.rng.random_range(0..self.row_adversaries.len())];
        let target = match ws.and_then(|w| world.table.get(w)) {
            Some(row) if self.rng.random_bool(0.8) => row,
            _ => {
                let n = self.rng.random_range(0..world.table.len());
                world.table.rows().nth(n).expect("index within the table")
            }
        };
        // The orphan sweeper only reaps rows whose instance is really gone.
        if adv == Adversary::OrphanSweep
            && target
                .live_instance()
                .is_some_and(|i| !world.cloud.state(i).is_terminal())
        {
            return Vec::new();
        }
        let target = target.clone();
        row_action(adv, &target, &mut self.rng)
            .into_iter()
            .collect()
    }
}
