//! The scenario file as written: serde types that mirror the YAML one to
//! one, reject unknown fields, remember where each value stood in the file
//! ([`Located`]), and generate `scenarios/schema.json` (schemars).
//!
//! Nothing here is checked beyond its shape; meaning (ids that exist,
//! positive durations, known hook points and actions) is `validate`'s job,
//! which reports each error at the node these types located.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::duration::{Dur, Latency};

/// A 1-based line and column in a scenario file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, from 1.
    pub line: u64,
    /// Column, from 1.
    pub column: u64,
}

/// A value and where it was written, so that semantic errors can point at
/// the offending node. Compares and hashes by value only.
#[derive(Clone, Copy, Debug)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where its node starts.
    pub at: Pos,
}

impl<T> Located<T> {
    /// A value with an unknown position (line 0), for values built in code.
    pub fn unplaced(value: T) -> Self {
        Self {
            value,
            at: Pos::default(),
        }
    }
}

impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Located<T> {}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        Ok(Located {
            value: s.value,
            at: Pos {
                line: s.referenced.line(),
                column: s.referenced.column(),
            },
        })
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A reconciler variant as named in scenario files.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum VariantName {
    /// Before PR #2283.
    Legacy,
    /// As merged in PR #2283.
    Pr2283,
    /// This project's recommendation.
    Hardened,
}

/// One race scenario: a fleet, the world's behaviour, the steps that make
/// the race happen, and what each variant is expected to do.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique across the corpus, `[a-z0-9-]+`.
    pub name: Located<String>,
    /// One or two sentences: the race in words.
    pub about: String,
    /// The variants to run (default: all three).
    #[serde(default)]
    pub variants: Option<Located<Vec<Located<VariantName>>>>,
    /// Present when the scenario cannot run on Postgres, saying why (e.g.
    /// pure control-plane faults); such files are skipped by the Postgres
    /// conformance test.
    #[serde(default)]
    pub sim_only: Option<String>,
    /// Reconciler configuration overrides (defaults: the reference values).
    #[serde(default)]
    pub config: Option<Located<ConfigSpec>>,
    /// The `workspaces` rows at the start, with their instances' real
    /// states; at least one row, ids unique.
    pub fleet: Located<Vec<Located<FleetRow>>>,
    /// How the control plane behaves.
    #[serde(default)]
    pub cp: Option<CpSpec>,
    /// How the store behaves.
    #[serde(default)]
    pub store: Option<StoreSpec>,
    /// Passes to run (default 1).
    #[serde(default)]
    pub passes: Option<Located<u64>>,
    /// The liveness bound of `missed_dead`, in passes (default: the
    /// oracle's computed bound).
    #[serde(default)]
    pub missed_dead_bound: Option<Located<u64>>,
    /// What actors do, at hook points or at simulated instants.
    #[serde(default)]
    pub steps: Vec<Located<StepSpec>>,
    /// The expected verdict of each variant in `variants`.
    pub expect: Located<ExpectSpec>,
    /// Enumerate every placement of the `on:` steps over the hook points of
    /// a bounded run instead of running them once.
    #[serde(default)]
    pub exhaustive: Option<bool>,
    /// Random strikes around the script.
    #[serde(default)]
    pub explore: Option<Located<ExploreSpec>>,
}

/// Reconciler configuration overrides.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// Time between passes (default 60s).
    #[serde(default)]
    pub interval: Option<Located<Dur>>,
    /// How long one pass may process rows (default 45s).
    #[serde(default)]
    pub deadline: Option<Located<Dur>>,
    /// Per-workspace control-plane probe timeout (default 10s).
    #[serde(default)]
    pub probe_timeout: Option<Located<Dur>>,
    /// Timeout of the re-confirm read and of the guarded write (default 5s).
    #[serde(default)]
    pub reconfirm_timeout: Option<Located<Dur>>,
    /// Rows per candidate query (default 200).
    #[serde(default)]
    pub limit: Option<Located<u32>>,
}

/// A cloud instance's real state at the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StateName {
    /// Booting.
    Pending,
    /// Up.
    Running,
    /// On its way to stopped.
    Stopping,
    /// Stopped.
    Stopped,
    /// On its way to terminated.
    ShuttingDown,
    /// Gone.
    Terminated,
    /// Unknown to the cloud.
    NotFound,
}

/// One `workspaces` row.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetRow {
    /// The workspace id, unique in the fleet.
    pub id: Located<String>,
    /// `status`: online, degraded, offline, provisioning, paused, or any
    /// other string (never in scope).
    pub status: String,
    /// `instance_id`: an id, `null` for NULL (the default), `''` for the
    /// empty string.
    #[serde(default)]
    pub instance: Option<Located<String>>,
    /// `runtime`: null (default), saas, external, or any string.
    #[serde(default)]
    pub runtime: Option<String>,
    /// The instance's real cloud state; required iff `instance` is a
    /// non-empty id.
    #[serde(default)]
    pub state: Option<Located<StateName>>,
    /// `updated_at` relative to the run start (default: row k, 0-based, is
    /// -(k+1)s, so file order is `ORDER BY updated_at DESC`).
    #[serde(default)]
    pub updated_at: Option<Located<Dur>>,
}

/// How the control plane behaves.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpSpec {
    /// Latency of every request (default 20ms).
    #[serde(default)]
    pub latency: Option<Located<Latency>>,
    /// Per-instance overrides, by instance id.
    #[serde(default)]
    pub instances: indexmap::IndexMap<String, Located<InstanceSpec>>,
}

/// How the control plane treats requests about one instance: exactly one
/// of `latency` or `fail`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    /// Latency of every request about this instance.
    #[serde(default)]
    pub latency: Option<Located<Latency>>,
    /// Every request about this instance fails this way.
    #[serde(default)]
    pub fail: Option<FailName>,
}

/// How a control-plane request fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum FailName {
    /// Connection refused or reset.
    #[serde(rename = "transport")]
    Transport,
    /// HTTP 5xx.
    #[serde(rename = "5xx")]
    Status5xx,
    /// A 2xx body that does not decode.
    #[serde(rename = "garbage")]
    Garbage,
}

/// How the store behaves.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreSpec {
    /// Latency of every store call (default 1ms).
    #[serde(default)]
    pub latency: Option<Located<Latency>>,
}

/// One step: actions at a hook point (`on`) or at a simulated instant
/// (`at`), exactly one of the two.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// `<before|after> <select|resolve|probe|answer|reconfirm|flip|pass>
    /// [workspace-id]`.
    #[serde(default)]
    #[schemars(regex(
        pattern = r"^(before|after) (select|resolve|probe|answer|reconfirm|flip|pass)( \S+)?$"
    ))]
    pub on: Option<Located<String>>,
    /// 1-based occurrence among the matching firings (default 1).
    #[serde(default)]
    pub nth: Option<Located<u64>>,
    /// A simulated instant (duration since the run began).
    #[serde(default)]
    pub at: Option<Located<Dur>>,
    /// One action, or a list of actions.
    #[serde(rename = "do")]
    pub actions: Located<Actions>,
}

/// One action or several, each as text (`orphan_sweep ws-1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actions(pub Vec<Located<String>>);

struct ActionsVisitor;

impl<'de> Visitor<'de> for ActionsVisitor {
    type Value = Actions;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an action like `orphan_sweep ws-1`, or a list of actions")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Actions, E> {
        // The position is filled in from the enclosing `do` node.
        Ok(Actions(vec![Located::unplaced(v.to_owned())]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Actions, A::Error> {
        let mut out = Vec::new();
        while let Some(a) = seq.next_element::<Located<String>>()? {
            out.push(a);
        }
        Ok(Actions(out))
    }
}

impl<'de> Deserialize<'de> for Actions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ActionsVisitor)
    }
}

impl JsonSchema for Actions {
    fn schema_name() -> Cow<'static, str> {
        "Actions".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let action = json_schema!({
            "type": "string",
            "description": "delete WS | orphan_sweep WS | clear_instance WS | reprovision WS | degrade WS | recover WS | pause WS | resume WS | set_status WS STATUS | terminate I | stop I | start I | cp_slow LATENCY for DURATION | cp_error [COUNT] [transport|5xx|garbage] | cp_partition for DURATION | db_error [COUNT]"
        });
        json_schema!({
            "description": "One action, or a list of actions.",
            "oneOf": [action, { "type": "array", "items": action }]
        })
    }
}

/// The expected verdict per variant; one entry per variant in `variants`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// For `legacy`.
    #[serde(default)]
    pub legacy: Option<Located<Expectation>>,
    /// For `pr2283`.
    #[serde(default)]
    pub pr2283: Option<Located<Expectation>>,
    /// For `hardened`.
    #[serde(default)]
    pub hardened: Option<Located<Expectation>>,
}

/// What one variant is expected to do.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Workspace ids whose flip wrote a row (a workspace flipped twice is
    /// listed twice).
    pub flips: Vec<Located<String>>,
    /// Violation labels, `kind` (any sub-reason) or `kind/sub`.
    pub violations: Vec<Located<String>>,
}

/// Random strikes around the script.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExploreSpec {
    /// How many seeds.
    pub seeds: Located<u64>,
    /// Per-hook probability that each adversary strikes.
    #[serde(default)]
    pub adversaries: AdversaryOdds,
}

/// Per-hook strike probability of each adversary, in [0, 1].
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdversaryOdds {
    /// Concurrent deletes.
    #[serde(default)]
    pub delete: Option<Located<f64>>,
    /// The orphan sweeper NULLing reaped instances.
    #[serde(default)]
    pub orphan_sweep: Option<Located<f64>>,
    /// Restarts onto a new instance.
    #[serde(default)]
    pub reprovision: Option<Located<f64>>,
    /// The heartbeat handler toggling online/degraded.
    #[serde(default)]
    pub heartbeat: Option<Located<f64>>,
    /// Pause and resume.
    #[serde(default)]
    pub pause: Option<Located<f64>>,
    /// The cloud terminating instances.
    #[serde(default)]
    pub terminate: Option<Located<f64>>,
    /// The cloud stopping or starting instances.
    #[serde(default)]
    pub stop: Option<Located<f64>>,
}

/// The JSON Schema of scenario files, pretty-printed, as committed in
/// `scenarios/schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
