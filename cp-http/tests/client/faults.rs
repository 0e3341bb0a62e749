//! Transport faults and timeouts: every one is a transport error, and a
//! call the caller abandons leaves nothing behind for the next one.

use std::time::Duration;

use cp_http::{ClientConfig, HttpControlPlane, TokioConnect};
use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState};
use tokio::net::TcpListener;

use crate::support::{Step, head_only, pause, raw, serve, state};

/// The body `state("running")` carries.
const RUNNING: &str = r#"{"state":"running"}"#;

/// Asks one question of a server that answers every request with `steps`,
/// with the client's cap set to `cap`; returns the answer and how many
/// connections the server accepted.
async fn ask_capped(steps: Vec<Step>, cap: Duration) -> (Result<InstanceState, CpError>, usize) {
    let server = serve(move |_, _| steps.clone()).await;
    let cp = server.client_with(|config| config.request_cap = cap);
    let answer = cp.instance_state(&InstanceId::from("i-1")).await;
    (answer, server.accepted())
}

async fn ask(steps: Vec<Step>) -> (Result<InstanceState, CpError>, usize) {
    ask_capped(steps, Duration::from_secs(10)).await
}

fn assert_transport(answer: &Result<InstanceState, CpError>, expect: &str) {
    match answer {
        Err(CpError::Transport(message)) => {
            assert!(
                message.contains(expect),
                "{message:?} should mention {expect:?}"
            );
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_a_transport_error() {
    let (answer, accepted) = ask(vec![head_only(40), raw(RUNNING), Step::Close]).await;
    assert_transport(&answer, "reading the body");
    assert_eq!(accepted, 1, "a failure on a new connection is not retried");
}

#[tokio::test]
async fn a_reset_after_the_headers_is_a_transport_error() {
    let (answer, accepted) = ask(vec![head_only(RUNNING.len()), pause(50), Step::Reset]).await;
    assert_transport(&answer, "");
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn a_reset_or_close_before_any_answer_is_a_transport_error() {
    for close in [Step::Reset, Step::Close] {
        let (answer, accepted) = ask(vec![close.clone()]).await;
        assert_transport(&answer, "");
        assert_eq!(
            accepted, 1,
            "{close:?}: a failure on a new connection is not retried"
        );
    }
}

#[tokio::test]
async fn a_head_cut_short_is_a_transport_error() {
    let (answer, _) = ask(vec![raw("HTTP/1.1 200 OK\r\ncontent-len"), Step::Close]).await;
    assert_transport(&answer, "");
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    drop(listener);
    let cp = HttpControlPlane::new(
        TokioConnect::new(addr.to_string()),
        ClientConfig::new("cp.test").expect("valid host"),
    );
    let answer = cp.instance_state(&InstanceId::from("i-1")).await;
    assert_transport(&answer, "connect");
}

#[tokio::test]
async fn a_body_slower_than_the_cap_is_a_transport_error() {
    let steps = vec![head_only(RUNNING.len()), pause(5_000), raw(RUNNING)];
    let (answer, _) = ask_capped(steps, Duration::from_millis(200)).await;
    assert_transport(&answer, "no answer within 200ms");
}

#[tokio::test]
async fn headers_slower_than_the_cap_are_a_transport_error() {
    let (answer, _) = ask_capped(
        vec![pause(5_000), state("running")],
        Duration::from_millis(200),
    )
    .await;
    assert_transport(&answer, "no answer within 200ms");
}

#[tokio::test]
async fn a_slow_body_within_the_cap_is_read() {
    let steps = vec![
        head_only(RUNNING.len()),
        pause(50),
        raw(&RUNNING[..5]),
        pause(50),
        raw(&RUNNING[5..]),
    ];
    let (answer, _) = ask(steps).await;
    assert_eq!(answer, Ok(InstanceState::Running));
}

/// The caller's deadline drops a call whose answer is late (`late` are the
/// first connection's steps for its first request); the next call must get
/// its own answer on a new connection, never the late one.
async fn abandoned_call_leaves_nothing_behind(late: Vec<Step>) {
    let server = serve(move |conn, request| match (conn, request) {
        (0, 0) => late.clone(),
        (0, _) => vec![state("terminated")],
        _ => vec![state("stopped")],
    })
    .await;
    let cp = server.client();
    let id = InstanceId::from("i-1");
    let dropped = tokio::time::timeout(Duration::from_millis(200), cp.instance_state(&id)).await;
    assert!(
        dropped.is_err(),
        "the late answer arrived in time: {dropped:?}"
    );
    assert_eq!(cp.instance_state(&id).await, Ok(InstanceState::Stopped));
    let conns: Vec<usize> = server.seen().iter().map(|seen| seen.conn).collect();
    assert_eq!(
        conns,
        [0, 1],
        "the second request must go out on a new connection"
    );
}

#[tokio::test]
async fn a_call_dropped_while_awaiting_headers_leaves_nothing_behind() {
    abandoned_call_leaves_nothing_behind(vec![pause(2_000), state("running")]).await;
}

#[tokio::test]
async fn a_call_dropped_mid_body_leaves_nothing_behind() {
    abandoned_call_leaves_nothing_behind(vec![
        head_only(RUNNING.len()),
        raw(&RUNNING[..5]),
        pause(2_000),
        raw(&RUNNING[5..]),
    ])
    .await;
}
