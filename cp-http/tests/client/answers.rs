//! Complete answers, each mapped onto the port's vocabulary.

use reconciler_core::{ControlPlane, CpError, InstanceId, InstanceState};

use crate::support::{Step, ok, raw, reply, serve, state};

/// Asks one question of a server that answers every request with `steps`.
async fn ask(steps: Vec<Step>) -> Result<InstanceState, CpError> {
    let server = serve(move |_, _| steps.clone()).await;
    server
        .client()
        .instance_state(&InstanceId::from("i-1"))
        .await
}

#[tokio::test]
async fn each_state_word_is_its_state() {
    for (word, expected) in [
        ("pending", InstanceState::Pending),
        ("running", InstanceState::Running),
        ("stopping", InstanceState::Stopping),
        ("stopped", InstanceState::Stopped),
        ("shutting-down", InstanceState::ShuttingDown),
        ("terminated", InstanceState::Terminated),
    ] {
        assert_eq!(ask(vec![state(word)]).await, Ok(expected), "{word}");
    }
}

#[tokio::test]
async fn missing_empty_null_and_unknown_states_are_unrecognized() {
    for body in [
        "{}",
        "null",
        r#"{"state":""}"#,
        r#"{"state":null}"#,
        r#"{"state":"hibernating"}"#,
        r#"{"state":"Running"}"#,
        r#"{"state":"not-found"}"#,
        r#"{"id":"i-1","status":"running"}"#,
    ] {
        assert_eq!(
            ask(vec![ok(body)]).await,
            Ok(InstanceState::Unrecognized),
            "{body}"
        );
    }
}

#[tokio::test]
async fn any_2xx_is_read_and_extra_fields_are_ignored() {
    let body = r#"{"id":"i-1","State":"running","zone":{"name":"a"}}"#;
    for status in ["200 OK", "203 Non-Authoritative Information"] {
        assert_eq!(
            ask(vec![reply(status, body)]).await,
            Ok(InstanceState::Running),
            "{status}"
        );
    }
}

#[tokio::test]
async fn a_404_is_not_found_for_the_caller_to_judge() {
    for body in ["", r#"{"error":"no such instance"}"#] {
        let answer = ask(vec![reply("404 Not Found", body)]).await;
        assert_eq!(answer, Ok(InstanceState::NotFound), "{body:?}");
    }
}

#[tokio::test]
async fn other_non_2xx_statuses_are_errors_whatever_the_body() {
    for (status, code) in [
        ("500 Internal Server Error", 500),
        ("503 Service Unavailable", 503),
        ("400 Bad Request", 400),
        ("429 Too Many Requests", 429),
        ("302 Found", 302),
    ] {
        let answer = ask(vec![reply(status, r#"{"state":"running"}"#)]).await;
        assert_eq!(answer, Err(CpError::Status(code)), "{status}");
    }
}

#[tokio::test]
async fn a_2xx_body_that_does_not_decode_is_a_decode_error() {
    for body in [
        "<html>running</html>",
        r#"{"state":5}"#,
        r#"{"state":["running"]}"#,
        r#"["running"]"#,
        r#"{"state":"runn"#,
        r#"{"state":"running"} trailing"#,
        "",
    ] {
        let answer = ask(vec![ok(body)]).await;
        assert!(
            matches!(answer, Err(CpError::Decode(_))),
            "{body:?}: {answer:?}"
        );
    }
    let no_content = ask(vec![raw("HTTP/1.1 204 No Content\r\n\r\n")]).await;
    assert!(
        matches!(no_content, Err(CpError::Decode(_))),
        "{no_content:?}"
    );
}

#[tokio::test]
async fn a_body_over_a_mebibyte_is_refused_unread() {
    let body = format!(r#"{{"state":"running","pad":"{}"}}"#, "x".repeat(1 << 20));
    let answer = ask(vec![ok(&body)]).await;
    match answer {
        Err(CpError::Decode(message)) => assert!(message.contains("longer than"), "{message}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_request_names_the_instance_host_and_json() {
    let server = serve(|_, _| vec![state("running")]).await;
    let cp = server.client();
    for id in ["i-0abc123", "odd/id?x y"] {
        assert_eq!(
            cp.instance_state(&InstanceId::from(id)).await,
            Ok(InstanceState::Running)
        );
    }
    let heads: Vec<String> = server
        .seen()
        .into_iter()
        .map(|seen| seen.head.to_ascii_lowercase())
        .collect();
    assert_eq!(heads.len(), 2);
    assert!(
        heads[0].starts_with("get /cp/instances/i-0abc123 http/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[1].starts_with("get /cp/instances/odd%2fid%3fx%20y http/1.1\r\n"),
        "{}",
        heads[1]
    );
    for head in &heads {
        assert!(head.contains("\r\nhost: cp.test"), "{head}");
        assert!(head.contains("\r\naccept: application/json"), "{head}");
    }
}

#[tokio::test]
async fn chunked_and_close_delimited_bodies_are_read_whole() {
    let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                   9\r\n{\"state\":\r\na\r\n\"stopping\"\r\n1\r\n}\r\n0\r\n\r\n";
    assert_eq!(ask(vec![raw(chunked)]).await, Ok(InstanceState::Stopping));
    let until_close = "HTTP/1.1 200 OK\r\n\r\n{\"state\":\"stopping\"}";
    let answer = ask(vec![raw(until_close), Step::Close]).await;
    assert_eq!(answer, Ok(InstanceState::Stopping));
}
