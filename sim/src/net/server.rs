//! The control plane's side of the network mode: an HTTP/1 server on the
//! turmoil host [`CP`](super::CP), answering `GET /cp/instances/{id}` with
//! [`crate::control_plane::serve`] — the in-process control plane's own
//! code over the same world — and writing each decided failure as the
//! bytes it stands for.
//!
//! The server is written by hand over the socket, not with an HTTP
//! library: the faults it must produce (a body cut short, a reset after
//! the headers, a slow body) are exactly what a well-behaved server
//! library would not let it write.

use std::rc::Rc;

use reconciler_core::{InstanceId, InstanceState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::{TcpListener, TcpStream};

use super::PORT;
use crate::action::{CpFailure, SLOW_BODY};
use crate::control_plane::{holder, serve as decide};
use crate::shared::Shared;

/// The path prefix of the state request.
const PREFIX: &str = "/cp/instances/";

/// The longest request head read before the connection is closed.
const MAX_HEAD: usize = 16 * 1024;

/// The control plane's software: accepts connections for ever, each
/// served by a task of its own.
pub(crate) async fn serve(shared: Rc<Shared>) -> turmoil::Result {
    let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::task::spawn_local(connection(Rc::clone(&shared), stream));
    }
}

/// What to do with a connection after an answer.
enum After {
    /// Read the next request (keep-alive).
    KeepAlive,
    /// Close it.
    Close,
}

/// Serves requests on one connection until the client closes it or an
/// answer closes it.
async fn connection(shared: Rc<Shared>, mut stream: TcpStream) {
    let mut buffer = Vec::new();
    loop {
        let end = loop {
            if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buffer.len() > MAX_HEAD {
                return;
            }
            let mut chunk = [0u8; 1024];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let head: Vec<u8> = buffer.drain(..end).collect();
        let after = match target(&head) {
            Some(instance) => {
                let ws = holder(&shared, &instance);
                let decided = decide(&shared, &instance, ws.as_ref()).await;
                answer(&mut stream, decided).await
            }
            None => {
                write(&mut stream, &response("400 Bad Request", "", 0)).await;
                After::Close
            }
        };
        if matches!(after, After::Close) {
            return;
        }
    }
}

/// The instance a request head asks about: `GET /cp/instances/{id} …`,
/// the id percent-decoded.
fn target(head: &[u8]) -> Option<InstanceId> {
    let line = head.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (Some("GET"), Some(path)) = (parts.next(), parts.next()) else {
        return None;
    };
    let encoded = path.strip_prefix(PREFIX)?;
    percent_decode(encoded).map(InstanceId)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A response head for `status`, with a body of `length` bytes of which
/// `body` is written now.
fn response(status: &str, body: &str, length: usize) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n{body}"
    )
    .into_bytes()
}

fn ok(body: &str) -> Vec<u8> {
    response("200 OK", body, body.len())
}

async fn write(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).await.is_ok()
}

/// Writes the decided answer as bytes (or closes the connection instead).
async fn answer(stream: &mut TcpStream, decided: Result<InstanceState, CpFailure>) -> After {
    let keep = |written: bool| {
        if written {
            After::KeepAlive
        } else {
            After::Close
        }
    };
    match decided {
        Ok(InstanceState::NotFound) => keep(write(stream, &response("404 Not Found", "", 0)).await),
        Ok(InstanceState::Unrecognized) => {
            keep(write(stream, &ok(r#"{"state":"hibernating"}"#)).await)
        }
        Ok(state) => {
            let body = format!(r#"{{"state":"{}"}}"#, state.as_str());
            keep(write(stream, &ok(&body)).await)
        }
        // The connection closes with no answer at all.
        Err(CpFailure::Transport) => After::Close,
        Err(CpFailure::Status5xx) => {
            keep(write(stream, &response("503 Service Unavailable", "", 0)).await)
        }
        Err(CpFailure::Garbage) => keep(write(stream, &ok("<html>upstream error</html>")).await),
        Err(CpFailure::EmptyState) => keep(write(stream, &ok("{}")).await),
        Err(CpFailure::UnknownState) => {
            keep(write(stream, &ok(r#"{"state":"hibernating"}"#)).await)
        }
        Err(CpFailure::NullBody) => keep(write(stream, &ok("null")).await),
        Err(CpFailure::Truncated) => {
            let body = r#"{"state":"running"}"#;
            let cut = &body[..body.len() / 2];
            write(stream, &response("200 OK", cut, body.len())).await;
            After::Close
        }
        Err(CpFailure::ResetAfterHeaders) => {
            write(
                stream,
                &response("200 OK", "", r#"{"state":"running"}"#.len()),
            )
            .await;
            After::Close
        }
        Err(CpFailure::SlowBody) => {
            let body = r#"{"state":"running"}"#;
            if !write(stream, &response("200 OK", "", body.len())).await {
                return After::Close;
            }
            tokio::time::sleep(SLOW_BODY).await;
            keep(write(stream, body.as_bytes()).await)
        }
    }
}
