//! The library's `launch` entry points, which custom binaries call instead
//! of repeating `gate-server serve`.

use gate_server::launch::{self, LaunchError};

#[tokio::test]
async fn a_broken_file_is_refused_with_every_problem_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gate.toml");
    std::fs::write(
        &path,
        "[sinks.local]\nkind = \"nope\"\n[sources.GitHub.doors.acme]\nsinks = [\"missing\"]\n",
    )
    .expect("write");
    let config = launch::load(Some(&path)).await.expect("valid TOML");
    let error = launch::build(config).expect_err("two problems");
    let LaunchError::Invalid(ref problems) = error else {
        panic!("not an invalid configuration: {error:?}");
    };
    assert_eq!(problems.0.len(), 2, "{error}");
    let text = launch::describe(&error);
    assert!(
        text.starts_with("invalid configuration (2 problem(s)):\n"),
        "{text}"
    );
    assert!(text.contains("nope"), "{text}");
    assert!(text.contains("missing"), "{text}");
}

#[tokio::test]
async fn an_unreadable_file_names_the_file() {
    let error = launch::load(Some(std::path::Path::new("/nonexistent/gate.toml")))
        .await
        .expect_err("no such file");
    let text = launch::describe(&error);
    assert!(text.contains("/nonexistent/gate.toml"), "{text}");
}

#[tokio::test]
async fn serve_reports_a_taken_port_and_the_spool_it_opened_is_released() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let listen = taken.local_addr().expect("addr");
    let path = dir.path().join("gate.toml");
    let spool = dir.path().join("spool.redb");
    let out = dir.path().join("out.jsonl");
    std::fs::write(
        &path,
        format!(
            "[server]\nlisten = \"{listen}\"\ndefault_sinks = [\"local\"]\n[spool]\npath = {:?}\n\
             [sinks.local]\nkind = \"file\"\npath = {:?}\nlog = false\n\
             [sources.Jenkins.doors.ci]\ninsecure_no_token = true\n",
            spool.display().to_string(),
            out.display().to_string()
        ),
    )
    .expect("write");
    let error = launch::serve(Some(path.clone()))
        .await
        .expect_err("the port is taken");
    assert!(
        matches!(error, LaunchError::Listen { listen: l, .. } if l == listen),
        "{error:?}"
    );
    let text = launch::describe(&error);
    assert!(
        text.starts_with(&format!("cannot listen on {listen}: ")),
        "{text}"
    );
    // A second try after the port is freed gets past the spool lock.
    assert!(spool.exists());
    drop(taken);
    let config = launch::load(Some(&path)).await.expect("load");
    gate_server::state::GateState::open(&config).expect("spool lock released");
}
