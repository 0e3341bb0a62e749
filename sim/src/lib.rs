//! The simulated world for `reconciler-core`: a seeded scheduler interleaves
//! the actors that race with the reconciler in production, and an oracle
//! that reads ground truth says whether any flip was unproven.
//!
//! Layering, one way only: [`world`] (ground truth) ← [`store`],
//! [`control_plane`], [`restart`] (what the reconciler talks to) ←
//! [`run`] (wires a variant to a world); [`director`] decides what actors do
//! at [`hook`] points; [`oracle`] reads only the [`trace`].
#![deny(missing_docs)]

pub mod abandon;
pub mod action;
pub mod bench;
pub mod control_plane;
pub mod digest;
pub mod director;
pub mod explore;
pub mod fnv;
pub mod hook;
pub mod oracle;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod restart;
pub mod row;
pub mod run;
pub mod scenario;
pub mod seed;
pub mod shared;
pub mod shrink;
pub mod store;
pub mod trace;
pub mod world;
