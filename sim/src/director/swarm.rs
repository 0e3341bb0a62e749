//! Swarm testing: each seed picks which actors exist, how big the fleet is,
//! how the control plane and the platform behave, how many replicas run and
//! how many passes — and then, at hook points, which actor strikes which
//! row.
//!
//! Nothing here knows any particular bug. The only bias is generic: an actor
//! striking at a hook point usually strikes the row the operation is about,
//! because that is where a race can matter.

use std::fmt::Write as _;
use std::time::Duration;

use rand::RngExt;
use reconciler_core::{InstanceId, InstanceState, Status, WorkspaceId};

use crate::action::{Action, CpFailure};
use crate::actors::{self, Actor, Fleet, Role};
use crate::director::Director;
use crate::director::space::{self, Settings};
use crate::hook::{Flow, Hook, Point};
use crate::net::{Net, NetFaults};
use crate::row::Row;
use crate::seed::{SimRng, child_rng};
use crate::world::{PlatformMode, World, WorldSettings};

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

/// What a caller fixes instead of letting the seed draw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The number of passes (the one-pass benchmark uses it).
    pub passes: Option<u64>,
    /// The platform's code: as merged (the default) or with the proposed
    /// fix. Not drawn: it is what a run is about.
    pub platform: PlatformMode,
    /// How the reconciler reaches the control plane: in-process (the
    /// default) or over turmoil's network, which then draws network faults
    /// and wire-level answers too.
    pub net: Net,
}

/// Everything one seed decides before the run starts.
#[derive(Clone, Debug)]
pub struct Swarm {
    /// The run seed.
    pub seed: u64,
    /// Rows in the fleet.
    pub fleet: usize,
    /// Passes each replica runs.
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
    /// The enabled actors.
    pub actors: Vec<&'static Actor>,
    /// When each replica's process starts (replica 0 at once).
    pub phases: Vec<Duration>,
    /// The platform and control plane.
    pub world: WorldSettings,
    /// How the reconciler reaches the control plane.
    pub net: Net,
    /// The network faults of the network mode (none in-process).
    pub net_faults: NetFaults,
}

fn rate(actors: &[&'static Actor], actor: &Actor) -> u32 {
    match actor.role {
        Role::Rate(permille) if actors.contains(&actor) => permille,
        _ => 0,
    }
}

impl Swarm {
    /// Derives every setting from `seed`, with `overrides` applied.
    pub fn from_seed(seed: u64, overrides: Overrides) -> Self {
        let mut settings = Settings::draw(seed);
        if let Some(p) = overrides.passes {
            settings.passes = p;
        }
        let mut swarm = Self::new(seed, settings, overrides.platform);
        if overrides.net == Net::Turmoil {
            let interval = reconciler_core::Config::default().effective_interval();
            let span = interval.saturating_mul(u32::try_from(swarm.passes).unwrap_or(u32::MAX));
            swarm.net = Net::Turmoil;
            swarm.net_faults = NetFaults::draw(seed, span);
        }
        swarm
    }

    /// The swarm with these `settings` over the world streams of `seed`
    /// (fleet rows, timed actions, strikes, latencies, replica phases).
    /// `from_seed` draws the settings from the seed itself; the property
    /// tests draw them from a proptest strategy over the same
    /// [`space`](super::space), so they can shrink each dimension on its own.
    pub fn new(seed: u64, settings: Settings, platform: PlatformMode) -> Self {
        let Settings {
            fleet,
            passes,
            latency,
            actors,
            hook_permille,
            replicas,
            heartbeat,
            reaped,
            lag,
            pause_stops,
            async_provision,
        } = settings;
        let mut rng = child_rng(seed, "phases");
        let phases = (0..replicas)
            .map(|k| {
                if k == 0 {
                    Duration::ZERO
                } else {
                    Duration::from_millis(rng.random_range(0..60_000))
                }
            })
            .collect();
        Self {
            seed,
            fleet,
            passes,
            latency,
            store_latency_ms: space::STORE_LATENCY_MS,
            cp_error_permille: rate(&actors, &actors::cp_error::ACTOR),
            db_error_permille: rate(&actors, &actors::db_error::ACTOR),
            hook_permille,
            actors,
            phases,
            world: WorldSettings {
                platform,
                heartbeat,
                pause_stops,
                async_provision,
                reaped,
                lag,
            },
            net: Net::InProcess,
            net_faults: NetFaults::default(),
        }
    }

    /// Every setting, one per line, for the head of a replay.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "seed         {}", self.seed);
        let _ = writeln!(s, "fleet        {} rows", self.fleet);
        let _ = writeln!(s, "passes       {} per replica", self.passes);
        let phases: Vec<String> = self
            .phases
            .iter()
            .map(|p| crate::row::fmt_time(*p))
            .collect();
        let _ = writeln!(
            s,
            "replicas     {} (starting at {})",
            self.phases.len(),
            phases.join(", ")
        );
        let (lo, hi) = self.latency.range_ms();
        let _ = writeln!(s, "cp latency   {:?} ({lo}-{hi} ms)", self.latency);
        let _ = writeln!(s, "cp errors    {}‰", self.cp_error_permille);
        let _ = writeln!(s, "db errors    {}‰", self.db_error_permille);
        let _ = writeln!(s, "hook strikes {}‰", self.hook_permille);
        let names: Vec<&str> = self.actors.iter().map(|a| a.name).collect();
        let _ = writeln!(
            s,
            "actors       {}",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
        let _ = write!(s, "{}", self.world);
        if self.net == Net::Turmoil {
            let _ = writeln!(
                s,
                "net          turmoil (tick {} ms)",
                crate::net::TICK.as_millis()
            );
            let _ = writeln!(s, "net faults   {}", self.net_faults);
            let _ = writeln!(
                s,
                "wire answers {}",
                CpFailure::WIRE.map(CpFailure::as_str).join(", ")
            );
        }
        s
    }

    /// The fleet at the start of the run, with each instance's real state.
    pub fn fleet_rows(&self) -> Vec<(Row, Option<InstanceState>)> {
        let mut rng = child_rng(self.seed, "fleet");
        (0..self.fleet).map(|i| generate_row(&mut rng, i)).collect()
    }

    /// Actions at simulated instants, spread over the run, in time order:
    /// each striking actor acts up to once a pass on a fleet row, each
    /// fault-period actor up to once every three passes.
    pub fn timed_actions(&self, fleet: &[(Row, Option<InstanceState>)]) -> Vec<(Duration, Action)> {
        let mut rng = child_rng(self.seed, "timed");
        let span_ms = self.passes * 60_000;
        let targets = Fleet(fleet);
        let mut out = Vec::new();
        for actor in &self.actors {
            let most = match actor.role {
                Role::Strikes(_) => self.passes,
                Role::Periods(_) => self.passes.div_ceil(3),
                Role::Rate(_) | Role::Scripted => continue,
            };
            let count = rng.random_range(0..=most);
            for _ in 0..count {
                let at = Duration::from_millis(rng.random_range(0..span_ms));
                if let Some(action) = actor.strike(&targets, None, &mut rng) {
                    out.push((at, action));
                }
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
        0..=89 => Some(InstanceId(padded("i-", i + 1, 4))),
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
    let dead = state.is_some_and(|s| {
        matches!(
            s,
            InstanceState::ShuttingDown | InstanceState::Terminated | InstanceState::NotFound
        )
    });
    let updated_at = if dead {
        -rng.random_range(600_000..86_400_000i64)
    } else {
        -rng.random_range(0..600_000i64)
    };
    let row = Row {
        id: WorkspaceId(padded("ws-", i + 1, 3)),
        status,
        instance,
        runtime,
        updated_at,
    };
    (row, state)
}

/// `prefix` then `n` zero-padded to at least `width` digits, as
/// `format!("{prefix}{n:0width$}")` writes it, without the formatting
/// machinery (the fleet is built for every seed).
fn padded(prefix: &str, n: usize, width: usize) -> String {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = n;
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let mut s = String::with_capacity(prefix.len() + len.max(width));
    s.push_str(prefix);
    for _ in len..width {
        s.push('0');
    }
    for &d in digits[..len].iter().rev() {
        s.push(char::from(d));
    }
    s
}

/// True for the hook points the swarm strikes at: the reconciler's, and the
/// steps of the restarts its flips start. Owner flows' steps are not struck
/// at (a strike there starts more flows, and their children more: the run
/// would snowball); they interleave with the reconciler through time, and
/// scenario files can still place steps at them.
pub fn strikes_at(hook: Hook) -> bool {
    match hook.point {
        Point::Step(flow, _) => flow == Flow::Restart,
        _ => true,
    }
}

/// The random director: strikes at hook points with the swarm's rate.
pub struct SwarmDirector {
    rng: SimRng,
    hook_permille: u32,
    strikers: Vec<&'static Actor>,
}

impl SwarmDirector {
    /// The director for `swarm`.
    pub fn new(swarm: &Swarm) -> Self {
        Self {
            rng: child_rng(swarm.seed, "director"),
            hook_permille: swarm.hook_permille,
            strikers: swarm
                .actors
                .iter()
                .copied()
                .filter(|a| a.strikes_rows())
                .collect(),
        }
    }
}

impl Director for SwarmDirector {
    fn at_hook(&mut self, hook: Hook, ws: Option<&WorkspaceId>, world: &World) -> Vec<Action> {
        if self.strikers.is_empty()
            || world.table.is_empty()
            || !strikes_at(hook)
            || self.rng.random_range(0..1000) >= self.hook_permille
        {
            return Vec::new();
        }
        let actor = self.strikers[self.rng.random_range(0..self.strikers.len())];
        actor.strike(world, ws, &mut self.rng).into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::padded;

    #[test]
    fn padded_ids_are_what_format_writes() {
        for n in (0..1_200).chain([9_999, 10_000, 123_456, usize::MAX]) {
            assert_eq!(padded("ws-", n, 3), format!("ws-{n:03}"));
            assert_eq!(padded("i-", n, 4), format!("i-{n:04}"));
        }
    }
}
