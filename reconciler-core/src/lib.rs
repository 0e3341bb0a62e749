//! The instance-state reconciler, generic over a [`Store`], a
//! [`ControlPlane`] and an [`OfflineHandler`], in three [`Variant`]s.
//!
//! A platform keeps its agent workspaces in a Postgres `workspaces` table. The
//! reconciler periodically selects online (and, since PR #2283, degraded) SaaS
//! workspaces, asks the control plane whether each one's cloud instance is
//! running, and "flips" dead ones: it calls the platform's offline handler,
//! which records a `WORKSPACE_OFFLINE` event and starts `RestartByID` in the
//! background (Stop the instance, write `provisioning`, launch a new one). A
//! false flip kills a healthy or booting customer instance; a missed one
//! leaves a dead workspace "online" forever.
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
//! | CP says not found (404) | error, skip | error, skip | dead, if the row has gone unwritten for `not_found_quiet` (the claim checks it) |
//! | CP answers 2xx with an empty or unknown state | not running: flips | not running: flips | skip |
//! | states that flip | any but `running` | any but `running` | `shutting-down`, `terminated`, not found |
//! | check before the flip | none | re-confirm read: row exists, live status, same non-empty instance | none separate: a guarded claim write is the check |
//! | status written by the reconciler | none | none | `offline`, by the claim (`… WHERE id=$1 AND instance_id=$2 AND status IN ('online','degraded') AND COALESCE(runtime,'')<>'external'`) |
//! | the flip (offline handler) fires when | `IsRunning` says not running | the re-confirm agrees | the claim matched a row |
//! | instance handed to the handler | none (the merged signature) | none | the claimed one |
//! | cycle deadline (45 s) | none | yes, over the candidate query and every call | yes, over the candidate query and every call (the claim included) |
//!
//! What the harness finds in each is in the project README.
//!
//! # Fidelity to the merged code
//!
//! [`fidelity`] sets each step of the Go code (as restated in the project's
//! reference) beside the Rust that does it; a test keeps every quoted line
//! true of the source.
#![deny(missing_docs)]

mod config;
mod deadline;
pub mod fidelity;
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
pub use model::{Candidate, Claim, InstanceId, InstanceState, RowView, Status, WorkspaceId};
pub use ports::{ControlPlane, CpError, OfflineHandler, Store, StoreError};
pub use query::{CandidateQuery, LEGACY_STATUSES, LIVE_STATUSES, Order};
pub use reconciler::{PassObserver, Reconciler};
pub use report::{PassReport, SkipReason};
pub use row::{LIVE_SCOPE, Row};
pub use variant::{UnknownVariant, Variant};
