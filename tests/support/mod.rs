//! Code shared by the integration-test targets; each target includes it with
//! `#[path = "../support/mod.rs"] mod support;`.

pub mod postgres;
