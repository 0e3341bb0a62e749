//! Keep-alive: which connections are reused, and what happens when a reused
//! one turns out to be dead.

use std::time::Duration;

use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState};

use crate::support::{Step, ok, raw, reply, serve, state};

/// The connection (in accept order) each request arrived on.
fn conns(server: &crate::support::Server) -> Vec<usize> {
    server.seen().iter().map(|seen| seen.conn).collect()
}

#[tokio::test]
async fn sequential_calls_reuse_one_connection() {
    let words = ["running", "stopped", "pending"];
    let server = serve(move |_, request| vec![state(words[request % 3])]).await;
    let cp = server.client();
    let id = InstanceId::from("i-1");
    for expected in [
        InstanceState::Running,
        InstanceState::Stopped,
        InstanceState::Pending,
    ] {
        assert_eq!(cp.instance_state(&id).await, Ok(expected));
    }
    assert_eq!(conns(&server), [0, 0, 0]);
}

#[tokio::test]
async fn no_idle_connections_means_one_connection_per_call() {
    let server = serve(|_, _| vec![state("running")]).await;
    let cp = server.client_with(|config| config.max_idle = 0);
    let id = InstanceId::from("i-1");
    for _ in 0..2 {
        assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    }
    assert_eq!(conns(&server), [0, 1]);
}

#[tokio::test]
async fn a_connection_idle_past_the_idle_timeout_is_not_reused() {
    let server = serve(|_, _| vec![state("running")]).await;
    let cp = server.client_with(|config| config.idle_timeout = Duration::from_millis(50));
    let id = InstanceId::from("i-1");
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    assert_eq!(conns(&server), [0, 1]);
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced() {
    let server = serve(|_, _| vec![state("running"), Step::Close]).await;
    let cp = server.client();
    let id = InstanceId::from("i-1");
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    assert_eq!(conns(&server), [0, 1]);
}

#[tokio::test]
async fn a_reused_connection_dying_before_any_answer_is_retried_on_a_new_one() {
    for death in [Step::Close, Step::Reset] {
        let dying = death.clone();
        let server = serve(move |conn, request| match (conn, request) {
            (0, 0) => vec![state("running")],
            (0, _) => vec![dying.clone()],
            _ => vec![state("stopped")],
        })
        .await;
        let cp = server.client();
        let id = InstanceId::from("i-1");
        assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
        assert_eq!(
            cp.instance_state(&id).await,
            Ok(InstanceState::Stopped),
            "{death:?}"
        );
        assert_eq!(conns(&server), [0, 0, 1], "{death:?}");
    }
}

#[tokio::test]
async fn a_reused_connection_dying_mid_answer_is_not_retried() {
    let server = serve(|conn, request| match (conn, request) {
        (0, 0) => vec![state("running")],
        (0, _) => vec![raw("HTTP/1.1 200 OK\r\ncontent-le"), Step::Close],
        _ => vec![state("stopped")],
    })
    .await;
    let cp = server.client();
    let id = InstanceId::from("i-1");
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    let answer = cp.instance_state(&id).await;
    assert!(matches!(answer, Err(CpError::Transport(_))), "{answer:?}");
    assert_eq!(conns(&server), [0, 0]);
}

#[tokio::test]
async fn an_error_status_with_a_body_costs_the_connection_and_one_without_does_not() {
    let server = serve(|conn, request| match (conn, request) {
        (0, 0) => vec![reply("404 Not Found", "")],
        (0, 1) => vec![reply("503 Service Unavailable", "busy")],
        _ => vec![state("running")],
    })
    .await;
    let cp = server.client();
    let id = InstanceId::from("i-1");
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::NotFound));
    assert_eq!(cp.instance_state(&id).await, Err(CpError::Status(503)));
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    assert_eq!(conns(&server), [0, 0, 1]);
}

#[tokio::test]
async fn an_undecodable_but_complete_answer_keeps_the_connection() {
    let server = serve(|conn, request| match (conn, request) {
        (0, 0) => vec![ok("<html>")],
        _ => vec![state("running")],
    })
    .await;
    let cp = server.client();
    let id = InstanceId::from("i-1");
    assert!(matches!(
        cp.instance_state(&id).await,
        Err(CpError::Decode(_))
    ));
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    assert_eq!(conns(&server), [0, 0]);
}

#[tokio::test]
async fn a_server_asking_to_close_is_obeyed() {
    let body = r#"{"state":"running"}"#;
    let closing = format!(
        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let server = serve(move |_, _| vec![raw(&closing)]).await;
    let cp = server.client();
    let id = InstanceId::from("i-1");
    for _ in 0..2 {
        assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Running));
    }
    assert_eq!(conns(&server), [0, 1]);
}
