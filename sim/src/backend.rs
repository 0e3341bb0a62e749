//! Where `sim run` keeps the reconciler's store: the simulated table, or a
//! scratch database on a real Postgres. The choice, the scratch database's
//! life (created once, reset per run, dropped at the end) and folding
//! Postgres's disagreements with the simulated table into the verdict live
//! here, so that any driver — the CLI, a test — runs scenarios the same way.

use std::fmt;
use std::str::FromStr;

use reconciler_core::Variant;

use crate::scenario::{Script, ScriptRun};

/// The store backends `sim run` knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// The simulated table (no setup).
    #[default]
    Sim,
    /// A real Postgres, from `DATABASE_URL` (a build with the `postgres`
    /// feature).
    Postgres,
}

impl Backend {
    /// Every backend, as named on the command line.
    pub const ALL: [Backend; 2] = [Backend::Sim, Backend::Postgres];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sim => "sim",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Backend::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| format!("unknown backend {s:?}: expected sim or postgres"))
    }
}

/// Runs scripts on the chosen backend.
pub enum Runner {
    /// The simulated store, on the paused runtime.
    Sim,
    /// A scratch database on the user's Postgres.
    #[cfg(feature = "postgres")]
    Postgres(Box<(tokio::runtime::Runtime, Option<crate::postgres::Scratch>)>),
}

impl Runner {
    /// A runner for `backend`; for Postgres, creates the scratch database
    /// (or says why it cannot).
    pub fn new(backend: Backend) -> Result<Self, String> {
        match backend {
            Backend::Sim => Ok(Runner::Sim),
            Backend::Postgres => Self::postgres(),
        }
    }

    #[cfg(not(feature = "postgres"))]
    fn postgres() -> Result<Self, String> {
        Err(
            "this sim was built without the Postgres backend; build it with the `postgres` \
             feature: cargo run -p sim --features postgres -- run --backend postgres PATH..."
                .to_owned(),
        )
    }

    /// Creates the scratch database on DATABASE_URL's server.
    #[cfg(feature = "postgres")]
    fn postgres() -> Result<Self, String> {
        let url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .ok_or(
                "--backend postgres needs DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DB \
             (a role with CREATEDB: a scratch database is created and dropped)",
            )?;
        let rt = crate::postgres::pg_runtime();
        let scratch = rt
            .block_on(crate::postgres::Scratch::create(&url))
            .map_err(|e| format!("cannot use the Postgres server at DATABASE_URL: {e}"))?;
        Ok(Runner::Postgres(Box::new((rt, Some(scratch)))))
    }

    /// One run; on Postgres, a divergence from the simulated table counts as
    /// an unmet expectation.
    pub fn run(
        &mut self,
        sim_rt: &tokio::runtime::Runtime,
        script: &Script,
        variant: Variant,
    ) -> Result<ScriptRun, String> {
        match self {
            Runner::Sim => Ok(crate::scenario::run_script(sim_rt, script, variant)),
            #[cfg(feature = "postgres")]
            Runner::Postgres(pg) => {
                let (rt, scratch) = &**pg;
                let scratch = scratch.as_ref().ok_or("the scratch database is gone")?;
                let run = rt
                    .block_on(async {
                        scratch.reset().await?;
                        crate::postgres::run_script_pg(script, variant, &scratch.db).await
                    })
                    .map_err(|e| format!("Postgres: {e}"))?;
                let mut verdict = run.verdict;
                let raced = if run.raced > 0 && !run.divergences.is_empty() {
                    format!(
                        " ({} of the reconciler's statements raced with a platform step on the real clock; run it again before suspecting the store)",
                        run.raced
                    )
                } else {
                    String::new()
                };
                verdict.differences.extend(
                    run.divergences
                        .into_iter()
                        .map(|d| format!("Postgres and the simulated table disagree: {d}{raced}")),
                );
                Ok(ScriptRun {
                    outcome: run.outcome,
                    firings: run.firings,
                    verdict,
                })
            }
        }
    }

    /// Drops the scratch database, if there is one.
    pub fn finish(&mut self) {
        #[cfg(feature = "postgres")]
        if let Runner::Postgres(pg) = self
            && let (rt, Some(scratch)) = (&pg.0, pg.1.take())
        {
            let name = scratch.name().to_owned();
            if let Err(e) = rt.block_on(scratch.drop_database()) {
                eprintln!("note: could not drop the scratch database {name}: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_parse_by_their_names_and_nothing_else() {
        for b in Backend::ALL {
            assert_eq!(b.as_str().parse::<Backend>(), Ok(b));
        }
        let err = "mysql".parse::<Backend>().unwrap_err();
        assert!(err.contains("expected sim or postgres"), "{err}");
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn postgres_without_the_feature_says_how_to_build_it() {
        let Err(e) = Runner::new(Backend::Postgres) else {
            panic!("a runner without the postgres feature")
        };
        assert!(e.contains("--features postgres"), "{e}");
    }
}
