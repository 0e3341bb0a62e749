//! `pg-store` against a real Postgres: the reconciler's statements, the
//! guarded flip under real row locks, connection kills mid-pass, and the
//! audit trail.
//!
//! Postgres is found as `support::postgres` describes (`DATABASE_URL`, else a
//! testcontainers container from `RECONCILER_SIM_PG_IMAGE`, else a failure
//! that says how to provide one). Every test gets its own database.
//!
//! All tests run on tokio's real clock: a paused clock would auto-advance
//! while a task waits on the Postgres socket and fire the reconciler's
//! timeouts before the server answers.

#[path = "../support/mod.rs"]
mod support;

mod audit;
mod candidates;
mod concurrency;
mod conformance;
mod discovery;
mod faults;
mod fixtures;
mod flip;
mod reads;
mod stress;
