//! The connector seam on turmoil's simulated TCP: the client runs unchanged
//! on a turmoil host against a control-plane host, keeps its connection
//! alive across calls, and meets a partition as a timeout in simulated
//! time, not wall time.

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use cp_http::{ClientConfig, Connect, HttpControlPlane};
use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::{TcpListener, TcpStream};

/// Connections to one turmoil host and port, e.g. `"cp:80"`.
struct TurmoilConnect(&'static str);

impl Connect for TurmoilConnect {
    type Io = TcpStream;

    async fn connect(&self) -> io::Result<TcpStream> {
        TcpStream::connect(self.0).await
    }
}

/// A simulation with a control-plane host `cp` answering the n-th request
/// it reads (over all connections) with `{"state": words[n]}`; returns the
/// count of connections it accepted.
fn world(words: &'static [&'static str]) -> (turmoil::Sim<'static>, Rc<Cell<usize>>) {
    let mut sim = turmoil::Builder::new()
        .rng_seed(7)
        .simulation_duration(Duration::from_secs(120))
        .build();
    let accepted = Rc::new(Cell::new(0));
    let counter = Rc::clone(&accepted);
    sim.host("cp", move || {
        let accepted = Rc::clone(&counter);
        async move {
            let listener = TcpListener::bind("0.0.0.0:80").await?;
            let answered = Rc::new(Cell::new(0));
            loop {
                let (stream, _) = listener.accept().await?;
                accepted.set(accepted.get() + 1);
                tokio::task::spawn_local(answer(stream, words, Rc::clone(&answered)));
            }
        }
    });
    (sim, accepted)
}

/// Answers requests on one connection until the client closes it.
async fn answer(mut stream: TcpStream, words: &'static [&'static str], answered: Rc<Cell<usize>>) {
    let mut buffer = Vec::new();
    loop {
        while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
            let mut chunk = [0u8; 512];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        buffer.clear();
        let body = format!(r#"{{"state":"{}"}}"#, words[answered.get() % words.len()]);
        answered.set(answered.get() + 1);
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn client() -> HttpControlPlane<TurmoilConnect> {
    HttpControlPlane::new(
        TurmoilConnect("cp:80"),
        ClientConfig::new("cp").expect("valid host"),
    )
}

#[test]
fn the_client_runs_on_turmoil_tcp_and_keeps_its_connection() -> turmoil::Result {
    let (mut sim, accepted) = world(&["running", "stopped"]);
    sim.client("reconciler", async {
        let cp = client();
        let id = InstanceId::from("i-1");
        assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
        assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Stopped));
        Ok(())
    });
    sim.run()?;
    assert_eq!(accepted.get(), 1, "both calls on one keep-alive connection");
    Ok(())
}

#[test]
fn a_partition_is_the_caps_timeout_in_simulated_time() -> turmoil::Result {
    let (mut sim, accepted) = world(&["running"]);
    sim.client("reconciler", async {
        let cp = client();
        let id = InstanceId::from("i-1");
        assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));

        turmoil::partition("reconciler", "cp");
        let started = tokio::time::Instant::now();
        let cut = cp.instance_state(&id).await;
        assert_eq!(
            cut,
            Err(CpError::Transport("no answer within 10s".to_owned()))
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(10) && waited < Duration::from_secs(11),
            "{waited:?} of simulated time"
        );

        turmoil::repair("reconciler", "cp");
        assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
        Ok(())
    });
    sim.run()?;
    assert_eq!(
        accepted.get(),
        2,
        "the connection cut by the cap is not reused"
    );
    Ok(())
}
