//! Commands whose output an operator pipes into `head` or `grep`: a reader
//! that goes away ends the command quietly (status 0), never with a panic.

use std::process::{Command, Stdio};

/// Run `gate-server args`, closing its stdout before it writes anything;
/// returns the exit code and stderr.
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(args)
        .env_remove("GATE_CONFIG")
        .env("RUST_LOG", "warn")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gate-server");
    // The reader goes away before the command has started its output.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn simulate_into_a_closed_pipe_exits_quietly() {
    let payload = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../payloads/github/push-three-commits.json"
    );
    let (code, stderr) =
        with_closed_stdout(&["simulate", "GitHub", "demo", payload, "--event", "push"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn completions_into_a_closed_pipe_exit_quietly() {
    let (code, stderr) = with_closed_stdout(&["completions", "bash"]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn completions_name_every_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(["completions", "bash"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let script = String::from_utf8_lossy(&output.stdout);
    for command in [
        "serve",
        "config",
        "simulate",
        "tail",
        "spool",
        "completions",
    ] {
        assert!(
            script.contains(command),
            "{command} missing from the script"
        );
    }
}
