//! A scenario's run on Postgres: the script scaled to real time, the same
//! director, the same oracle and the same judgement as `sim run`'s.

use std::time::Duration;

use pg_store::Connected;
use reconciler_core::{Config, Variant};

use super::{PgOutcome, TIME_SCALE, run_world_pg};
use crate::action::Action;
use crate::run::{Outcome, Setup, finish, judged_trace};
use crate::scenario::{
    Firing, Script, ScriptDirector, Verdict, judge, script_rules, script_setup_timed,
};
use crate::shared::CpOverride;
use crate::trace::{Keep, Tracer};
use crate::world::Timing;

/// One scenario run on Postgres.
#[derive(Clone, Debug)]
pub struct PgScriptRun {
    /// Trace (at scaled times) and violations.
    pub outcome: Outcome,
    /// Every hook firing, in order.
    pub firings: Vec<Firing>,
    /// The comparison with the script's expectation.
    pub verdict: Verdict,
    /// Where Postgres and the simulated table disagreed (none, normally).
    pub divergences: Vec<String>,
    /// Statements that raced with the model ([`super::PgOutcome::raced`]).
    pub raced: u32,
}

fn ms(v: u64) -> u64 {
    v / u64::from(TIME_SCALE)
}

fn ms_range((lo, hi): (u64, u64)) -> (u64, u64) {
    (ms(lo), ms(hi))
}

fn scale(d: Duration) -> Duration {
    d / TIME_SCALE
}

fn scale_action(a: &Action) -> Action {
    match a {
        Action::CpSlow { latency_ms, for_ms } => Action::CpSlow {
            latency_ms: ms(*latency_ms),
            for_ms: ms(*for_ms),
        },
        Action::CpPartition { for_ms } => Action::CpPartition {
            for_ms: ms(*for_ms),
        },
        other => other.clone(),
    }
}

/// `script` with every duration divided by [`TIME_SCALE`]: the
/// reconciler's configuration, latencies, timed steps' instants, the
/// durations inside actions, and the fleet's `updated_at` offsets (so that
/// the candidate order against later writes is kept).
pub fn scaled(script: &Script) -> Script {
    let mut s = script.clone();
    let c = &script.config;
    s.config = Config {
        interval: scale(c.effective_interval()),
        pass_deadline: scale(c.pass_deadline),
        probe_timeout: scale(c.probe_timeout),
        reconfirm_timeout: scale(c.reconfirm_timeout),
        limit: c.limit,
        not_found_quiet: scale(c.not_found_quiet),
    };
    s.phases = script.phases.iter().map(|p| scale(*p)).collect();
    s.world.lag = scale(script.world.lag);
    s.cp_latency_ms = ms_range(script.cp_latency_ms);
    s.store_latency_ms = ms_range(script.store_latency_ms);
    for o in s.cp_instances.values_mut() {
        if let CpOverride::Latency(range) = o {
            *range = ms_range(*range);
        }
    }
    for (at, a) in &mut s.timed {
        *at = scale(*at);
        *a = scale_action(a);
    }
    for step in &mut s.hooked {
        for a in &mut step.actions {
            *a = scale_action(a);
        }
    }
    for (row, _) in &mut s.fleet {
        row.updated_at /= i64::from(TIME_SCALE);
    }
    s
}

/// The world of an already [`scaled`] script, with the cloud's and the
/// platform's delays scaled too, writing to `trace`. Call it inside the
/// run's runtime (the world reads the clock).
fn setup(script: &Script, director: ScriptDirector, trace: Tracer) -> Setup {
    let d = Timing::default();
    let timing = Timing {
        boot_ms: ms_range(d.boot_ms),
        stop_ms: ms_range(d.stop_ms),
        shutdown_ms: ms_range(d.shutdown_ms),
        reap_ms: ms(d.reap_ms),
        restart_wait_ms: ms(d.restart_wait_ms),
    };
    script_setup_timed(script, Box::new(director), timing, trace)
}

/// Runs `script` against `variant` on `db` (whose tables must be empty) and
/// judges it as `sim run` does. Call it inside [`super::pg_runtime`].
pub async fn run_script_pg(
    script: &Script,
    variant: Variant,
    db: &Connected,
) -> Result<PgScriptRun, sqlx::Error> {
    let script = scaled(script);
    let director = ScriptDirector::new(script.hooked.clone());
    let log = director.firings();
    let mut rules = script_rules(&script);
    // The last write's slack, scaled like everything else.
    rules.overrun_tolerance = scale(rules.overrun_tolerance);
    let (trace, oracle) = judged_trace(rules, variant, Keep::All, Vec::new());
    let PgOutcome {
        world,
        divergences,
        raced,
    } = run_world_pg(
        variant,
        script.config.clone(),
        setup(&script, director, trace),
        db,
    )
    .await?;
    let outcome: Outcome = finish(world, oracle);
    let expected = script.expect.get(&variant).cloned().unwrap_or_default();
    let verdict = judge(variant, &expected, &outcome);
    let firings = log.borrow().clone();
    Ok(PgScriptRun {
        outcome,
        firings,
        verdict,
        divergences,
        raced,
    })
}
