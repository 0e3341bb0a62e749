//! A scripted control plane on loopback: raw bytes on a `TcpListener`, so
//! that a test can send exactly the faults a real server or network
//! produces (a body cut short, a reset after the headers, a slow body)
//! rather than what a well-behaved HTTP server library would send.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cp_http::{ClientConfig, HttpControlPlane, TokioConnect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One thing the server does while answering a request.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Wait (tokio's clock) before the next step.
    Pause(Duration),
    /// Close the connection with a RST (zero linger).
    Reset,
    /// Close the connection with a FIN.
    Close,
}

/// A request the server read: on which connection (0-based, in accept
/// order) and its head (request line and headers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub conn: usize,
    pub head: String,
}

/// A running scripted server.
pub struct Server {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    accepted: Arc<Mutex<usize>>,
}

impl Server {
    /// The requests read so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        *self.accepted.lock().expect("not poisoned")
    }

    /// A client for this server with the Go client's settings.
    pub fn client(&self) -> HttpControlPlane<TokioConnect> {
        self.client_with(|_| {})
    }

    /// A client for this server, its settings adjusted by `tweak`.
    pub fn client_with(
        &self,
        tweak: impl FnOnce(&mut ClientConfig),
    ) -> HttpControlPlane<TokioConnect> {
        let mut config = ClientConfig::new("cp.test").expect("valid host");
        tweak(&mut config);
        HttpControlPlane::new(TokioConnect::new(self.addr.to_string()), config)
    }
}

/// Starts a server on 127.0.0.1 whose answer to request `request` (0-based,
/// per connection) on connection `conn` is `script(conn, request)`. After
/// the steps, the connection stays open for the next request unless a step
/// closed it.
pub async fn serve(script: impl Fn(usize, usize) -> Vec<Step> + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let accepted = Arc::new(Mutex::new(0));
    let script = Arc::new(script);
    let server = Server {
        addr,
        seen: Arc::clone(&seen),
        accepted: Arc::clone(&accepted),
    };
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let conn = {
                let mut n = accepted.lock().expect("not poisoned");
                *n += 1;
                *n - 1
            };
            let script = Arc::clone(&script);
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                answer(stream, conn, &*script, &seen).await;
            });
        }
    });
    server
}

/// Serves one connection until the client or a step closes it.
async fn answer(
    mut stream: TcpStream,
    conn: usize,
    script: &(dyn Fn(usize, usize) -> Vec<Step> + Send + Sync),
    seen: &Mutex<Vec<Seen>>,
) {
    let mut buffer = Vec::new();
    for request in 0.. {
        let Some(head) = read_head(&mut stream, &mut buffer).await else {
            return;
        };
        seen.lock().expect("not poisoned").push(Seen { conn, head });
        for step in script(conn, request) {
            match step {
                Step::Send(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Step::Pause(d) => tokio::time::sleep(d).await,
                Step::Reset => {
                    stream.set_zero_linger().expect("SO_LINGER");
                    return;
                }
                Step::Close => return,
            }
        }
    }
}

/// Reads one request head (a GET has no body); `None` at end of stream.
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buffer.drain(..end + 4).collect();
            return Some(String::from_utf8_lossy(&head[..end]).into_owned());
        }
        let mut chunk = [0u8; 1024];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A complete answer with `status` and a JSON `body`.
pub fn reply(status: &str, body: &str) -> Step {
    Step::Send(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// `200 OK` with `body`.
pub fn ok(body: &str) -> Step {
    reply("200 OK", body)
}

/// `200 OK` with `{"state": word}`.
pub fn state(word: &str) -> Step {
    ok(&format!(r#"{{"state":"{word}"}}"#))
}

/// A `200 OK` head announcing `length` body bytes, and no body.
pub fn head_only(length: usize) -> Step {
    Step::Send(
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
        )
        .into_bytes(),
    )
}

/// Raw bytes.
pub fn raw(bytes: &str) -> Step {
    Step::Send(bytes.as_bytes().to_vec())
}

/// A wait of `ms` milliseconds.
pub fn pause(ms: u64) -> Step {
    Step::Pause(Duration::from_millis(ms))
}
