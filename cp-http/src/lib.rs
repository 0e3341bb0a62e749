//! The reconciler's control plane over HTTP: [`HttpControlPlane`]
//! implements `reconciler_core::ControlPlane` with hyper, generic over the
//! transport ([`Connect`]).
//!
//! The in-process control plane of the simulator answers with values; this
//! client answers from bytes on a wire, which is where production clients
//! break: a `2xx` whose body is `{}`, `null` or an unknown state, a body cut
//! short, a reset after the headers, a slow body, a keep-alive connection
//! reused after a timeout. It reads every one of them the way the
//! platform's Go client does.
//!
//! # The wire API
//!
//! `GET /cp/instances/{instance_id}` (the id percent-encoded as one path
//! segment), with `Host` and `Accept: application/json`. The answer is
//! `200 {"state": "<word>"}`.
//!
//! | answer | result |
//! | --- | --- |
//! | 2xx, the body decodes, `state` is `pending`, `running`, `stopping`, `stopped`, `shutting-down` or `terminated` | `Ok(that state)` |
//! | 2xx, the body decodes, `state` is missing, `null`, empty or another word (`{}`, `null`, `{"state":""}`, `{"state":"hibernating"}`) | `Ok(InstanceState::Unrecognized)`; the word is logged |
//! | 404 | `Ok(InstanceState::NotFound)`: what a 404 proves is the caller's decision (`IsRunning` makes it an error, `hardened` proof of death after a quiet period) |
//! | any other non-2xx (redirects included) | `Err(CpError::Status(code))` |
//! | 2xx whose body does not decode (not JSON, wrong type, JSON cut short inside a complete body, empty) or is longer than 1 MiB | `Err(CpError::Decode(..))` |
//! | connect refused; reset or closed before the answer or in the middle of its body (fewer bytes than `Content-Length`); no answer within the cap | `Err(CpError::Transport(..))` |
//!
//! "Decodes" means what Go's `json.Unmarshal` into `struct { State string }`
//! accepts: `null` and `{}` are not errors, keys match case-insensitively,
//! the last duplicate wins; the rules are in `wire.rs`. Known differences
//! from the Go client, all on the fail-safe side (an error where Go might
//! have answered): Go follows redirects, where a 3xx is `Status` here; Go
//! reads a body of any length, where past 1 MiB is `Decode` here.
//!
//! # Timeouts and cancellation
//!
//! The reconciler bounds every call with `tokio::time::timeout_at` from its
//! own deadline (`PassDeadline`), which drops the call's future. The client
//! has its own cap besides, [`ClientConfig::request_cap`] (the Go client's
//! 10 s), which covers connecting, retrying, and reading the whole body and
//! ends in `CpError::Transport`. All time is `tokio::time`, so under the
//! simulator's paused clock both are simulated time.
//!
//! Dropping a call at any await point is safe: the connection in use
//! belongs to that call alone until the exchange has finished, so it is
//! closed with the call and never reused. (Reusing it would hand the
//! abandoned request's late answer to the next request.)
//!
//! # Keep-alive
//!
//! Connections are pooled, because the Go client's `http.Transport` pools
//! them and the failures that come with it are the ones worth simulating: a
//! connection that outlives the 60 s between passes, a server that closes it
//! meanwhile. As in Go: at most [`ClientConfig::max_idle`] idle connections
//! (2), each reused for at most [`ClientConfig::idle_timeout`] (90 s), the
//! most recently used first; a connection goes back to the pool only after
//! a complete exchange (a non-2xx answer's unread body closes it); and a
//! request that fails on a reused connection before any byte of answer came
//! back is sent again on another (the server closed it as the request went
//! out), while one that fails on a new connection, or after part of the
//! answer, is not. `max_idle = 0` turns reuse off.
//!
//! # Driving connections
//!
//! hyper's `client::conn::http1` gives a request sender and a connection
//! future that performs the I/O. The client does not spawn it: each call
//! polls its connection together with its own request, so it needs no
//! executor, no `Send`, no `LocalSet`, and a simulated run stays a single
//! future, polled in one deterministic order. An idle connection is not
//! polled at all (HTTP/1 does nothing while idle); checkout polls it once,
//! which is when a close that arrived meanwhile is noticed.
//!
//! # The transport seam
//!
//! [`Connect`] opens one stream implementing tokio's `AsyncRead +
//! AsyncWrite + Unpin`. [`TokioConnect`] is real TCP. In the simulation, a
//! reconciler on a turmoil host reaches a control-plane host through
//! turmoil's `TcpStream`, which implements the same traits:
//!
//! ```no_run
//! use cp_http::{ClientConfig, Connect, HttpControlPlane};
//!
//! /// Connections to a turmoil host and port, e.g. `"cp:80"`.
//! struct TurmoilConnect(&'static str);
//!
//! impl Connect for TurmoilConnect {
//!     type Io = turmoil::net::TcpStream;
//!
//!     async fn connect(&self) -> std::io::Result<Self::Io> {
//!         turmoil::net::TcpStream::connect(self.0).await
//!     }
//! }
//!
//! let host = ClientConfig::new("cp").expect("a valid host");
//! let cp = HttpControlPlane::new(TurmoilConnect("cp:80"), host);
//! ```
//!
//! Nothing else changes: the connection is driven inside the calling task
//! on turmoil's host runtime, and the timeouts run on its clock
//! (`tests/turmoil.rs` runs exactly this, a partition included).
#![deny(missing_docs)]

mod client;
mod conn;
mod connect;
mod pool;
mod wire;

pub use client::{ClientConfig, HttpControlPlane, InvalidHost};
pub use connect::{Connect, TokioConnect};
