//! The instance-state reconciler, generic over a [`Store`], a
//! [`ControlPlane`] and an [`OfflineHandler`], in three [`Variant`]s.
//!
//! A platform keeps its agent workspaces in a Postgres `workspaces` table. The
//! reconciler periodically selects online (and, since PR #2283, degraded) SaaS
//! workspaces, asks the control plane whether each one's cloud instance is
//! running, and flips dead ones offline, which triggers a reprovision. A false
//! flip restarts a healthy customer workspace; a missed one leaves a dead
//! workspace "online" forever.
//!
//! All time goes through `tokio::time`, so the same code runs in real time
//! against Postgres and in paused, simulated time inside the harness.
//!
//! # The variants
//!
//! | | `legacy` | `pr2283` | `hardened` (default) |
//! | --- | --- | --- | --- |
//! | statuses in scope | `online` | `online`, `degraded` | `online`, `degraded` |
//! | candidate query returns | `id` | `id`, `instance_id` | `id`, `instance_id` |
//! | candidate order | `updated_at DESC`, `LIMIT` | `updated_at DESC`, `LIMIT` | keyset pages by `id`, resuming after the last row processed (at a row the deadline cut short) |
//! | instance asked about | re-resolved by workspace id (`IsRunning`) | re-resolved by workspace id (`IsRunning`) | the one the query captured |
//! | no instance at probe time | "not running", CP not asked | "not running", CP not asked | skip |
//! | CP says not found (404) | error, skip | error, skip | dead |
//! | states that flip | any but `running` | any but `running` | `shutting-down`, `terminated`, not found |
//! | check before the write | none | re-confirm read: row exists, live status, same non-empty instance | none separate: the write is the check |
//! | the flip's write | `UPDATE … SET status='offline' WHERE id=$1` | same, unconditional | `… WHERE id=$1 AND instance_id=$2 AND status IN ('online','degraded') AND COALESCE(runtime,'')<>'external'` |
//! | restart fires when | always after the write | always after the write | only if the guarded write matched a row |
//! | cycle deadline (45 s) | none | yes; per-call timeouts capped by it | yes; per-call timeouts (including the write) capped by it |
//!
//! What the harness finds in each is in the project README.
#![deny(missing_docs)]

mod config;
mod deadline;
mod hardened;
mod is_running;
mod legacy;
mod model;
mod pass;
mod ports;
mod pr2283;
mod query;
mod reconciler;
mod report;
mod row;
mod variant;

pub use config::{Config, ConfigError, DEFAULT_INTERVAL};
pub use is_running::is_running;
pub use model::{Candidate, FlipGuard, InstanceId, InstanceState, RowView, Status, WorkspaceId};
pub use ports::{ControlPlane, CpError, OfflineHandler, Store, StoreError};
pub use query::{CandidateQuery, LEGACY_STATUSES, LIVE_STATUSES, Order};
pub use reconciler::{PassObserver, Reconciler};
pub use report::{PassReport, SkipReason};
pub use row::{LIVE_SCOPE, Row};
pub use variant::{UnknownVariant, Variant};
