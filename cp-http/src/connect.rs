//! The transport seam: how the client gets a byte stream to the control
//! plane.
//!
//! The client speaks HTTP/1 over whatever stream [`Connect`] hands it, so
//! the same code runs on tokio's TCP in a deployment and on turmoil's
//! simulated TCP in the harness, where the network between the reconciler
//! and the control plane (latency, partitions, resets) is the simulation's.
//! One call opens one connection: reuse is the client's business (see the
//! crate docs), not the connector's.
#![allow(async_fn_in_trait)]

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Opens connections to the control plane.
///
/// Not `Send`, like the reconciler's ports: the simulator runs every actor
/// on one thread, and turmoil's streams are tied to the host that opened
/// them.
pub trait Connect {
    /// The stream. tokio's I/O traits rather than hyper's, because both
    /// `tokio::net::TcpStream` and `turmoil::net::TcpStream` implement them;
    /// the client adapts it with `hyper_util::rt::TokioIo`.
    type Io: AsyncRead + AsyncWrite + Unpin;

    /// Opens one new connection. An error here is the caller's
    /// "connection refused" (a transport error), never retried by the
    /// client.
    async fn connect(&self) -> io::Result<Self::Io>;
}

/// Real TCP through tokio, for a deployment and for the loopback tests.
#[derive(Clone, Debug)]
pub struct TokioConnect {
    addr: String,
}

impl TokioConnect {
    /// Connects to `addr` (`host:port`, resolved on each connect, as a
    /// long-lived client must so that it follows DNS changes).
    pub fn new(addr: impl Into<String>) -> Self {
        Self { addr: addr.into() }
    }
}

impl Connect for TokioConnect {
    type Io = TcpStream;

    async fn connect(&self) -> io::Result<TcpStream> {
        let stream = TcpStream::connect(self.addr.as_str()).await?;
        // A request is one small write; Nagle would only delay it.
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}
