//! Conformance: every scenario of the corpus (`scenarios/`) that can run on
//! Postgres runs there, and must give the same flips and the same verdict
//! (violation labels, expectation met or not) per variant as on the
//! simulated store — and Postgres must agree with the simulated table on
//! every statement of the run (`sim::postgres` checks each one).
//! Scenarios that say `sim_only:` are listed, not run.
//!
//! Postgres runs go in real time, scaled (`sim::postgres::TIME_SCALE`), so
//! this test takes about a second per scenario pass. On the real clock the
//! platform's flows, the cloud's delays and the reconciler's timeouts run
//! side by side, and a busy machine moves where they fall (a platform step
//! can even land in the model while a reconciler statement is in flight:
//! the run counts these races). A scenario × variant that disagrees is run
//! again, up to [`ATTEMPTS`] times, and fails only if every attempt
//! disagrees: the store's semantics do not change between attempts, the
//! machine's load does (docs/decisions.md, "Flows on the Postgres
//! backend"). nextest gives this test the whole machine
//! (`.config/nextest.toml`).

use std::path::PathBuf;

use sim::postgres::{pg_runtime, run_script_pg};
use sim::run::sim_runtime;
use sim::scenario::{collect_files, load_all, run_script};

use crate::support::postgres::test_db;

/// Runs of one scenario × variant on Postgres before a disagreement counts.
const ATTEMPTS: u32 = 3;

/// The corpus.
fn corpus() -> Vec<sim::scenario::Script> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    let files = collect_files(&[root]).expect("the corpus folder is readable");
    load_all(&files).unwrap_or_else(|errors| {
        panic!(
            "the corpus does not load:\n{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

#[test]
fn every_postgres_capable_scenario_agrees_with_the_simulation() {
    let scripts = corpus();
    let pg = pg_runtime();
    // A container started by testcontainers stops in its `Drop`, which
    // needs a tokio context: keep `pg`'s entered until `t` is dropped
    // (declared after it, so dropped before it, on success or panic).
    let _pg_context = pg.enter();
    let t = pg.block_on(test_db());
    let sim = sim_runtime();
    let mut ran = 0;
    let mut disagreements = Vec::new();
    for script in &scripts {
        if let Some(why) = &script.sim_only {
            println!(
                "sim only: {} ({}): {why}",
                script.name,
                script.file.display()
            );
            continue;
        }
        for &variant in &script.variants {
            let on_sim = run_script(&sim, script, variant).verdict;
            ran += 1;
            let mut attempt = 0;
            let (on_pg, same) = loop {
                attempt += 1;
                let on_pg = pg
                    .block_on(async {
                        pg_store::empty(&t.db.admin)
                            .await
                            .expect("emptying the tables");
                        run_script_pg(script, variant, &t.db).await
                    })
                    .unwrap_or_else(|e| panic!("{} / {variant}: {e}", script.name));
                let same = on_pg.verdict.flips == on_sim.flips
                    && on_pg.verdict.labels == on_sim.labels
                    && on_pg.verdict.met() == on_sim.met()
                    && on_pg.divergences.is_empty();
                if same || attempt == ATTEMPTS {
                    break (on_pg, same);
                }
                println!(
                    "{} / {variant}: differs in attempt {attempt} of {ATTEMPTS} ({} statement(s) raced with the real clock): again",
                    script.name, on_pg.raced
                );
            };
            println!(
                "{} / {variant}: flips {:?} labels {:?} {}",
                script.name,
                on_pg.verdict.flips,
                on_pg.verdict.labels,
                if same { "same as sim" } else { "DIFFERS" }
            );
            if !same {
                let raced = format!(
                    " (in all {ATTEMPTS} attempts; the last had {} statement(s) racing with the real clock)",
                    on_pg.raced
                );
                disagreements.push(format!(
                    "{} / {variant}: sim flips {:?} labels {:?} met {}; postgres flips {:?} labels {:?} met {}{raced}",
                    script.name,
                    on_sim.flips,
                    on_sim.labels,
                    on_sim.met(),
                    on_pg.verdict.flips,
                    on_pg.verdict.labels,
                    on_pg.verdict.met()
                ));
                for d in &on_pg.divergences {
                    disagreements.push(format!("{} / {variant}: {d}", script.name));
                }
            }
        }
    }
    assert!(ran > 0, "no scenario ran on Postgres");
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s) between the simulated store and Postgres:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
