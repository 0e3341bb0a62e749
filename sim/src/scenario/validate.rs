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
    ExpectSpec, Expectation, FailName, Located, Pos, Scenario, StateName, VariantName,
};
use super::script::{Expected, Explore, HookStep, Label, Script};
use super::syntax::{parse_action, parse_hook};
use crate::action::{Action, CpFailure};
use crate::director::Adversary;
use crate::oracle::Kind;
use crate::row::Row;
use crate::shared::CpOverride;

/// Collects a file's errors.
struct Errors<'a> {
    file: &'a Path,
    source: &'a str,
    list: Vec<ScenarioError>,
}

impl Errors<'_> {
    fn at(&mut self, at: Pos, message: impl Into<String>) {
        self.list
            .push(ScenarioError::new(self.file, self.source, at, message));
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
    let passes = at_least_one(&mut e, s.passes.as_ref(), "passes").unwrap_or(1);
    let missed_dead_bound = at_least_one(&mut e, s.missed_dead_bound.as_ref(), "missed_dead_bound");
    let (timed, hooked) = steps(&mut e, &s, &ids, &instances);
    let expect = expect(&mut e, &s.expect, &variants, &ids);
    let explore = explore(&mut e, &s);
    if !e.list.is_empty() {
        // In file order, whichever check found them.
        e.list.sort_by_key(|x| x.at);
        return Err(e.list);
    }
    Ok(Script {
        file: file.to_path_buf(),
        name_at: s.name.at,
        name: s.name.value,
        about: s.about,
        variants,
        sim_only: s.sim_only,
        config,
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

fn list<T: std::fmt::Display>(items: &IndexSet<T>) -> String {
    if items.is_empty() {
        return "(none)".to_owned();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn variant_of(v: VariantName) -> Variant {
    match v {
        VariantName::Legacy => Variant::Legacy,
        VariantName::Pr2283 => Variant::Pr2283,
        VariantName::Hardened => Variant::Hardened,
    }
}

fn variants(e: &mut Errors<'_>, s: &Scenario) -> Vec<Variant> {
    let Some(listed) = &s.variants else {
        return Variant::ALL.to_vec();
    };
    if listed.value.is_empty() {
        e.at(
            listed.at,
            "expected at least one variant (or leave `variants` out for all three)",
        );
    }
    let mut seen = IndexSet::new();
    for v in &listed.value {
        if !seen.insert(variant_of(v.value)) {
            e.at(
                v.at,
                format!("variant {} is listed twice", variant_of(v.value)),
            );
        }
    }
    Variant::ALL
        .into_iter()
        .filter(|v| seen.contains(v))
        .collect()
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
    if let Action::Terminate(i) | Action::Stop(i) | Action::Start(i) = action
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

fn label(text: &str) -> Result<Label, String> {
    let (kind, sub) = match text.split_once('/') {
        Some((k, s)) => (k, Some(s)),
        None => (text, None),
    };
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = Kind::parse(kind).ok_or_else(|| {
        format!(
            "unknown violation kind {kind:?}: expected one of {}",
            names.join(", ")
        )
    })?;
    if let Some(s) = sub
        && !kind.subs().contains(&s)
    {
        return Err(format!(
            "unknown sub-reason {s:?} of {kind}: expected one of {}",
            kind.subs().join(", ")
        ));
    }
    Ok(Label {
        kind,
        sub: sub.map(str::to_owned),
    })
}

fn expect(
    e: &mut Errors<'_>,
    spec: &Located<ExpectSpec>,
    variants: &[Variant],
    ids: &IndexSet<WorkspaceId>,
) -> IndexMap<Variant, Expected> {
    let mut out = IndexMap::new();
    let entries: [(Variant, &Option<Located<Expectation>>); 3] = [
        (Variant::Legacy, &spec.value.legacy),
        (Variant::Pr2283, &spec.value.pr2283),
        (Variant::Hardened, &spec.value.hardened),
    ];
    for (variant, entry) in entries {
        match (variants.contains(&variant), entry) {
            (true, None) => e.at(
                spec.at,
                format!(
                    "`expect` has no entry for {variant}: expected one entry per listed variant"
                ),
            ),
            (false, Some(x)) => e.at(
                x.at,
                format!("`expect` has an entry for {variant}, which `variants` does not list"),
            ),
            (false, None) => {}
            (true, Some(x)) => {
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
                    match label(&v.value) {
                        Ok(l) => violations.push(l),
                        Err(msg) => e.at(v.at, msg),
                    }
                }
                out.insert(variant, Expected { flips, violations });
            }
        }
    }
    out
}

fn explore(e: &mut Errors<'_>, s: &Scenario) -> Option<Explore> {
    let spec = s.explore.as_ref()?;
    let v = &spec.value;
    if v.seeds.value == 0 {
        e.at(v.seeds.at, "expected at least 1 seed, found 0");
    }
    let odds = &v.adversaries;
    let mut adversaries = Vec::new();
    for (adv, p) in [
        (Adversary::Delete, &odds.delete),
        (Adversary::OrphanSweep, &odds.orphan_sweep),
        (Adversary::Reprovision, &odds.reprovision),
        (Adversary::Heartbeat, &odds.heartbeat),
        (Adversary::Pause, &odds.pause),
        (Adversary::CloudTerminate, &odds.terminate),
        (Adversary::CloudStop, &odds.stop),
    ] {
        if let Some(p) = p {
            if (0.0..=1.0).contains(&p.value) {
                adversaries.push((adv, p.value));
            } else {
                e.at(
                    p.at,
                    format!("expected a probability in [0, 1], found {}", p.value),
                );
            }
        }
    }
    Some(Explore {
        seeds: v.seeds.value,
        adversaries,
    })
}
