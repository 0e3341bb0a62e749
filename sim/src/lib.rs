//! The simulated world for `reconciler-core`: a seeded scheduler interleaves
//! the actors that race with the reconciler in production — the platform's
//! own multi-step flows among them — and an oracle that reads ground truth
//! says whether any flip was unproven or did harm.
//!
//! Layering, one way only: [`world`] (ground truth), [`platform`] (the
//! platform's code: the offline handler, `RestartByID`, the flows' steps)
//! and [`actors`] (one home per actor) make up the simulated world; [`store`]
//! and [`control_plane`] are what the reconciler talks to; [`run`] wires
//! replicas of a variant to a world; [`director`] decides what actors do at
//! [`hook`] points; [`oracle`] reads only the [`trace`].
#![deny(missing_docs)]

pub mod abandon;
pub mod action;
pub mod actors;
pub mod backend;
pub mod bench;
pub mod control_plane;
pub mod digest;
pub mod director;
pub mod exit;
pub mod explore;
pub mod fnv;
pub mod hook;
pub mod limits;
pub mod logs;
pub mod merge;
pub mod net;
pub mod oracle;
pub mod parallel;
pub mod picture;
pub mod platform;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod report;
pub mod row;
pub mod run;
pub mod scenario;
pub mod seed;
pub mod shared;
pub mod shrink;
pub mod store;
pub mod stream;
pub mod trace;
pub mod world;
