//! Each step of the merged Go code, as the project's reference restates it
//! (`shared/reference/reconciler-as-merged.md` and `platform-flows.md`),
//! beside the Rust that reproduces it.
//!
//! Why a table: `pr2283` exists to be the merged algorithm and nothing else,
//! so a reviewer must be able to check it step by step. The test
//! `tests/fidelity.rs` reads the table below and fails if a quoted line no
//! longer appears in the file it names, so the table cannot silently rot.
//!
#![doc = include_str!("../docs/fidelity.md")]
