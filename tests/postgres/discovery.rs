//! How a Postgres test finds its server, and what it says when there is
//! none.

use std::process::Command;

use crate::support::postgres::{
    DEFAULT_IMAGE, IMAGE_VAR, LOCAL_IMAGE, no_postgres_message, parse_image, test_db,
};

/// The discovery path in use finds a server whose database is migrated.
/// Also run, in a child process with no DATABASE_URL and no Docker, by the
/// test below, where it must fail with instructions.
#[tokio::test]
async fn a_server_is_found_or_the_test_explains() {
    let t = test_db().await;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables \
         WHERE tablename IN ('workspaces', 'workspaces_audit', 'structure_events')",
    )
    .fetch_one(&t.db.admin)
    .await
    .unwrap();
    assert_eq!(tables, 3);
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&t.db.admin)
        .await
        .unwrap();
    assert_eq!(db, t.name());
}

#[test]
fn without_docker_the_failure_says_how_to_provide_postgres() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "discovery::a_server_is_found_or_the_test_explains",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("DATABASE_URL")
        .env(
            "DOCKER_HOST",
            "unix:///nonexistent/reconciler-sim/docker.sock",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "the child must fail, not skip:\n{stdout}\n{stderr}"
    );
    for needle in [
        "DATABASE_URL=postgres://",
        IMAGE_VAR,
        "ci/postgres-image.sh",
        "failed to initialize a docker client",
    ] {
        assert!(
            stderr.contains(needle),
            "{needle:?} missing from the child's failure:\n{stderr}"
        );
    }
}

#[test]
fn the_message_names_every_way_out() {
    let msg = no_postgres_message("postgres:17-alpine", &"Socket not found");
    for needle in [
        "DATABASE_URL=postgres://",
        "RECONCILER_SIM_PG_IMAGE",
        "ci/postgres-image.sh",
        LOCAL_IMAGE,
        DEFAULT_IMAGE,
        "Socket not found",
    ] {
        assert!(msg.contains(needle), "{needle:?} missing from:\n{msg}");
    }
}

#[test]
fn image_names_parse_as_name_and_tag() {
    assert_eq!(
        parse_image("postgres:17-alpine"),
        Ok(("postgres", "17-alpine"))
    );
    assert_eq!(
        parse_image(LOCAL_IMAGE),
        Ok(("reconciler-sim/postgres", "15-bookworm"))
    );
    assert_eq!(
        parse_image("registry:5000/team/postgres:16"),
        Ok(("registry:5000/team/postgres", "16"))
    );
    for bad in ["postgres", "registry:5000/postgres", "postgres:", ":17", ""] {
        assert!(parse_image(bad).is_err(), "{bad:?}");
    }
}
