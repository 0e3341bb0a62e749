//! Writes a [`Script`] as a scenario file: a small emitter rather than
//! serde, because the scenario model is deserialize-only (its values carry
//! source positions) and a found scenario should read like a hand-written
//! one (flow-style rows, one step per hook firing). The output is checked
//! by parsing it back with the real parser.

use std::fmt::Write as _;

use std::time::Duration;

use crate::row::Row;
use crate::scenario::Script;
use crate::scenario::duration::Dur;
use crate::world::{Reaped, WorldSettings};

fn dur(d: Duration) -> String {
    Dur(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).to_string()
}

/// The `platform:` block's fields that differ from the default platform.
fn platform(w: &WorldSettings) -> Vec<String> {
    let d = WorldSettings::current();
    let mut out = Vec::new();
    if w.platform != d.platform {
        out.push(format!("mode: {}", w.platform.as_str()));
    }
    if w.heartbeat != d.heartbeat {
        out.push(format!("heartbeat: {}", w.heartbeat.as_str()));
    }
    if w.pause_stops != d.pause_stops {
        out.push(format!(
            "pause: {}",
            if w.pause_stops {
                "stops"
            } else {
                "status-only"
            }
        ));
    }
    if w.async_provision != d.async_provision {
        out.push(format!(
            "provision: {}",
            if w.async_provision { "async" } else { "sync" }
        ));
    }
    out
}

/// A latency range as the language writes it.
fn latency((lo, hi): (u64, u64)) -> String {
    let d = |ms: u64| Dur(i64::try_from(ms).unwrap_or(i64::MAX)).to_string();
    if lo == hi {
        d(lo)
    } else {
        format!("{{ min: {}, max: {} }}", d(lo), d(hi))
    }
}

/// Row `k` (0-based) of the fleet; `updated_at` is left out when it is the
/// language's default for that position, `-(k+1)s`.
fn row(k: usize, r: &Row, state: Option<reconciler_core::InstanceState>) -> String {
    let mut s = format!("{{ id: {}, status: {}", r.id, r.status);
    match &r.instance {
        None => s.push_str(", instance: null"),
        Some(i) if i.0.is_empty() => s.push_str(", instance: ''"),
        Some(i) => {
            let _ = write!(s, ", instance: {i}");
        }
    }
    if let Some(st) = state {
        let _ = write!(s, ", state: {st}");
    }
    if let Some(rt) = &r.runtime {
        let _ = write!(s, ", runtime: {rt}");
    }
    let default = -1000 * (i64::try_from(k).unwrap_or(i64::MAX / 1000 - 1) + 1);
    if r.updated_at != default {
        let _ = write!(s, ", updated_at: {}", Dur(r.updated_at));
    }
    s.push_str(" }");
    s
}

/// The scenario text of `script`, under a comment `header` (each line
/// prefixed with `# `).
pub fn emit(script: &Script, header: &[String]) -> String {
    let mut y = String::from("# yaml-language-server: $schema=../schema.json\n");
    for line in header {
        let _ = writeln!(y, "# {line}");
    }
    let _ = writeln!(y, "name: {}", script.name);
    let _ = writeln!(y, "about: >\n  {}", script.about);
    let variants: Vec<String> = script.variants.iter().map(ToString::to_string).collect();
    let _ = writeln!(y, "variants: [{}]", variants.join(", "));
    if let Some(why) = &script.sim_only {
        let _ = writeln!(y, "sim_only: \"{}\"", why.replace('"', "'"));
    }
    y.push_str("fleet:\n");
    for (k, (r, state)) in script.fleet.iter().enumerate() {
        let _ = writeln!(y, "  - {}", row(k, r, *state));
    }
    let mut cp = vec![format!("latency: {}", latency(script.cp_latency_ms))];
    if script.world.reaped != Reaped::NotFound {
        cp.push(format!("reaped: {}", script.world.reaped.as_str()));
    }
    if !script.world.lag.is_zero() {
        cp.push(format!("lag: {}", dur(script.world.lag)));
    }
    let _ = writeln!(y, "cp: {{ {} }}", cp.join(", "));
    let p = platform(&script.world);
    if !p.is_empty() {
        let _ = writeln!(y, "platform: {{ {} }}", p.join(", "));
    }
    if script.phases.len() > 1 || script.phases.iter().any(|p| !p.is_zero()) {
        let phases: Vec<String> = script.phases.iter().map(|p| dur(*p)).collect();
        let _ = writeln!(y, "replicas: [{}]", phases.join(", "));
    }
    let _ = writeln!(
        y,
        "store: {{ latency: {} }}",
        latency(script.store_latency_ms)
    );
    let _ = writeln!(y, "passes: {}", script.passes);
    if !script.hooked.is_empty() || !script.timed.is_empty() {
        y.push_str("steps:\n");
    }
    for step in &script.hooked {
        let on = match &step.ws {
            Some(w) => format!("{} {w}", step.hook),
            None => step.hook.to_string(),
        };
        let actions: Vec<String> = step.actions.iter().map(ToString::to_string).collect();
        let _ = writeln!(y, "  - on: {on}");
        if step.nth != 1 {
            let _ = writeln!(y, "    nth: {}", step.nth);
        }
        let _ = writeln!(y, "    do: [{}]", actions.join(", "));
    }
    for (at, action) in &script.timed {
        let _ = writeln!(y, "  - at: {}\n    do: {action}", dur(*at));
    }
    y.push_str("expect:\n");
    for (variant, e) in &script.expect {
        let flips: Vec<String> = e.flips.iter().map(ToString::to_string).collect();
        let labels: Vec<String> = e.violations.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            y,
            "  {variant}: {{ flips: [{}], violations: [{}] }}",
            flips.join(", "),
            labels.join(", ")
        );
    }
    y
}
