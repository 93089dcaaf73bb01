//! Tests compiled into this binary, so they see exactly its link set.

use bytes::Bytes;
use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_server::{Config, Gateway};
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use serde_json::Value;

#[test]
fn registry_has_gitea_and_nats_besides_the_built_in_plugins() {
    let registry = gate_server::registry().expect("a valid registry");
    let sources = registry.source_kinds();
    assert!(sources.contains(&"Gitea"), "{sources:?}");
    // The stock plugins are still there: linking one more removes none.
    for built_in in [
        "GitHub",
        "DockerHub",
        "Jenkins",
        "Notification",
        "Phabricator",
    ] {
        assert!(
            sources.contains(&built_in),
            "{built_in} missing: {sources:?}"
        );
    }
    let sinks = registry.sink_kinds();
    assert!(
        sinks.contains(&"nats"),
        "the NATS sink is linked: {sinks:?}"
    );
    for built_in in ["amqp", "file", "http"] {
        assert!(sinks.contains(&built_in), "{built_in} missing: {sinks:?}");
    }
}

#[tokio::test]
async fn example_configuration_is_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The example reads its secrets with `env:`; inline them here rather
    // than change the process environment under parallel tests.
    let text = include_str!("../gate.toml")
        .replace("env:GITHUB_WEBHOOK_SECRET", "github-secret")
        .replace("env:GITEA_WEBHOOK_SECRET", "gitea-secret")
        .replace(
            "\"notifications.jsonl\"",
            &format!("{:?}", dir.path().join("n.jsonl")),
        );
    assert!(!text.contains("env:"), "{text}");
    let config = Config::parse("gate.toml", &text, []).expect("parses");
    let registry = gate_server::registry().expect("registry");
    let gateway = Gateway::build(config, registry).expect("valid");
    assert!(gateway.door("Gitea", "acme").is_some());
    assert!(gateway.door("GitHub", "acme").is_some());
}

#[tokio::test]
async fn signed_gitea_push_reaches_the_file_sink() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl");
    let toml_text = format!(
        r#"
        [sinks.local]
        kind = "file"
        path = {out:?}
        log = false

        [sources.Gitea.doors.acme]
        secrets = ["gitea-secret"]
        sinks = ["local"]
        "#,
        out = out.display().to_string()
    );
    let config = Config::parse("test.toml", &toml_text, []).expect("config");
    let registry = gate_server::registry().expect("registry");
    let gateway = Gateway::build(config, registry).expect("gateway");

    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../custom-source/payloads/push-two-commits.json"
    ))
    .expect("payload");
    let sign = |secret: &str| sign_hmac_hex(HmacAlgorithm::Sha256, secret.as_bytes(), &body);
    let post = |signature: String| {
        http::Request::builder()
            .method("POST")
            .uri("/gate/Gitea/acme")
            .header("content-type", "application/json")
            .header("x-gitea-event", "push")
            .header("x-gitea-delivery", "5b0e6a3c-1f2d-4e8a-9c7b-0d1e2f3a4b5c")
            .header("x-gitea-signature", signature)
            .body(Full::new(Bytes::from(body.clone())))
            .expect("request")
    };

    let forged = gate_server::route(&gateway, post(sign("guess")), None).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(!out.exists() || std::fs::read_to_string(&out).expect("read").is_empty());

    let response = gate_server::route(&gateway, post(sign("gitea-secret")), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = serde_json::from_slice(
        &response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes(),
    )
    .expect("report json");
    assert_eq!(report["gate"], "Gitea");
    // Event ids are scoped by source and door (docs/decisions.md).
    assert_eq!(
        report["delivery"],
        "Gitea/acme/5b0e6a3c-1f2d-4e8a-9c7b-0d1e2f3a4b5c"
    );
    assert_eq!(report["actions"][0]["status"], "delivered");
    assert_eq!(
        report["actions"][0]["routingKey"],
        "acme.default.gitea.push"
    );

    let written = std::fs::read_to_string(&out).expect("sink file");
    let lines: Vec<Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1, "{written}");
    let notification = &lines[0]["notification"];
    assert_eq!(notification["service"], "Gitea");
    assert_eq!(
        notification["text"],
        "octocat pushed 2 commits to main of acme/widgets"
    );
    assert!(notification["link"]
        .as_str()
        .expect("link")
        .starts_with("https://gitea.acme.example/acme/widgets/compare/"));
    assert_eq!(notification["rawContent"]["total_commits"], 2);
}

/// `simulate --url` against a running gateway: the third-party source signs
/// the request itself (`Source::sign`), so the gateway accepts it when the
/// simulating configuration has the door's secret, and refuses it when not.
#[tokio::test]
async fn simulate_signs_a_third_party_source_for_a_running_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.jsonl");
    let door = |secret: &str| {
        format!(
            r#"
            [sinks.local]
            kind = "file"
            path = {out:?}
            log = false

            [sources.Gitea.doors.acme]
            secrets = ["{secret}"]
            sinks = ["local"]
            "#,
            out = out.display().to_string()
        )
    };
    let config = Config::parse("served.toml", &door("gitea-secret"), []).expect("config");
    let gateway =
        Gateway::build(config, gate_server::registry().expect("registry")).expect("gateway");
    let gate = gate_server::Gate::from_gateway(std::sync::Arc::new(gateway));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = gate_server::server::serve(&gate, listener, async {
        let _ = stopped.await;
    });

    let payload = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../custom-source/payloads/push-two-commits.json"
    ));
    let simulate = |secret: &str| {
        let path = dir.path().join(format!("{secret}.toml"));
        std::fs::write(&path, door(secret)).expect("write config");
        gate_server::cli::simulate::SimulateArgs {
            source: "Gitea".into(),
            door: "acme".into(),
            payload: payload.clone(),
            event: Some("push".into()),
            headers: Vec::new(),
            query: None,
            unsigned: false,
            send: false,
            url: Some(format!("http://{address}")),
            config: Some(path),
        }
    };

    let checks = async {
        let (report, code) = gate_server::cli::simulate::outcome(&simulate("gitea-secret")).await;
        let report = report.expect("a report");
        assert_eq!(code, 0, "{report}");
        assert_eq!(report["status"], 200, "{report}");
        assert_eq!(report["answer"]["actions"][0]["status"], "delivered");
        assert!(
            report["credentials"]["X-Gitea-Signature"]
                .as_str()
                .is_some_and(|s| s.len() == 64),
            "{report}"
        );
        let written = std::fs::read_to_string(&out).expect("the file sink wrote");
        assert_eq!(written.lines().count(), 1, "{written}");

        let (report, code) = gate_server::cli::simulate::outcome(&simulate("not-the-secret")).await;
        let report = report.expect("a report");
        assert_eq!(code, 1, "{report}");
        assert_eq!(report["status"], 403, "{report}");
        assert_eq!(
            report["answer"]["error"]["type"], "bad_signature",
            "{report}"
        );
        assert_eq!(
            std::fs::read_to_string(&out).expect("read").lines().count(),
            1,
            "a refused request delivers nothing"
        );
        let _ = stop.send(());
    };
    tokio::join!(serving, checks);
    gate.shutdown().await;
}
