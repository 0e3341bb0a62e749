//! Semantic checks of a parsed scenario, and its compilation into a
//! [`Script`]. Every error is located at the offending node and says what
//! was expected; all of a file's errors are reported together.

use std::path::Path;
use std::time::Duration;

use indexmap::{IndexMap, IndexSet};
use reconciler_core::{Config, InstanceId, InstanceState, Status, Variant, WorkspaceId};

use super::duration::{Dur, Latency};
use super::error::ScenarioError;
use super::model::{
    ExpectSpec, FailName, HeartbeatName, Located, NetName, PauseName, PlatformName, Pos,
    ProvisionName, ReapedName, ReplicasSpec, Scenario, StateName,
};
use super::script::{Expected, Explore, HookStep, Script};
use super::syntax::{parse_action, parse_hook};
use crate::action::{Action, CpFailure};
use crate::limits::{MAX_ERRORS_SHOWN, thousands};
use crate::net::Net;
use crate::oracle::Label;
use crate::row::Row;
use crate::shared::CpOverride;
use crate::world::{HeartbeatWrites, PlatformMode, Reaped, WorldSettings};

/// Collects a file's errors.
struct Errors<'a> {
    file: &'a Path,
    source: &'a str,
    list: Vec<(Pos, String)>,
}

impl Errors<'_> {
    fn at(&mut self, at: Pos, message: impl Into<String>) {
        self.list.push((at, message.into()));
    }

    /// The errors in file order, whichever check found them: the first
    /// [`MAX_ERRORS_SHOWN`] with their source lines, then one saying how
    /// many more there are. Quoting a line scans the file, so quoting
    /// 20,000 errors of a large file took seconds; a reader stops long
    /// before.
    fn finish(mut self) -> Vec<ScenarioError> {
        self.list.sort_by_key(|(at, _)| *at);
        let total = self.list.len();
        let mut out: Vec<ScenarioError> = self
            .list
            .iter()
            .take(MAX_ERRORS_SHOWN)
            .map(|(at, m)| ScenarioError::new(self.file, self.source, *at, m.as_str()))
            .collect();
        if let Some((at, _)) = self.list.get(MAX_ERRORS_SHOWN) {
            out.push(ScenarioError::new(
                self.file,
                self.source,
                *at,
                format!(
                    "{} more errors from here on are not shown (the first {MAX_ERRORS_SHOWN} are above)",
                    thousands(u64::try_from(total - MAX_ERRORS_SHOWN).unwrap_or(u64::MAX))
                ),
            ));
        }
        out
    }
}

/// Checks `scenario` (parsed from `source`, read from `file`) and compiles
/// it; on failure, every error found.
pub fn validate(file: &Path, source: &str, s: Scenario) -> Result<Script, Vec<ScenarioError>> {
    let mut e = Errors {
        file,
        source,
        list: Vec::new(),
    };
    let name = &s.name.value;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        e.at(
            s.name.at,
            format!(
                "expected a name of [a-z0-9-]+ (e.g. orphan-sweep-after-select), found {name:?}"
            ),
        );
    }
    let variants = variants(&mut e, &s);
    let config = config(&mut e, &s);
    let fleet = fleet(&mut e, &s);
    let ids: IndexSet<WorkspaceId> = fleet.iter().map(|(r, _)| r.id.clone()).collect();
    let instances: IndexSet<InstanceId> = fleet
        .iter()
        .filter_map(|(r, _)| r.live_instance().cloned())
        .collect();
    let cp = s.cp.clone().unwrap_or_default();
    let cp_latency_ms = latency(&mut e, cp.latency.as_ref(), (20, 20));
    let mut cp_instances = IndexMap::new();
    for (id, spec) in &cp.instances {
        let instance = InstanceId(id.clone());
        if !instances.contains(&instance) {
            e.at(
                spec.at,
                format!(
                    "cp.instances names instance {id:?}, which no fleet row holds: expected one of {}",
                    list(&instances)
                ),
            );
        }
        let over = match (&spec.value.latency, spec.value.fail) {
            (Some(l), None) => Some(CpOverride::Latency(latency(&mut e, Some(l), (0, 0)))),
            (None, Some(f)) => Some(CpOverride::Fail(match f {
                FailName::Transport => CpFailure::Transport,
                FailName::Status5xx => CpFailure::Status5xx,
                FailName::Garbage => CpFailure::Garbage,
                FailName::Empty => CpFailure::EmptyState,
                FailName::Unknown => CpFailure::UnknownState,
            })),
            _ => {
                e.at(
                    spec.at,
                    "expected exactly one of `latency` or `fail` for an instance override",
                );
                None
            }
        };
        if let Some(o) = over {
            cp_instances.insert(instance, o);
        }
    }
    let store_latency_ms = latency(
        &mut e,
        s.store.as_ref().and_then(|st| st.latency.as_ref()),
        (1, 1),
    );
    let world = world(&mut e, &s, &cp);
    let phases = phases(&mut e, &s, &config);
    let passes = at_least_one(&mut e, s.passes.as_ref(), "passes").unwrap_or(1);
    let missed_dead_bound = at_least_one(&mut e, s.missed_dead_bound.as_ref(), "missed_dead_bound");
    let (timed, hooked) = steps(&mut e, &s, &ids, &instances);
    let expect = expect(&mut e, &s.expect, &variants, &ids);
    let explore = explore(&mut e, &s);
    let net = net(&mut e, &s);
    for (at, message) in super::bounds::check(&s) {
        e.at(at, message);
    }
    if !e.list.is_empty() {
        return Err(e.finish());
    }
    Ok(Script {
        file: file.to_path_buf(),
        name_at: s.name.at,
        name: s.name.value,
        about: s.about,
        variants,
        sim_only: s.sim_only,
        net,
        config,
        phases,
        world,
        fleet,
        cp_latency_ms,
        cp_instances,
        store_latency_ms,
        passes,
        missed_dead_bound,
        timed,
        hooked,
        expect,
        exhaustive: s.exhaustive.unwrap_or(false),
        explore,
    })
}

/// The first few of `items` for a message, with the count when there are
/// more: a message about a 5,000-row fleet names a handful of its ids.
fn list<T: std::fmt::Display>(items: &IndexSet<T>) -> String {
    const SHOWN: usize = 10;
    if items.is_empty() {
        return "(none)".to_owned();
    }
    let head = items
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        format!("{head}, … ({} in all)", items.len())
    } else {
        head
    }
}

/// The network mode; `turmoil` needs `sim_only` (the Postgres backend runs
/// the control plane in-process).
fn net(e: &mut Errors<'_>, s: &Scenario) -> Net {
    match &s.net {
        None => Net::InProcess,
        Some(n) => match n.value {
            NetName::InProcess => Net::InProcess,
            NetName::Turmoil => {
                if s.sim_only.is_none() {
                    e.at(
                        n.at,
                        "expected `sim_only` beside `net: turmoil` (the Postgres backend runs the control plane in-process)",
                    );
                }
                Net::Turmoil
            }
        },
    }
}

fn variants(e: &mut Errors<'_>, s: &Scenario) -> Vec<Variant> {
    let Some(listed) = &s.variants else {
        return Variant::ALL.to_vec();
    };
    if listed.value.is_empty() {
        e.at(
            listed.at,
            "expected at least one variant (or leave `variants` out for all of them)",
        );
    }
    let mut seen = IndexSet::new();
    for v in &listed.value {
        match v.value.0.parse::<Variant>() {
            Ok(variant) => {
                if !seen.insert(variant) {
                    e.at(v.at, format!("variant {variant} is listed twice"));
                }
            }
            Err(err) => e.at(v.at, err.to_string()),
        }
    }
    Variant::ALL
        .into_iter()
        .filter(|v| seen.contains(v))
        .collect()
}

/// The platform and control-plane settings, from `platform:` and `cp:`.
fn world(e: &mut Errors<'_>, s: &Scenario, cp: &super::model::CpSpec) -> WorldSettings {
    let mut w = WorldSettings::current();
    if let Some(p) = &s.platform {
        let p = &p.value;
        if let Some(m) = p.mode {
            w.platform = match m {
                PlatformName::AsMerged => PlatformMode::AsMerged,
                PlatformName::Hardened => PlatformMode::Hardened,
            };
        }
        if let Some(h) = p.heartbeat {
            w.heartbeat = match h {
                HeartbeatName::Every => HeartbeatWrites::Every,
                HeartbeatName::OnChange => HeartbeatWrites::OnChange,
            };
        }
        if let Some(pause) = p.pause {
            w.pause_stops = pause == PauseName::Stops;
        }
        if let Some(pr) = p.provision {
            w.async_provision = pr == ProvisionName::Async;
        }
    }
    if let Some(r) = cp.reaped {
        w.reaped = match r {
            ReapedName::NotFound => Reaped::NotFound,
            ReapedName::Terminated => Reaped::Terminated,
        };
    }
    if let Some(lag) = &cp.lag {
        match lag.value.std() {
            Some(d) => w.lag = d,
            None => e.at(
                lag.at,
                format!("expected a lag of zero or more, found {}", lag.value),
            ),
        }
    }
    w
}

/// When each replica starts: `replicas: N` spreads N over one interval,
/// a list gives each instant.
fn phases(e: &mut Errors<'_>, s: &Scenario, config: &Config) -> Vec<Duration> {
    let Some(spec) = &s.replicas else {
        return vec![Duration::ZERO];
    };
    match &spec.value {
        ReplicasSpec::Count(0) => {
            e.at(spec.at, "expected replicas of at least 1, found 0");
            vec![Duration::ZERO]
        }
        ReplicasSpec::Count(n) if *n > u64::from(u8::MAX) => {
            e.at(
                spec.at,
                format!("expected at most {} replicas, found {n}", u8::MAX),
            );
            vec![Duration::ZERO]
        }
        ReplicasSpec::Count(n) => {
            let interval = config.effective_interval();
            let n32 = u32::try_from(*n).unwrap_or(1);
            (0..n32).map(|k| interval * k / n32).collect()
        }
        ReplicasSpec::Phases(list) => {
            if list.is_empty() {
                e.at(spec.at, "expected at least one replica start instant");
            }
            if list.len() > usize::from(u8::MAX) {
                e.at(
                    spec.at,
                    format!(
                        "expected at most {} replicas, found {}",
                        u8::MAX,
                        list.len()
                    ),
                );
            }
            list.iter()
                .filter_map(|d| match d.value.std() {
                    Some(x) => Some(x),
                    None => {
                        e.at(
                            d.at,
                            format!("expected an instant of zero or more, found {}", d.value),
                        );
                        None
                    }
                })
                .collect()
        }
    }
}

fn positive(e: &mut Errors<'_>, d: &Located<Dur>, what: &str) -> Option<Duration> {
    match d.value.std() {
        Some(x) if !x.is_zero() => Some(x),
        _ => {
            e.at(
                d.at,
                format!("expected a positive duration for {what}, found {}", d.value),
            );
            None
        }
    }
}

fn config(e: &mut Errors<'_>, s: &Scenario) -> Config {
    let mut c = Config::default();
    let Some(spec) = &s.config else { return c };
    let v = &spec.value;
    for (field, slot, name) in [
        (&v.interval, &mut c.interval, "interval"),
        (&v.deadline, &mut c.pass_deadline, "deadline"),
        (&v.probe_timeout, &mut c.probe_timeout, "probe_timeout"),
        (
            &v.reconfirm_timeout,
            &mut c.reconfirm_timeout,
            "reconfirm_timeout",
        ),
    ] {
        if let Some(d) = field
            && let Some(x) = positive(e, d, name)
        {
            *slot = x;
        }
    }
    if let Some(l) = &v.limit {
        if l.value == 0 {
            e.at(l.at, "expected a limit of at least 1");
        } else {
            c.limit = l.value;
        }
    }
    if let Err(err) = c.validate() {
        e.at(spec.at, format!("invalid reconciler configuration: {err}"));
    }
    c
}

fn state_of(s: StateName) -> InstanceState {
    match s {
        StateName::Pending => InstanceState::Pending,
        StateName::Running => InstanceState::Running,
        StateName::Stopping => InstanceState::Stopping,
        StateName::Stopped => InstanceState::Stopped,
        StateName::ShuttingDown => InstanceState::ShuttingDown,
        StateName::Terminated => InstanceState::Terminated,
        StateName::NotFound => InstanceState::NotFound,
    }
}

fn fleet(e: &mut Errors<'_>, s: &Scenario) -> Vec<(Row, Option<InstanceState>)> {
    if s.fleet.value.is_empty() {
        e.at(s.fleet.at, "expected at least one fleet row");
    }
    let mut seen: IndexMap<String, Pos> = IndexMap::new();
    let mut instances: IndexMap<String, Pos> = IndexMap::new();
    let mut out = Vec::new();
    for (k, row) in s.fleet.value.iter().enumerate() {
        let r = &row.value;
        if let Some(first) = seen.get(&r.id.value) {
            e.at(
                r.id.at,
                format!(
                    "duplicate workspace id {:?} (first defined at line {}): expected ids unique in the fleet",
                    r.id.value, first.line
                ),
            );
        } else {
            seen.insert(r.id.value.clone(), r.id.at);
        }
        if r.id.value.is_empty() || r.id.value.contains(char::is_whitespace) {
            e.at(r.id.at, "expected a non-empty workspace id without spaces");
        }
        let instance = r.instance.as_ref().map(|i| InstanceId(i.value.clone()));
        let live = instance.as_ref().is_some_and(|i| !i.0.is_empty());
        if let Some(i) = &r.instance
            && i.value.contains(char::is_whitespace)
        {
            e.at(i.at, "expected an instance id without spaces");
        }
        // The cloud holds one state per instance and the oracle ties a probe
        // to its row through the instance, so two rows sharing an instance
        // would be a world neither the platform nor the oracle can mean.
        if let Some(i) = r.instance.as_ref().filter(|i| !i.value.is_empty()) {
            if let Some(first) = instances.get(&i.value) {
                e.at(
                    i.at,
                    format!(
                        "instance {:?} is already held by the row at line {}: expected each live instance in one row only",
                        i.value, first.line
                    ),
                );
            } else {
                instances.insert(i.value.clone(), i.at);
            }
        }
        let state = match (&r.state, live) {
            (Some(st), true) => Some(state_of(st.value)),
            (None, true) => {
                let at = r.instance.as_ref().map_or(row.at, |i| i.at);
                e.at(
                    at,
                    format!(
                        "row {:?} holds instance {:?} but has no `state`: expected its real cloud state (pending, running, stopping, stopped, shutting-down, terminated or not-found)",
                        r.id.value,
                        instance.as_ref().map(|i| i.0.clone()).unwrap_or_default()
                    ),
                );
                None
            }
            (Some(st), false) => {
                e.at(
                    st.at,
                    format!(
                        "row {:?} has a `state` but its instance is {}: a state needs a non-empty instance id",
                        r.id.value,
                        if instance.is_some() { "''" } else { "NULL" }
                    ),
                );
                None
            }
            (None, false) => None,
        };
        let updated_at = r.updated_at.as_ref().map_or_else(
            || -1000 * (i64::try_from(k).unwrap_or(i64::MAX - 1) + 1),
            |u| u.value.0,
        );
        out.push((
            Row {
                id: WorkspaceId(r.id.value.clone()),
                status: Status::parse(&r.status),
                instance,
                runtime: r.runtime.clone(),
                updated_at,
            },
            state,
        ));
    }
    out
}

fn latency(e: &mut Errors<'_>, l: Option<&Located<Latency>>, default: (u64, u64)) -> (u64, u64) {
    let Some(l) = l else { return default };
    let (lo, hi) = match l.value {
        Latency::Fixed(d) => (d, d),
        Latency::Range { min, max } => (min, max),
    };
    match (lo.millis(), hi.millis()) {
        (Some(a), Some(b)) if a <= b => (a, b),
        (Some(_), Some(_)) => {
            e.at(
                l.at,
                format!("expected min <= max in the latency range, found min {lo} > max {hi}"),
            );
            default
        }
        _ => {
            e.at(
                l.at,
                "expected a latency of zero or more, found a negative duration",
            );
            default
        }
    }
}

fn at_least_one(e: &mut Errors<'_>, v: Option<&Located<u64>>, what: &str) -> Option<u64> {
    let v = v?;
    if v.value == 0 {
        e.at(v.at, format!("expected {what} of at least 1, found 0"));
        return None;
    }
    Some(v.value)
}

fn check_refs(
    e: &mut Errors<'_>,
    at: Pos,
    action: &Action,
    ids: &IndexSet<WorkspaceId>,
    instances: &IndexSet<InstanceId>,
) {
    if let Some(w) = action.workspace()
        && !ids.contains(w)
    {
        e.at(
            at,
            format!(
                "`{action}` names workspace {:?}, which is not in the fleet: expected one of {}",
                w.0,
                list(ids)
            ),
        );
    }
    if let Some(i) = action.instance()
        && !instances.contains(i)
    {
        e.at(
            at,
            format!(
                "`{action}` names instance {:?}, which no fleet row holds: expected one of {}",
                i.0,
                list(instances)
            ),
        );
    }
}

fn steps(
    e: &mut Errors<'_>,
    s: &Scenario,
    ids: &IndexSet<WorkspaceId>,
    instances: &IndexSet<InstanceId>,
) -> (Vec<(Duration, Action)>, Vec<HookStep>) {
    let mut timed = Vec::new();
    let mut hooked = Vec::new();
    for step in &s.steps {
        let st = &step.value;
        let mut actions = Vec::new();
        if st.actions.value.0.is_empty() {
            e.at(st.actions.at, "expected at least one action in `do`");
        }
        for a in &st.actions.value.0 {
            let at = if a.at.line == 0 { st.actions.at } else { a.at };
            match parse_action(&a.value) {
                Ok(action) => {
                    check_refs(e, at, &action, ids, instances);
                    actions.push(action);
                }
                Err(msg) => e.at(at, msg),
            }
        }
        if let Some(n) = &st.nth
            && n.value == 0
        {
            e.at(
                n.at,
                "expected `nth` of at least 1 (1 = the first firing), found 0",
            );
        }
        match (&st.on, &st.at) {
            (Some(_), Some(_)) => e.at(
                step.at,
                "a step has both `on` and `at`: expected exactly one (a hook point or an instant)",
            ),
            (None, None) => e.at(
                step.at,
                "a step has neither `on` nor `at`: expected exactly one (a hook point or an instant)",
            ),
            (Some(on), None) => {
                let nth = st.nth.as_ref().map_or(1, |n| n.value.max(1));
                match parse_hook(&on.value) {
                    Ok((hook, ws)) => {
                        if let Some(w) = &ws
                            && !ids.contains(w)
                        {
                            e.at(
                                on.at,
                                format!(
                                    "hook filter names workspace {:?}, which is not in the fleet: expected one of {}",
                                    w.0,
                                    list(ids)
                                ),
                            );
                        }
                        hooked.push(HookStep {
                            hook,
                            ws,
                            nth,
                            actions,
                        });
                    }
                    Err(msg) => e.at(on.at, msg),
                }
            }
            (None, Some(at)) => {
                if let Some(n) = &st.nth {
                    e.at(n.at, "`nth` only applies to a step with `on`: expected no `nth` with `at`");
                }
                match at.value.std() {
                    Some(d) => timed.extend(actions.into_iter().map(|a| (d, a))),
                    None => e.at(
                        at.at,
                        format!("expected an instant of zero or more since the start, found {}", at.value),
                    ),
                }
            }
        }
    }
    (timed, hooked)
}

fn expect(
    e: &mut Errors<'_>,
    spec: &Located<ExpectSpec>,
    variants: &[Variant],
    ids: &IndexSet<WorkspaceId>,
) -> IndexMap<Variant, Expected> {
    let mut out = IndexMap::new();
    let mut given: IndexMap<Variant, &Located<super::model::Expectation>> = IndexMap::new();
    for (name, x) in &spec.value.0 {
        match name.value.parse::<Variant>() {
            Ok(v) if variants.contains(&v) => {
                given.insert(v, x);
            }
            Ok(v) => e.at(
                name.at,
                format!("`expect` has an entry for {v}, which `variants` does not list"),
            ),
            Err(err) => e.at(name.at, err.to_string()),
        }
    }
    for &variant in variants {
        let Some(x) = given.get(&variant) else {
            e.at(
                spec.at,
                format!(
                    "`expect` has no entry for {variant}: expected one entry per listed variant"
                ),
            );
            continue;
        };
        let mut flips = Vec::new();
        for f in &x.value.flips {
            let w = WorkspaceId(f.value.clone());
            if !ids.contains(&w) {
                e.at(
                    f.at,
                    format!(
                        "expected flip of {:?}, which is not in the fleet: expected one of {}",
                        f.value,
                        list(ids)
                    ),
                );
            }
            flips.push(w);
        }
        flips.sort();
        let mut violations = Vec::new();
        for v in &x.value.violations {
            match v.value.parse::<Label>() {
                Ok(l) => violations.push(l),
                Err(msg) => e.at(v.at, msg),
            }
        }
        out.insert(variant, Expected { flips, violations });
    }
    out
}

fn explore(e: &mut Errors<'_>, s: &Scenario) -> Option<Explore> {
    let spec = s.explore.as_ref()?;
    let v = &spec.value;
    if v.seeds.value == 0 {
        e.at(v.seeds.at, "expected at least 1 seed, found 0");
    }
    let mut actors = Vec::new();
    for (name, p) in &v.actors.0 {
        let Some(actor) = crate::actors::by_name(&name.value).filter(|a| a.strikes_rows()) else {
            let names: Vec<&str> = crate::actors::ACTORS
                .iter()
                .filter(|a| a.strikes_rows())
                .map(|a| a.name)
                .collect();
            e.at(
                name.at,
                format!(
                    "unknown actor {:?} in `explore.actors`: expected one of {}",
                    name.value,
                    names.join(", ")
                ),
            );
            continue;
        };
        if (0.0..=1.0).contains(&p.value) {
            actors.push((actor, p.value));
        } else {
            e.at(
                p.at,
                format!("expected a probability in [0, 1], found {}", p.value),
            );
        }
    }
    Some(Explore {
        seeds: v.seeds.value,
        actors,
    })
}
