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

impl<T: std::hash::Hash> std::hash::Hash for Located<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

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

/// A reconciler variant as named in scenario files: any of the core's
/// `Variant::ALL`, checked by `validate` (so the language never keeps a copy
/// of the list).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub struct VariantName(pub String);

impl JsonSchema for VariantName {
    fn schema_name() -> Cow<'static, str> {
        "Variant".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = reconciler_core::Variant::ALL
            .iter()
            .map(|v| v.as_str())
            .collect();
        json_schema!({
            "description": "A reconciler variant.",
            "type": "string",
            "enum": names
        })
    }
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
    /// How the reconciler reaches the control plane: `in-process` (the
    /// default) or `turmoil`, HTTP over turmoil's simulated network. A
    /// `turmoil` file must also be `sim_only`: the Postgres backend runs
    /// in-process.
    #[serde(default)]
    pub net: Option<Located<NetName>>,
    /// Reconciler configuration overrides (defaults: the reference values).
    #[serde(default)]
    pub config: Option<Located<ConfigSpec>>,
    /// How many reconciler replicas run (default 1): a number (their
    /// processes start evenly spread over one interval) or a list of the
    /// instants each starts at (`[0s, 10ms]`).
    #[serde(default)]
    pub replicas: Option<Located<ReplicasSpec>>,
    /// The platform's code and behaviour (defaults: as merged, current
    /// version).
    #[serde(default)]
    pub platform: Option<Located<PlatformSpec>>,
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

/// How many replicas, or when each starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicasSpec {
    /// This many, evenly spread over one interval.
    Count(u64),
    /// One per instant, each starting then.
    Phases(Vec<Located<Dur>>),
}

impl<'de> Deserialize<'de> for ReplicasSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ReplicasSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a number of replicas, or a list of their start instants like [0s, 10ms]",
                )
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ReplicasSpec, E> {
                Ok(ReplicasSpec::Count(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ReplicasSpec, E> {
                u64::try_from(v)
                    .map(ReplicasSpec::Count)
                    .map_err(|_| E::custom("expected a number of replicas of 1 or more"))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ReplicasSpec, A::Error> {
                let mut out = Vec::new();
                while let Some(d) = seq.next_element::<Located<Dur>>()? {
                    out.push(d);
                }
                Ok(ReplicasSpec::Phases(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for ReplicasSpec {
    fn schema_name() -> Cow<'static, str> {
        "Replicas".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let dur = generator.subschema_for::<Dur>();
        json_schema!({
            "description": "How many reconciler replicas run (evenly spread over one interval), or the instant each starts at.",
            "oneOf": [
                { "type": "integer", "minimum": 1 },
                { "type": "array", "items": dur, "minItems": 1 }
            ]
        })
    }
}

/// The platform's code and the details where its versions differ.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformSpec {
    /// `as-merged` (default) or `hardened` (the fix proposed in
    /// docs/decisions.md).
    #[serde(default)]
    pub mode: Option<PlatformName>,
    /// Whether every heartbeat writes `updated_at` (`every`, default) or
    /// only one that changes the status (`on-change`).
    #[serde(default)]
    pub heartbeat: Option<HeartbeatName>,
    /// What Pause does to a SaaS instance: `stops` it (default, current
    /// platforms) or leaves it running (`status-only`, older ones).
    #[serde(default)]
    pub pause: Option<PauseName>,
    /// How a restart provisions: `sync` (default, current platforms) or in
    /// a goroutine (`async`, older ones).
    #[serde(default)]
    pub provision: Option<ProvisionName>,
}

/// The platform's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformName {
    /// As merged.
    AsMerged,
    /// With the proposed fix.
    Hardened,
}

/// Which heartbeats write the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HeartbeatName {
    /// Every beat.
    Every,
    /// Only a beat that changes the status.
    OnChange,
}

/// What Pause does to the instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PauseName {
    /// Stops it.
    Stops,
    /// Leaves it running.
    StatusOnly,
}

/// How a restart provisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProvisionName {
    /// In the cycle.
    Sync,
    /// In a goroutine.
    Async,
}

/// What the control plane answers for a reaped instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ReapedName {
    /// HTTP 404.
    #[serde(rename = "404")]
    NotFound,
    /// `200 {"state": "terminated"}`.
    #[serde(rename = "terminated")]
    Terminated,
}

/// How the control plane behaves.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpSpec {
    /// Latency of every request (default 20ms).
    #[serde(default)]
    pub latency: Option<Located<Latency>>,
    /// What it answers for a reaped instance: `404` (default) or
    /// `terminated`.
    #[serde(default)]
    pub reaped: Option<ReapedName>,
    /// How far behind the cloud its view is (eventual consistency; default
    /// 0s): a just-launched instance is not found for this long, and a
    /// just-terminated one still runs.
    #[serde(default)]
    pub lag: Option<Located<Dur>>,
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

/// How the reconciler reaches the control plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum NetName {
    /// A trait call into the simulated control plane (the default).
    #[serde(rename = "in-process")]
    InProcess,
    /// HTTP (`cp-http`'s client) over turmoil's simulated network.
    #[serde(rename = "turmoil")]
    Turmoil,
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
    /// A 2xx body that decodes to an empty state (`{}`).
    #[serde(rename = "empty")]
    Empty,
    /// A 2xx body whose state is a word the client does not know.
    #[serde(rename = "unknown")]
    Unknown,
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
    /// `<before|after> <point> [workspace-id]`, the point one of the
    /// reconciler's (`select`, `probe`, …) or a platform flow's step
    /// (`restart.stop`, `pause.status`, …).
    #[serde(default)]
    #[schemars(schema_with = "hook_schema")]
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
        let usage: Vec<&str> = crate::actors::verbs().map(|v| v.usage).collect();
        let action = json_schema!({
            "type": "string",
            "description": usage.join(" | ")
        });
        json_schema!({
            "description": "One action, or a list of actions.",
            "oneOf": [action, { "type": "array", "items": action }]
        })
    }
}

/// The expected verdict per variant, keyed by variant name; one entry per
/// variant in `variants`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct ExpectSpec(pub indexmap::IndexMap<Located<String>, Located<Expectation>>);

impl JsonSchema for ExpectSpec {
    fn schema_name() -> Cow<'static, str> {
        "Expect".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let each = generator.subschema_for::<Expectation>();
        let mut properties = serde_json::Map::new();
        for v in reconciler_core::Variant::ALL {
            properties.insert(v.as_str().to_owned(), each.clone().into());
        }
        json_schema!({
            "description": "The expected verdict of each variant the scenario runs.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false
        })
    }
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
    /// Per-hook probability that each actor strikes.
    #[serde(default)]
    pub actors: ActorOdds,
}

/// Per-hook strike probability of each striking actor, in [0, 1], keyed by
/// the actor's name (`crate::actors`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(transparent)]
pub struct ActorOdds(pub indexmap::IndexMap<Located<String>, Located<f64>>);

impl JsonSchema for ActorOdds {
    fn schema_name() -> Cow<'static, str> {
        "ActorOdds".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut properties = serde_json::Map::new();
        for a in crate::actors::ACTORS.iter().filter(|a| a.strikes_rows()) {
            properties.insert(
                a.name.to_owned(),
                json_schema!({
                    "description": a.about,
                    "type": "number",
                    "minimum": 0.0,
                    "maximum": 1.0
                })
                .into(),
            );
        }
        json_schema!({
            "description": "Per-hook strike probability of each actor, in [0, 1].",
            "type": "object",
            "properties": properties,
            "additionalProperties": false
        })
    }
}

/// The schema of a hook point's text, with every point named.
fn hook_schema(_: &mut SchemaGenerator) -> Schema {
    let points: Vec<String> = crate::hook::Point::all()
        .map(|p| p.to_string().replace('.', "\\."))
        .collect();
    let pattern = format!("^(before|after) ({})( \\S+)?$", points.join("|"));
    json_schema!({
        "description": "`<before|after> <point> [workspace-id]`",
        "type": "string",
        "pattern": pattern
    })
}

/// The JSON Schema of scenario files, pretty-printed, as committed in
/// `scenarios/schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
