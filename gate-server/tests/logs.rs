//! Log lines as an operator's collector reads them: `serve` with its stderr
//! going to a pipe (as under systemd or a container runtime).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The `gate-server listening` log line of `serve` on the embedded default
/// (port 0, in a temporary directory), then the process is stopped. The
/// lines before it (warnings about the demo's unauthenticated doors) are
/// checked for colour codes too.
fn first_serve_line(extra_args: &[&str], envs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_gate-server"));
    command
        .args(extra_args)
        .arg("serve")
        .env_remove("GATE_CONFIG")
        .env_remove("GATE_LOG_FORMAT")
        .env("RUST_LOG", "info")
        .env("GATE__SERVER__LISTEN", "127.0.0.1:0")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("start gate-server");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut reader = BufReader::new(stderr);
    let mut line = String::new();
    for _ in 0..20 {
        line.clear();
        reader.read_line(&mut line).expect("read a log line");
        if line.contains('\u{1b}') || line.contains("gate-server listening") || line.is_empty() {
            break;
        }
    }
    stop(child);
    line
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn text_logs_to_a_pipe_have_no_colour_codes() {
    let line = first_serve_line(&[], &[]);
    assert!(line.contains("gate-server listening"), "{line}");
    assert!(
        !line.contains('\u{1b}'),
        "ANSI escape in a piped log line: {line:?}"
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    for (args, envs) in [
        (vec!["--log-format", "json"], vec![]),
        (vec![], vec![("GATE_LOG_FORMAT", "json")]),
        // The configuration's `server.log_format` (here by its override).
        (vec![], vec![("GATE__SERVER__LOG_FORMAT", "json")]),
    ] {
        let line = first_serve_line(&args, &envs);
        let object: serde_json::Value =
            serde_json::from_str(line.trim_end()).expect("a JSON object per line");
        assert_eq!(object["message"], "gate-server listening", "{line}");
        assert_eq!(object["level"], "INFO", "{line}");
        assert!(object["timestamp"].is_string(), "{line}");
    }
}
