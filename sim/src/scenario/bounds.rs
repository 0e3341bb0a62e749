//! The counts and sizes a parsed scenario may hold (the maxima of
//! [`crate::limits`]), checked with its other semantic errors so that a file
//! that asks for too much is refused, located, before anything runs.
//!
//! Separate from `validate`'s checks of meaning on purpose: a new field
//! with a count adds its bound here, and `validate` calls [`check`] once.
//! Durations are bounded where they are parsed (`Dur::parse`), and the
//! file's size and nesting while it is read (`budget`).

use super::model::{Pos, Scenario};
use crate::limits::{
    MAX_ACTIONS, MAX_EXPECTED, MAX_FILE_SEEDS, MAX_FLEET_ROWS, MAX_ID_CHARS, MAX_NTH, MAX_PASSES,
    MAX_ROW_PASSES, MAX_STEPS, thousands,
};

/// Every bound `s` exceeds, as (where, what) in file order.
pub fn check(s: &Scenario) -> Vec<(Pos, String)> {
    let mut out = Vec::new();
    text(&mut out, &s.name.value, s.name.at, "a scenario name");
    fleet(&mut out, s);
    counts(&mut out, s);
    steps(&mut out, s);
    expectations(&mut out, s);
    out.sort_by_key(|(at, _)| *at);
    out
}

/// `n` of `what` over `max`, as a sentence naming the maximum.
fn over(what: &str, n: u64, max: u64) -> String {
    format!(
        "{what} is {}: the maximum is {}",
        thousands(n),
        thousands(max)
    )
}

fn len(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn text(out: &mut Vec<(Pos, String)>, value: &str, at: Pos, what: &str) {
    let chars = len(value.chars().count());
    if chars > MAX_ID_CHARS {
        out.push((
            at,
            format!(
                "{what} has {} characters: the maximum is {MAX_ID_CHARS}",
                thousands(chars)
            ),
        ));
    }
}

fn fleet(out: &mut Vec<(Pos, String)>, s: &Scenario) {
    let rows = len(s.fleet.value.len());
    if rows > MAX_FLEET_ROWS {
        out.push((
            s.fleet.at,
            over("the fleet's number of rows", rows, MAX_FLEET_ROWS),
        ));
        // One error for the fleet is enough; its rows are not looked at.
        return;
    }
    for row in &s.fleet.value {
        let r = &row.value;
        text(out, &r.id.value, r.id.at, "a workspace id");
        if let Some(i) = &r.instance {
            text(out, &i.value, i.at, "an instance id");
        }
        // Status and runtime carry no position of their own: their row's.
        text(out, &r.status, row.at, "a status");
        if let Some(runtime) = &r.runtime {
            text(out, runtime, row.at, "a runtime");
        }
    }
}

fn counts(out: &mut Vec<(Pos, String)>, s: &Scenario) {
    let rows = len(s.fleet.value.len());
    if let Some(p) = &s.passes {
        if p.value > MAX_PASSES {
            out.push((
                p.at,
                format!(
                    "{} (a simulated week at the default 60s interval)",
                    over("passes", p.value, MAX_PASSES)
                ),
            ));
        } else if rows <= MAX_FLEET_ROWS && p.value.saturating_mul(rows) > MAX_ROW_PASSES {
            out.push((
                p.at,
                format!(
                    "passes × fleet rows is {} × {} = {}: the maximum is {} (a run may probe \
                     every row in every pass)",
                    thousands(p.value),
                    thousands(rows),
                    thousands(p.value * rows),
                    thousands(MAX_ROW_PASSES)
                ),
            ));
        }
    }
    if let Some(b) = &s.missed_dead_bound
        && b.value > MAX_PASSES
    {
        out.push((b.at, over("missed_dead_bound", b.value, MAX_PASSES)));
    }
    if let Some(c) = &s.config
        && let Some(l) = &c.value.limit
        && u64::from(l.value) > MAX_FLEET_ROWS
    {
        out.push((
            l.at,
            format!(
                "{} (the most rows a fleet holds)",
                over("limit", u64::from(l.value), MAX_FLEET_ROWS)
            ),
        ));
    }
    if let Some(e) = &s.explore
        && e.value.seeds.value > MAX_FILE_SEEDS
    {
        out.push((
            e.value.seeds.at,
            over("explore seeds", e.value.seeds.value, MAX_FILE_SEEDS),
        ));
    }
}

fn steps(out: &mut Vec<(Pos, String)>, s: &Scenario) {
    let n = len(s.steps.len());
    if let Some(first_over) = s
        .steps
        .get(usize::try_from(MAX_STEPS).unwrap_or(usize::MAX))
    {
        out.push((first_over.at, over("the number of steps", n, MAX_STEPS)));
        return;
    }
    let mut actions: u64 = 0;
    let mut reported = false;
    for step in &s.steps {
        let st = &step.value;
        actions += len(st.actions.value.0.len());
        if actions > MAX_ACTIONS && !reported {
            reported = true;
            out.push((
                st.actions.at,
                format!(
                    "the steps hold more than {} actions by here: the maximum is {} in all",
                    thousands(MAX_ACTIONS),
                    thousands(MAX_ACTIONS)
                ),
            ));
        }
        if let Some(nth) = &st.nth
            && nth.value > MAX_NTH
        {
            out.push((nth.at, over("nth", nth.value, MAX_NTH)));
        }
    }
}

fn expectations(out: &mut Vec<(Pos, String)>, s: &Scenario) {
    let e = &s.expect.value;
    for x in e.0.values() {
        for (list, what) in [
            (&x.value.flips, "expected flips"),
            (&x.value.violations, "expected violations"),
        ] {
            if let Some(first_over) = list.get(usize::try_from(MAX_EXPECTED).unwrap_or(usize::MAX))
            {
                out.push((
                    first_over.at,
                    over(
                        &format!("the number of {what}"),
                        len(list.len()),
                        MAX_EXPECTED,
                    ),
                ));
            }
        }
    }
}
