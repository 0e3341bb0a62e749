//! Go's derived-context timeouts, on `tokio::time`.
//!
//! A per-call timeout derived from a cycle context expires at the earlier of
//! its own limit and the cycle's deadline; this type computes that instant so
//! that every variant applies the same rule (and the simulator's paused clock
//! drives it).

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// The instant a pass must stop processing rows, if any.
#[derive(Clone, Copy, Debug)]
pub struct PassDeadline(Option<Instant>);

/// A call that did not finish in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed;

impl PassDeadline {
    /// No cycle deadline (`legacy`).
    pub fn none() -> Self {
        Self(None)
    }

    /// A deadline `after` from now.
    pub fn after(after: Duration) -> Self {
        Self(Some(Instant::now() + after))
    }

    /// True once the deadline has passed.
    pub fn passed(&self) -> bool {
        self.0.is_some_and(|d| Instant::now() >= d)
    }

    /// Runs `fut` under the pass deadline alone (a statement issued with the
    /// cycle context itself, like the candidate query); with no deadline it
    /// simply runs.
    pub async fn bound<F: Future>(&self, fut: F) -> Result<F::Output, Elapsed> {
        match self.0 {
            Some(at) => tokio::time::timeout_at(at, fut).await.map_err(|_| Elapsed),
            None => Ok(fut.await),
        }
    }

    /// Runs `fut` under a timeout of `limit`, capped by the pass deadline.
    pub async fn run<F: Future>(&self, limit: Duration, fut: F) -> Result<F::Output, Elapsed> {
        let own = Instant::now() + limit;
        let at = self.0.map_or(own, |d| d.min(own));
        tokio::time::timeout_at(at, fut).await.map_err(|_| Elapsed)
    }
}
