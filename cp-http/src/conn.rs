//! One HTTP/1 connection, driven by the call that uses it.
//!
//! hyper splits a client connection into a request sender and a
//! `Connection` future that does the actual I/O and must be polled for
//! anything to happen. Nothing here spawns: every call polls the connection
//! together with its own request (a `biased` `select!`, the request first),
//! so the client runs inside whatever task calls it — a simulated run stays
//! one future, on one thread, in one deterministic order — and a connection
//! that no call is using is simply not polled (HTTP/1 has nothing to do
//! while idle; a close that arrives meanwhile is seen at the next
//! checkout).
//!
//! A `Conn` is owned by exactly one call while in use, so dropping the call
//! at any await point drops the connection and closes the socket: an
//! abandoned exchange can never leave a half-read answer for the next
//! request to find.

use std::error::Error as StdError;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use reconciler_core::CpError;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::connect::Connect;

/// The largest answer body read. A `{"state": …}` answer is tens of bytes;
/// anything near this is not an answer, and an unbounded read would let a
/// broken control plane grow the reconciler's memory for the whole 10 s.
pub(crate) const MAX_BODY: usize = 1 << 20;

type Driver<Io> = Connection<TokioIo<Counted<Io>>, Empty<Bytes>>;

/// A connection: its sender, its I/O future, and a count of the bytes it has
/// read (which tells a request that failed before any answer arrived from
/// one that failed part-way through it).
pub(crate) struct Conn<Io: AsyncRead + AsyncWrite + Unpin> {
    sender: SendRequest<Empty<Bytes>>,
    driver: DriverState<Io>,
    read: Arc<AtomicU64>,
}

/// The connection future (boxed: it holds hyper's buffers), until it
/// finishes; then how it finished, for error messages.
enum DriverState<Io: AsyncRead + AsyncWrite + Unpin> {
    Running(Box<Driver<Io>>),
    Ended(String),
}

impl<Io: AsyncRead + AsyncWrite + Unpin> Conn<Io> {
    /// Opens a connection through `connector` and sets up HTTP/1 on it.
    pub(crate) async fn open<C: Connect<Io = Io>>(connector: &C) -> Result<Self, CpError> {
        let io = connector
            .connect()
            .await
            .map_err(|e| CpError::Transport(format!("connect: {e}")))?;
        let read = Arc::new(AtomicU64::new(0));
        let io = TokioIo::new(Counted {
            io,
            read: Arc::clone(&read),
        });
        let (sender, driver) = http1::handshake(io)
            .await
            .map_err(|e| CpError::Transport(format!("HTTP/1 handshake: {}", chain(&e))))?;
        Ok(Self {
            sender,
            driver: DriverState::Running(Box::new(driver)),
            read,
        })
    }

    /// Bytes read from the connection so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Sends `request` and waits for the response head.
    pub(crate) async fn send(
        &mut self,
        request: Request<Empty<Bytes>>,
    ) -> Result<Response<Incoming>, String> {
        let Self { sender, driver, .. } = self;
        let sent = drive(driver, sender.send_request(request)).await;
        sent.map_err(|e| driver.describe(&e))
    }

    /// Reads a whole response body, up to [`MAX_BODY`] bytes.
    pub(crate) async fn read_body(&mut self, body: Incoming) -> Result<Bytes, BodyError> {
        let collect = Limited::new(body, MAX_BODY).collect();
        match drive(&mut self.driver, collect).await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLong),
            Err(e) => Err(BodyError::Transport(self.driver.describe(&*e))),
        }
    }

    /// Whether a new request can go out on this connection right now,
    /// without waiting: the connection is open, and hyper is idle and
    /// wants the next request. Polls the connection once, which is also
    /// how an idle connection notices that the server has closed it.
    pub(crate) async fn ready_now(&mut self) -> bool {
        poll_fn(|cx| {
            let DriverState::Running(driver) = &mut self.driver else {
                return Poll::Ready(false);
            };
            if let Poll::Ready(ended) = Pin::new(driver).poll(cx) {
                self.driver = DriverState::ended(ended);
                return Poll::Ready(false);
            }
            Poll::Ready(matches!(self.sender.poll_ready(cx), Poll::Ready(Ok(()))))
        })
        .await
    }
}

/// A body that could not be read whole.
pub(crate) enum BodyError {
    /// Longer than [`MAX_BODY`].
    TooLong,
    /// The connection failed part-way.
    Transport(String),
}

impl<Io: AsyncRead + AsyncWrite + Unpin> DriverState<Io> {
    fn ended(how: hyper::Result<()>) -> Self {
        DriverState::Ended(match how {
            Ok(()) => "connection closed".to_owned(),
            Err(e) => chain(&e),
        })
    }

    /// `e`, and what the connection itself reported if it has ended: when a
    /// connection fails mid-body, hyper gives the body a generic
    /// "connection error" and the real cause to the connection future.
    fn describe(&self, e: &(dyn StdError + 'static)) -> String {
        match self {
            DriverState::Ended(how) => format!("{} ({how})", chain(e)),
            DriverState::Running(_) => chain(e),
        }
    }
}

/// Runs `fut` while polling the connection, until `fut` finishes. If the
/// connection finishes first, its outcome is kept and `fut` is polled alone:
/// hyper hands a connection's failure to the request or body waiting on it,
/// so `fut` then finishes promptly with that error.
async fn drive<Io, F>(driver: &mut DriverState<Io>, fut: F) -> F::Output
where
    Io: AsyncRead + AsyncWrite + Unpin,
    F: Future,
{
    let mut fut = pin!(fut);
    if let DriverState::Running(conn) = driver {
        tokio::select! {
            biased;
            out = &mut fut => return out,
            ended = conn => *driver = DriverState::ended(ended),
        }
    }
    fut.await
}

/// An error and its sources, `: `-separated: hyper's own message alone
/// ("connection error") rarely says what happened.
fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A stream that counts the bytes read through it.
struct Counted<Io> {
    io: Io,
    read: Arc<AtomicU64>,
}

impl<Io: AsyncRead + Unpin> AsyncRead for Counted<Io> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let n = buf.filled().len() - before;
            this.read.fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Counted<Io> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
