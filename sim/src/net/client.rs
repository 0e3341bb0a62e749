//! The reconciler's side of the network mode: `cp-http`'s client on
//! turmoil's TCP, with the same trace events and hook points as the
//! in-process control plane's (`crate::control_plane::SimCp`).

use std::io;
use std::rc::Rc;

use cp_http::{ClientConfig, Connect, HttpControlPlane};
use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState};

use super::{CP, PORT};
use crate::abandon::Abandon;
use crate::control_plane::{holder, record_answer};
use crate::hook::{Hook, Point};
use crate::shared::Shared;
use crate::trace::{Call, Event, Replica};

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
        let ws = holder(shared, instance);
        shared.hook(Hook::before(Point::Probe), ws.as_ref());
        shared.world.borrow_mut().record(Event::Probe {
            r,
            instance: instance.clone(),
        });
        let guard = Abandon::new(shared, r, Call::Probe, &instance.0);
        let answer = self.http.instance_state(instance).await;
        record_answer(shared, r, instance, &answer);
        guard.done();
        shared.hook(Hook::after(Point::Answer), ws.as_ref());
        answer
    }
}
