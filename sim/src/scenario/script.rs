//! A validated, compiled scenario: everything a run needs, in the world's
//! own types. Produced only by `validate`, so a `Script` is never
//! half-checked; its fields are public so that exhaustive mode, the
//! shrinker and the Postgres backend can derive variants of it.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use reconciler_core::{Config, InstanceId, InstanceState, Variant, WorkspaceId};

use crate::action::Action;
use crate::actors::Actor;
use crate::hook::Hook;
use crate::oracle::Label;
use crate::row::Row;
use crate::shared::CpOverride;
use crate::world::WorldSettings;

use super::model::Pos;

/// A step fired at a hook point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookStep {
    /// The hook point.
    pub hook: Hook,
    /// Only firings about this workspace count, when set.
    pub ws: Option<WorkspaceId>,
    /// Fires at the `nth` matching firing (1-based).
    pub nth: u64,
    /// What happens then, in order.
    pub actions: Vec<Action>,
}

impl HookStep {
    /// True when a firing of `hook` about `ws` counts towards this step's
    /// `nth`: the same hook, and the workspace filter (if any) holds.
    pub fn matches(&self, hook: Hook, ws: Option<&WorkspaceId>) -> bool {
        self.hook == hook && self.ws.as_ref().is_none_or(|w| Some(w) == ws)
    }
}

/// What one variant is expected to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expected {
    /// Workspaces whose flip wrote a row, sorted (repeats kept).
    pub flips: Vec<WorkspaceId>,
    /// Violation labels.
    pub violations: Vec<Label>,
}

/// Random strikes around the script.
#[derive(Clone, Debug, PartialEq)]
pub struct Explore {
    /// How many seeds.
    pub seeds: u64,
    /// Per-hook strike probability of each actor.
    pub actors: Vec<(&'static Actor, f64)>,
}

/// A scenario ready to run.
#[derive(Clone, Debug)]
pub struct Script {
    /// The file it came from.
    pub file: PathBuf,
    /// Its unique name.
    pub name: String,
    /// Where the name is written (for the corpus-wide uniqueness error).
    pub name_at: Pos,
    /// The race in words.
    pub about: String,
    /// The variants it runs against, in `Variant::ALL` order.
    pub variants: Vec<Variant>,
    /// Why it cannot run on Postgres, when it cannot.
    pub sim_only: Option<String>,
    /// How the reconciler reaches the control plane (`net:`).
    pub net: crate::net::Net,
    /// The reconciler's configuration.
    pub config: Config,
    /// When each replica's process starts, one per replica.
    pub phases: Vec<Duration>,
    /// The platform and control plane.
    pub world: WorldSettings,
    /// The rows at the start and their instances' real states, in file
    /// order.
    pub fleet: Vec<(Row, Option<InstanceState>)>,
    /// Control-plane latency, inclusive ms range.
    pub cp_latency_ms: (u64, u64),
    /// Per-instance control-plane behaviour.
    pub cp_instances: IndexMap<InstanceId, CpOverride>,
    /// Store call latency, inclusive ms range.
    pub store_latency_ms: (u64, u64),
    /// Passes to run.
    pub passes: u64,
    /// The `missed_dead` bound in passes, when the file sets one.
    pub missed_dead_bound: Option<u64>,
    /// Actions at simulated instants, in file order (flows among them
    /// start as the platform runs them).
    pub timed: Vec<(Duration, Action)>,
    /// Steps at hook points, in file order.
    pub hooked: Vec<HookStep>,
    /// The expected verdict per variant.
    pub expect: IndexMap<Variant, Expected>,
    /// Whether `sim run` should enumerate step placements.
    pub exhaustive: bool,
    /// Random strikes around the script, when asked for.
    pub explore: Option<Explore>,
}
