//! A gateway configured by its environment alone (a container's usual
//! setup): `GATE__...` overrides add sources, doors and sinks that the file
//! lacks, and `config show` prints the whole effective configuration with
//! where each value came from.

mod common;

use std::process::Command;

use common::{call, github_headers, github_signature, payload, request};
use gate_server::{Config, Gateway};

const SECRET: &str = "only-in-the-environment-5f3a9c";

fn overrides(out: &str) -> Vec<(String, String)> {
    [
        ("GATE__SINKS__OUT__KIND", "file"),
        ("GATE__SINKS__OUT__PATH", out),
        (
            "GATE__SOURCES__GITHUB__DOORS__ACME__SECRETS",
            &format!("[\"{SECRET}\"]"),
        ),
        ("GATE__SOURCES__GITHUB__DOORS__ACME__SINKS", "[\"out\"]"),
        ("GATE__SERVER__LISTEN", "127.0.0.1:0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test]
async fn environment_adds_a_source_door_and_sink_that_receive_a_push() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let config = Config::parse("gate.toml", "[server]\n", overrides(&out)).expect("valid");
    let registry = gate_server::registry().expect("plugins");
    let gateway = Gateway::build(config, registry).unwrap_or_else(|e| panic!("{e}"));
    let body = payload("github/push-three-commits.json");
    let signature = github_signature(SECRET, &body);
    let headers = github_headers("push", "env-1", &signature);
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = call(
        &gateway,
        request("POST", "/gate/GitHub/acme", &headers, body),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let written = std::fs::read_to_string(&out).expect("the env-declared sink wrote");
    assert!(
        written.contains("\"delivery\":\"GitHub/acme/env-1\""),
        "{written}"
    );
}

#[test]
fn config_show_prints_every_section_with_origins_and_no_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl").display().to_string();
    let file = dir.path().join("gate.toml");
    std::fs::write(&file, "[spool]\nmax_entries = 5000\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(["config", "show", "--config", &file.display().to_string()])
        .env_remove("GATE_CONFIG")
        .envs(overrides(&out))
        .current_dir(dir.path())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    let shown: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    for section in ["server", "spool", "dedup", "deliveries", "sinks", "sources"] {
        assert!(shown[section].is_object(), "{section} missing: {stdout}");
    }
    assert_eq!(shown["dedup"]["window_seconds"], 86400);
    assert_eq!(shown["server"]["max_connections"], 1024);
    assert_eq!(
        shown["sources"]["GitHub"]["doors"]["acme"]["secrets"][0],
        "set"
    );
    let origins = &shown["origins"];
    assert_eq!(origins["spool.max_entries"], "file");
    assert_eq!(origins["spool.path"], "default");
    assert_eq!(origins["server.listen"], "environment GATE__SERVER__LISTEN");
    assert_eq!(
        origins["sources.GitHub.doors.acme.secrets"],
        "environment GATE__SOURCES__GITHUB__DOORS__ACME__SECRETS"
    );
    assert_eq!(
        origins["sinks.out.path"],
        "environment GATE__SINKS__OUT__PATH"
    );
}
