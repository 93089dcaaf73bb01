//! `amqps://` against a private TLS node started by the test, with
//! certificates made up by the test: a CA file, a client certificate and
//! RabbitMQ's EXTERNAL mechanism (no password); a wrong CA is a clear error
//! and the event is spooled. Key contents are never shown.

mod common;

use std::path::Path;
use std::time::Duration;

use common::broker::{BrokerOptions, PrivateBroker, ServerTls};
use common::{github_headers, github_signature, payload, unique};
use gate_testkit::pki::TestPki;
use http::StatusCode;
use lapin::options::{QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

const SECRET: &str = "tls-secret";

struct TlsNode {
    broker: PrivateBroker,
    pki: TestPki,
}

fn tls_node() -> TlsNode {
    let pki = TestPki::generate("gate-client");
    let broker = PrivateBroker::start_with(&BrokerOptions {
        tls: Some(ServerTls {
            ca_pem: pki.ca.cert.clone(),
            cert_pem: pki.server.cert.clone(),
            key_pem: pki.server.key.clone(),
            require_client_certificate: false,
        }),
        plugins: vec!["rabbitmq_auth_mechanism_ssl".into()],
    });
    // The user the client certificate names (EXTERNAL): its password is
    // never used.
    broker.ctl(&["add_user", &pki.client_name, "unused-password-1f9c"]);
    broker.ctl(&[
        "set_permissions",
        "-p",
        "/",
        &pki.client_name,
        ".*",
        ".*",
        ".*",
    ]);
    TlsNode { broker, pki }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

fn config(node: &TlsNode, dir: &Path, exchange: &str, ca_pem: &str) -> String {
    let tls_port = node.broker.tls_port.expect("TLS port");
    format!(
        r#"
        [server]
        delivery_deadline_ms = 4000

        [spool]
        path = {spool:?}

        [sinks.rabbit]
        kind = "amqp"
        url = "amqps://localhost:{tls_port}/%2f"
        exchange = "{exchange}"
        ca_file = {ca:?}
        cert_file = {cert:?}
        key_file = {key:?}
        auth_mechanism = "external"
        confirm_timeout_ms = 3000
        connect_timeout_ms = 3000
        reconnect_interval_ms = 100

        [sources.GitHub.doors.acme]
        sinks = ["rabbit"]
        secrets = ["{SECRET}"]
        "#,
        spool = dir.join("spool.redb").display().to_string(),
        ca = write(dir, "ca.pem", ca_pem),
        cert = write(dir, "client.pem", &node.pki.client.cert),
        key = write(dir, "client.key", &node.pki.client.key),
    )
}

async fn push(gateway: &gate_server::Gateway, id: &str) -> common::Answer {
    let body = payload("github/push-one-commit.json");
    let headers = github_headers("push", id, &github_signature(SECRET, &body));
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    common::call(
        gateway,
        common::request("POST", "/gate/GitHub/acme", &headers, body),
    )
    .await
}

async fn get(gateway: &gate_server::Gateway, path: &str) -> common::Answer {
    common::call(gateway, common::request("GET", path, &[], Vec::new())).await
}

/// The private key's base64 body: it must appear in no answer.
fn key_body(key_pem: &str) -> String {
    key_pem.lines().nth(1).expect("a PEM body line").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_and_external_login_over_tls() {
    let node = tokio::task::spawn_blocking(tls_node).await.expect("node");
    let exchange = unique("tls.ok");
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway =
        common::gateway_with_state(&config(&node, dir.path(), &exchange, &node.pki.ca.cert));

    // A consumer over the plain port binds once the gateway declared the
    // exchange (it connects eagerly).
    let mut ready = get(&gateway, "/ready").await;
    for _ in 0..50 {
        if ready.status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        ready = get(&gateway, "/ready").await;
    }
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    let connection = Connection::connect(&node.broker.url(), ConnectionProperties::default())
        .await
        .expect("plain connection");
    let channel = connection.create_channel().await.expect("channel");
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("queue");
    channel
        .queue_bind(
            queue.name().clone(),
            exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");

    let answer = push(&gateway, "over-tls").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["actions"][0]["status"], "delivered");
    let message = channel
        .basic_get(queue.name().clone(), Default::default())
        .await
        .expect("basic.get")
        .expect("the message went through the TLS connection");
    assert_eq!(
        message
            .delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| m.as_str()),
        Some("GitHub/acme/over-tls")
    );
    // The broker saw a TLS connection logged in as the certificate's name.
    let listed = std::process::Command::new("rabbitmqctl")
        .args([
            "-n",
            node.broker.node(),
            "list_connections",
            "user",
            "ssl",
            "auth_mechanism",
        ])
        .output()
        .expect("rabbitmqctl");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("gate-client") && l.contains("true") && l.contains("EXTERNAL")),
        "{listed}"
    );
    let described = get(&gateway, "/config").await.text();
    assert!(
        !described.contains(&key_body(&node.pki.client.key)),
        "/config shows the key"
    );
    let _ = connection.close(200, "done".into()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_is_a_clear_error_and_the_event_is_spooled() {
    let node = tokio::task::spawn_blocking(tls_node).await.expect("node");
    let exchange = unique("tls.wrong-ca");
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = common::gateway_with_state(&config(
        &node,
        dir.path(),
        &exchange,
        &node.pki.other_ca.cert,
    ));
    let answer = push(&gateway, "untrusted").await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
    let action = &answer.json()["actions"][0];
    assert_eq!(action["status"], "spooled");
    let message = answer.first_action_error();
    assert!(
        message.contains("certificate") && message.contains("UnknownIssuer"),
        "not clear: {message}"
    );
    assert!(!message.contains(&key_body(&node.pki.client.key)));
    let spool = gateway.state().spool.clone().expect("spool");
    assert_eq!(spool.depth(), 1, "the event is kept");
    let ready = get(&gateway, "/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.text().contains("certificate"), "{}", ready.text());
}

#[test]
fn unreadable_tls_files_are_configuration_errors_without_contents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_pem = write(dir.path(), "key.txt", "hunter2-not-a-key");
    let text = format!(
        r#"
        [sinks.rabbit]
        kind = "amqp"
        url = "amqps://localhost:5671/%2f"
        ca_file = "/nonexistent/ca.pem"
        cert_file = {not_pem:?}
        key_file = {not_pem:?}
        [sources.GitHub.doors.acme]
        sinks = ["rabbit"]
        secrets = ["{SECRET}"]
        "#
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = runtime.enter();
    let registry = gate_server::registry().expect("plugins");
    let config = gate_server::Config::parse("test.toml", &text, []).expect("parses");
    let Err(error) = gate_server::Gateway::build(config, registry) else {
        panic!("unreadable TLS files must be refused");
    };
    let error = error.to_string();
    assert!(error.contains("sinks.rabbit"), "{error}");
    assert!(
        error.contains("ca_file /nonexistent/ca.pem: cannot read"),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}
