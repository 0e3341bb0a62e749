//! The reconciler's side of the network mode: `cp-http`'s client on
//! turmoil's TCP, with the same trace events and hook points as the
//! in-process control plane's (`crate::control_plane::SimCp`).

use std::io;
use std::rc::Rc;

use cp_http::{ClientConfig, Connect, HttpControlPlane};
use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState};

use super::{CP, PORT};
use crate::control_plane::{begin_probe, end_probe};
use crate::shared::Shared;
use crate::trace::Replica;

/// Connections to the control plane's turmoil host.
pub(crate) struct TurmoilConnect;

impl Connect for TurmoilConnect {
    type Io = turmoil::net::TcpStream;

    async fn connect(&self) -> io::Result<Self::Io> {
        turmoil::net::TcpStream::connect((CP, PORT)).await
    }
}

/// One replica's control plane over HTTP: its own client, with its own
/// keep-alive pool, as each replica is its own process.
pub(crate) struct NetCp {
    shared: Rc<Shared>,
    replica: Replica,
    http: HttpControlPlane<TurmoilConnect>,
}

impl NetCp {
    /// The client of `replica`, with the Go client's settings.
    pub(crate) fn new(shared: Rc<Shared>, replica: Replica) -> Self {
        let config = ClientConfig::new(CP).expect("the control plane's host name is valid");
        Self {
            shared,
            replica,
            http: HttpControlPlane::new(TurmoilConnect, config),
        }
    }
}

impl ControlPlane for NetCp {
    async fn instance_state(&self, instance: &InstanceId) -> Result<InstanceState, CpError> {
        let shared = &self.shared;
        let r = self.replica;
        let (ws, guard) = begin_probe(shared, r, instance);
        let answer = self.http.instance_state(instance).await;
        end_probe(shared, r, instance, ws.as_ref(), guard, &answer);
        answer
    }
}
