//! End to end: a signed GitHub push to a running gate-server is published on
//! the real RabbitMQ (127.0.0.1:5672, an exchange of its own) and triggers
//! the Docker Hub build of the image mapped to the repository, on a local
//! server that answers like Docker Hub. A failed trigger is spooled and
//! redelivered.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::amqp::Consumer;
use common::{github_headers, github_signature, payload, unique, Running, AMQP_URL};
use gate_conduit::test_server::{Recorded, Reply, TestServer};
use http::StatusCode;
use serde_json::json;

const SECRET: &str = "dockerhub-e2e-secret";
const SOURCE: &str = "6e1c3a5f-7b9d-4f2e-8a0c-1d3f5b7e9a2c";
const TRIGGER: &str = "b4d6f8a0-2c4e-4a6b-9d1f-3e5a7c9b1d4f";
const TOKEN: &str = "legacy-e2e-token-8c2e4a6f";
/// `payloads/github/push-one-commit.json` pushes `acme/widgets` main.
const CALL_PATH: &str =
    "/api/build/v1/source/6e1c3a5f-7b9d-4f2e-8a0c-1d3f5b7e9a2c/trigger/b4d6f8a0-2c4e-4a6b-9d1f-3e5a7c9b1d4f/call/";

/// The production `DockerHubTriggers.json`, plus a legacy tokens file for
/// another repository.
fn write_maps(dir: &Path) -> (String, String) {
    let triggers = dir.join("DockerHubTriggers.json");
    std::fs::write(
        &triggers,
        json!({"acme/widgets": {"source": SOURCE, "trigger": TRIGGER}}).to_string(),
    )
    .expect("write triggers");
    let tokens = dir.join("DockerHubTokens.json");
    std::fs::write(&tokens, json!({"acme/gadgets": TOKEN}).to_string()).expect("write tokens");
    (triggers.display().to_string(), tokens.display().to_string())
}

fn config(exchange: &str, hub: &str, dir: &Path, timeout_ms: u64) -> String {
    let (triggers, tokens) = write_maps(dir);
    format!(
        r#"
        [server]
        delivery_deadline_ms = 3000

        [spool]
        path = {spool:?}
        retry_initial_ms = 100
        retry_max_ms = 400

        [sinks.rabbit]
        kind = "amqp"
        url = "{AMQP_URL}"
        exchange = "{exchange}"
        confirm_timeout_ms = 2000

        [sinks.dockerhub]
        kind = "dockerhub"
        triggers_file = {triggers:?}
        tokens_file = {tokens:?}
        base_url = "{hub}"
        legacy_base_url = "{hub}"
        timeout_ms = {timeout_ms}

        [sources.GitHub.doors.acme]
        sinks = ["rabbit", "dockerhub"]
        secrets = ["{SECRET}"]
        default_group = "ci"
        "#,
        spool = dir.join("spool.redb").display().to_string()
    )
}

async fn push(server: &Running, delivery: &str) -> common::Answer {
    let body = payload("github/push-one-commit.json");
    let headers = github_headers("push", delivery, &github_signature(SECRET, &body));
    server.post("/gate/GitHub/acme", &headers, body).await
}

fn action<'a>(report: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    report["actions"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["action"] == kind))
        .unwrap_or_else(|| panic!("no {kind} action in {report}"))
}

fn assert_no_secret(text: &str) {
    for secret in [SOURCE, TRIGGER, TOKEN] {
        assert!(!text.contains(secret), "a credential leaked: {text}");
    }
}

fn calls(hub: &TestServer) -> Vec<Recorded> {
    hub.requests()
        .into_iter()
        .filter(|r| r.uri.path() == CALL_PATH)
        .collect()
}

/// Wait until the fake hub has seen `count` trigger calls.
async fn wait_for_calls(hub: &TestServer, count: usize) {
    let started = Instant::now();
    while calls(hub).len() < count {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{} trigger call(s) after 10 s, expected {count}",
            calls(hub).len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn signed_push_is_published_and_triggers_the_docker_hub_build() {
    let hub = TestServer::start(|request| {
        if request.uri.path() == CALL_PATH {
            Reply::json(&json!({"state": "Pending"}))
        } else {
            Reply::status(404)
        }
    })
    .await
    .expect("hub");
    let exchange = unique("test.dockerhub.push");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let dir = tempfile::tempdir().expect("dir");
    let gateway = common::gateway_with_state(&config(&exchange, &hub.url(), dir.path(), 2000));
    let server = Running::start(gateway).await;

    let answer = push(&server, "dh-e2e-1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(action(&report, "amqp")["status"], "delivered");
    let dockerhub = action(&report, "dockerhub");
    assert_eq!(dockerhub["status"], "delivered", "{report}");
    assert_eq!(dockerhub["target"], "acme/widgets");
    assert_eq!(dockerhub["routingKey"], "acme.ci.github.push");
    assert_no_secret(&answer.text());

    let message = consumer
        .next(Duration::from_secs(5))
        .await
        .expect("the notification on the exchange");
    assert_eq!(message.routing_key.as_str(), "acme.ci.github.push");
    let calls = calls(&hub);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].method, http::Method::POST);

    // /config and /metrics show the sink, never its ids.
    let described = server.get("/config").await;
    assert_eq!(described.status, StatusCode::OK);
    assert!(
        described.text().contains("DockerHubTriggers.json"),
        "{}",
        described.text()
    );
    assert_no_secret(&described.text());
    let metrics = server.get("/metrics").await.text();
    for expected in [
        "gate_sink_stat{sink=\"dockerhub\",stat=\"builds_triggered\"} 1",
        "gate_sink_stat{sink=\"dockerhub\",stat=\"images_mapped\"} 2",
        "gate_sink_actions_total{sink=\"dockerhub\",status=\"delivered\",reason=\"ok\"} 1",
    ] {
        assert!(
            metrics.contains(expected),
            "missing {expected:?} in:\n{metrics}"
        );
    }
    assert_no_secret(&metrics);
    server.stop().await;
    consumer.delete().await;
}

/// Docker Hub fails the first call (`first` says how), then accepts.
async fn flaky_hub(first: Reply) -> TestServer {
    let seen = AtomicUsize::new(0);
    TestServer::start(move |request| {
        if request.uri.path() != CALL_PATH {
            return Reply::status(404);
        }
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            first.clone()
        } else {
            Reply::json(&json!({"state": "Pending"}))
        }
    })
    .await
    .expect("hub")
}

#[tokio::test]
async fn failed_triggers_are_spooled_and_called_again() {
    let cases = [
        (
            "5xx",
            Reply::status(502),
            300,
            "docker hub answered http 502 Bad Gateway",
        ),
        (
            "timeout",
            Reply::json(&json!({"state": "Pending"})).after(Duration::from_secs(2)),
            300,
            "no answer within 300 ms",
        ),
        // A sink timeout above the gateway's deadline: the deadline answers.
        (
            "deadline",
            Reply::json(&json!({"state": "Pending"})).after(Duration::from_secs(8)),
            20_000,
            "the sink did not answer within 3000 ms",
        ),
    ];
    for (name, first, timeout_ms, reason) in cases {
        let hub = flaky_hub(first).await;
        let exchange = unique(&format!("test.dockerhub.spool.{name}"));
        let mut consumer = Consumer::bind(&exchange, "#").await;
        let dir = tempfile::tempdir().expect("dir");
        let gateway =
            common::gateway_with_state(&config(&exchange, &hub.url(), dir.path(), timeout_ms));
        let spool = gateway.state().spool.clone().expect("spool");
        let server = Running::start(gateway).await;

        let started = Instant::now();
        let answer = push(&server, &format!("dh-spool-{name}")).await;
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{name}: answered after {:?}",
            started.elapsed()
        );
        assert_eq!(
            answer.status,
            StatusCode::ACCEPTED,
            "{name}: {}",
            answer.text()
        );
        let report = answer.json();
        assert_eq!(action(&report, "amqp")["status"], "delivered", "{name}");
        let dockerhub = action(&report, "dockerhub");
        assert_eq!(dockerhub["status"], "spooled", "{name}: {report}");
        // When the gateway's deadline answers for the sink, it names the
        // sink: only the sink knows the images.
        let target = if name == "deadline" {
            "dockerhub"
        } else {
            "acme/widgets"
        };
        assert_eq!(dockerhub["target"], target, "{name}");
        let message = dockerhub["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{name}: {message}");
        assert_no_secret(&answer.text());
        assert!(
            consumer.next(Duration::from_secs(5)).await.is_some(),
            "{name}: published"
        );

        // The redelivery loop calls the trigger again; the entry leaves the
        // spool once Docker Hub accepted it.
        wait_for_calls(&hub, 2).await;
        let started = Instant::now();
        while spool.depth() > 0 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{name}: still spooled"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(calls(&hub).len(), 2, "{name}: no third call once confirmed");
        assert!(
            consumer.drain(Duration::from_millis(300)).await.is_empty(),
            "{name}: the AMQP message is not published again"
        );
        server.stop().await;
        consumer.delete().await;
    }
}

fn gate_server(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_gate-server"))
        .args(args)
        .env_remove("GATE_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run gate-server");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn config_check_and_show_never_print_the_ids() {
    let dir = tempfile::tempdir().expect("dir");
    // A closed port: `config check` must not need Docker Hub or RabbitMQ.
    let text = config("unused", "http://127.0.0.1:9", dir.path(), 2000).replace(
        "[sources.GitHub.doors.acme]",
        &format!(
            "[sinks.dockerhub.triggers]\n\"acme/inline\" = {{ source = \"{SOURCE}\", trigger = \"{TRIGGER}\", branches = [\"main\"] }}\n\n[sources.GitHub.doors.acme]"
        ),
    );
    let path = dir.path().join("gate.toml");
    std::fs::write(&path, &text).expect("write config");
    let path = path.display().to_string();

    let (code, stdout, stderr) = gate_server(&["config", "check", "--config", &path]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_no_secret(&format!("{stdout}{stderr}"));
    let (code, stdout, stderr) = gate_server(&["config", "show", "--config", &path]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"acme/inline\""), "{stdout}");
    assert!(stdout.contains("\"kind\": \"dockerhub\""), "{stdout}");
    assert_no_secret(&format!("{stdout}{stderr}"));

    // A broken map stops the check, with its place and without its ids.
    std::fs::write(
        dir.path().join("DockerHubTriggers.json"),
        json!({"acme/widgets": {"source": SOURCE}}).to_string(),
    )
    .expect("break the map");
    let (code, stdout, stderr) = gate_server(&["config", "check", "--config", &path]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("DockerHubTriggers.json: \"acme/widgets\": missing \"trigger\""),
        "{stderr}"
    );
    assert_no_secret(&format!("{stdout}{stderr}"));
}
