//! Idle keep-alive connections, as Go's `http.Transport` keeps them.
//!
//! Only a connection whose exchange finished cleanly comes back here, and
//! only if it is ready for another request at that moment (hyper idle, the
//! server did not ask to close). Checkout takes the most recently used one
//! first (Go's order), drops those idle for longer than the idle timeout
//! (Go's `IdleConnTimeout`), and checks the rest again before handing them
//! out, which is where a close the server sent while the connection sat
//! idle is noticed.
//!
//! The pool is a `RefCell`, never borrowed across an await, so concurrent
//! calls on one thread each get their own connection.

use std::cell::RefCell;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tracing::debug;

use crate::conn::Conn;

/// The idle connections, newest last.
pub(crate) struct Pool<Io: AsyncRead + AsyncWrite + Unpin> {
    idle: RefCell<Vec<Idle<Io>>>,
    max_idle: usize,
    idle_timeout: Duration,
}

/// A connection and the instant it went idle (on tokio's clock, so a
/// simulated run ages it in simulated time).
struct Idle<Io: AsyncRead + AsyncWrite + Unpin> {
    conn: Conn<Io>,
    since: Instant,
}

impl<Io: AsyncRead + AsyncWrite + Unpin> Pool<Io> {
    /// An empty pool keeping at most `max_idle` connections (none: no
    /// reuse), each for at most `idle_timeout`.
    pub(crate) fn new(max_idle: usize, idle_timeout: Duration) -> Self {
        Self {
            idle: RefCell::new(Vec::new()),
            max_idle,
            idle_timeout,
        }
    }

    /// An idle connection ready for a request, if there is one.
    pub(crate) async fn checkout(&self) -> Option<Conn<Io>> {
        loop {
            let Idle { mut conn, since } = self.idle.borrow_mut().pop()?;
            if since.elapsed() >= self.idle_timeout {
                debug!(idle_for = ?since.elapsed(), "dropping a keep-alive connection idle too long");
                continue;
            }
            if conn.ready_now().await {
                return Some(conn);
            }
            debug!("dropping a keep-alive connection the server closed while idle");
        }
    }

    /// Keeps `conn` for a later request if it is ready for one and there is
    /// room; otherwise drops (closes) it.
    pub(crate) async fn put(&self, mut conn: Conn<Io>) {
        if self.max_idle == 0 || !conn.ready_now().await {
            return;
        }
        let mut idle = self.idle.borrow_mut();
        if idle.len() < self.max_idle {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }
}
