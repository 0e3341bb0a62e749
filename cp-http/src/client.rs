//! The client: one `GET` per question, answers mapped onto the port's
//! vocabulary (the table is in the crate docs).

use std::time::Duration;

use http_body_util::Empty;
use hyper::body::{Body, Bytes, Incoming};
use hyper::header::{ACCEPT, HOST, HeaderValue};
use hyper::http::uri::Authority;
use hyper::{Request, Response, StatusCode, Uri};
use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState};
use tracing::{debug, info};

use crate::conn::{BodyError, Conn, MAX_BODY};
use crate::connect::Connect;
use crate::pool::Pool;
use crate::wire;

/// How the client talks to the control plane; the defaults are the Go
/// client's.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    host: HeaderValue,
    /// The cap on one call, connect and retries included: the Go client's
    /// `http.Client{Timeout: 10 * time.Second}`. The caller's own deadline
    /// (which drops the call) may be shorter.
    pub request_cap: Duration,
    /// Idle keep-alive connections kept for reuse: Go's
    /// `MaxIdleConnsPerHost` (2). 0 opens a connection per call.
    pub max_idle: usize,
    /// How long an idle connection may be reused: Go's `IdleConnTimeout`
    /// (90 s), longer than the reconciler's 60 s interval, so a connection
    /// does outlive the gap between two passes.
    pub idle_timeout: Duration,
}

/// A `Host` that is not a valid `host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid control-plane host {host:?}: expected host[:port]")]
pub struct InvalidHost {
    /// What was given.
    pub host: String,
}

impl ClientConfig {
    /// The Go client's settings, sending `host` (`host[:port]`, the
    /// control plane's name, not necessarily the address connected to) as
    /// the `Host` header.
    pub fn new(host: &str) -> Result<Self, InvalidHost> {
        let invalid = || InvalidHost {
            host: host.to_owned(),
        };
        let authority: Authority = host.parse().map_err(|_| invalid())?;
        // `Authority` accepts user info and a non-numeric port; a `Host`
        // header has neither.
        let port_ok = match authority.as_str().strip_prefix(authority.host()) {
            Some("") => true,
            Some(rest) => rest
                .strip_prefix(':')
                .is_some_and(|p| p.parse::<u16>().is_ok()),
            None => false,
        };
        if !port_ok {
            return Err(invalid());
        }
        Ok(Self {
            host: HeaderValue::from_str(authority.as_str()).map_err(|_| invalid())?,
            request_cap: Duration::from_secs(10),
            max_idle: 2,
            idle_timeout: Duration::from_secs(90),
        })
    }
}

/// The control plane over HTTP/1, on connections from `C`.
pub struct HttpControlPlane<C: Connect> {
    connector: C,
    config: ClientConfig,
    pool: Pool<C::Io>,
}

impl<C: Connect> HttpControlPlane<C> {
    /// A client with no connection open yet.
    pub fn new(connector: C, config: ClientConfig) -> Self {
        let pool = Pool::new(config.max_idle, config.idle_timeout);
        Self {
            connector,
            config,
            pool,
        }
    }

    /// One question, without the cap.
    ///
    /// A request that fails on a reused connection before a single byte of
    /// answer arrived is sent again on another connection, as Go's
    /// transport does for an idempotent request: the server most likely
    /// closed the idle connection as the request went out. A failure on a
    /// new connection, or after part of an answer, is the answer.
    async fn ask(&self, instance: &InstanceId) -> Result<InstanceState, CpError> {
        let uri = Uri::try_from(wire::path(instance))
            .map_err(|e| CpError::Transport(format!("request URI: {e}")))?;
        loop {
            let (mut conn, reused) = match self.pool.checkout().await {
                Some(conn) => (conn, true),
                None => (Conn::open(&self.connector).await?, false),
            };
            let before = conn.bytes_read();
            match conn.send(self.request(uri.clone())).await {
                Ok(response) => return self.answer(conn, response, instance).await,
                Err(e) if reused && conn.bytes_read() == before => {
                    debug!(error = %e, "reused connection failed before any answer; retrying on another");
                }
                Err(e) => return Err(CpError::Transport(e)),
            }
        }
    }

    fn request(&self, uri: Uri) -> Request<Empty<Bytes>> {
        let mut request = Request::new(Empty::new());
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(HOST, self.config.host.clone());
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        request
    }

    /// Maps a response onto the port's vocabulary, and returns the
    /// connection to the pool when the exchange left it reusable.
    async fn answer(
        &self,
        mut conn: Conn<C::Io>,
        response: Response<Incoming>,
        instance: &InstanceId,
    ) -> Result<InstanceState, CpError> {
        let status = response.status();
        let body = response.into_body();
        if !status.is_success() {
            // The status is the answer; like Go closing an unread body, an
            // answer with a body to skip costs the connection.
            if body.is_end_stream() {
                drop(body);
                self.pool.put(conn).await;
            }
            return match status {
                StatusCode::NOT_FOUND => Ok(InstanceState::NotFound),
                _ => Err(CpError::Status(status.as_u16())),
            };
        }
        let bytes = match conn.read_body(body).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLong) => {
                return Err(CpError::Decode(format!(
                    "body longer than {MAX_BODY} bytes"
                )));
            }
            Err(BodyError::Transport(e)) => {
                return Err(CpError::Transport(format!("reading the body: {e}")));
            }
        };
        self.pool.put(conn).await;
        let word = wire::decode_state(&bytes).map_err(|e| CpError::Decode(e.to_string()))?;
        let state = wire::classify(&word);
        if state == InstanceState::Unrecognized {
            info!(instance = %instance, state = ?word, "control plane answered an unrecognized state");
        }
        Ok(state)
    }
}

impl<C: Connect> ControlPlane for HttpControlPlane<C> {
    async fn instance_state(&self, instance: &InstanceId) -> Result<InstanceState, CpError> {
        let cap = self.config.request_cap;
        tokio::time::timeout(cap, self.ask(instance))
            .await
            .unwrap_or_else(|_| Err(CpError::Transport(format!("no answer within {cap:?}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_must_be_a_bare_host_and_port() {
        for good in ["cp", "cp.internal:8080", "10.0.0.7:80", "[::1]:8080"] {
            assert!(ClientConfig::new(good).is_ok(), "{good}");
        }
        for bad in ["", "c p", "user@cp", "cp/x", "http://cp", "cp:port"] {
            assert_eq!(
                ClientConfig::new(bad).map(|_| ()),
                Err(InvalidHost {
                    host: bad.to_owned()
                }),
                "{bad}"
            );
        }
    }
}
