//! The client against a scripted control plane on loopback (tokio TCP):
//! every row of the crate docs' answer table, the transport faults and
//! timeouts, and keep-alive reuse.

mod answers;
mod faults;
mod keep_alive;
mod support;
