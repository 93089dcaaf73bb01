//! Never lose an accepted event: a sink that cannot confirm sends the event
//! to the spool (202), and the spool is redelivered once the sink is back.
//! Uses the real RabbitMQ behind a TCP proxy that the tests stop and resume.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::amqp::Consumer;
use common::proxy::Proxy;
use common::{github_headers, github_signature, payload, unique, Running};
use http::StatusCode;

const SECRET: &str = "spool-secret";

fn config(exchange: &str, amqp_addr: SocketAddr, spool: &std::path::Path, extra: &str) -> String {
    format!(
        r#"
        [server]
        delivery_deadline_ms = 3000
        {extra}

        [spool]
        path = {spool:?}
        retry_initial_ms = 100
        retry_max_ms = 400

        [sinks.rabbit]
        kind = "amqp"
        url = "amqp://guest:guest@{amqp_addr}/%2f"
        exchange = "{exchange}"
        confirm_timeout_ms = 2000
        connect_timeout_ms = 500
        reconnect_interval_ms = 100

        [sources.GitHub.doors.acme]
        sinks = ["rabbit"]
        secrets = ["{SECRET}"]
        "#,
        spool = spool.display().to_string()
    )
}

async fn push(server: &Running, delivery: &str) -> common::Answer {
    let body = payload("github/push-one-commit.json");
    let headers = github_headers("push", delivery, &github_signature(SECRET, &body));
    server.post("/gate/GitHub/acme", &headers, body).await
}

/// The sender's delivery ids of the messages, in order; every message id
/// must be scoped by its source and door (`GitHub/acme/<id>`).
fn message_ids(messages: &[lapin::message::Delivery]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| m.properties.message_id().as_ref().map(|id| id.to_string()))
        .map(|id| {
            id.strip_prefix("GitHub/acme/")
                .unwrap_or_else(|| panic!("message id {id:?} is not scoped"))
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn outage_events_are_spooled_then_redelivered_in_order() {
    let exchange = unique("test.spool.outage");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let mut proxy = Proxy::start("127.0.0.1:5672".parse().expect("addr")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = common::gateway_with_state(&config(
        &exchange,
        proxy.addr,
        &dir.path().join("spool.redb"),
        "",
    ));
    let server = Running::start(gateway.clone()).await;

    assert_eq!(push(&server, "live-1").await.status, StatusCode::OK);
    proxy.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for i in 0..5 {
        let answer = push(&server, &format!("spooled-{i}")).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
        let action = &answer.json()["actions"][0];
        assert_eq!(action["status"], "spooled");
        assert!(action["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let spool = gateway.state().spool.clone().expect("spool");
    assert_eq!(spool.depth(), 5);

    proxy.resume().await;
    let mut ids = message_ids(&consumer.drain(Duration::from_secs(3)).await);
    for _ in 0..20 {
        if ids.len() >= 6 {
            break;
        }
        ids.extend(message_ids(&consumer.drain(Duration::from_secs(1)).await));
    }
    assert_eq!(
        ids,
        [
            "live-1",
            "spooled-0",
            "spooled-1",
            "spooled-2",
            "spooled-3",
            "spooled-4"
        ]
    );
    assert_eq!(spool.depth(), 0, "delivered entries leave the spool");
    server.stop().await;
    consumer.delete().await;
}

#[tokio::test]
async fn duplicate_deliveries_are_published_once() {
    let exchange = unique("test.spool.dup");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let upstream: SocketAddr = "127.0.0.1:5672".parse().expect("addr");
    let gateway = common::gateway_with_state(&config(
        &exchange,
        upstream,
        &dir.path().join("spool.redb"),
        "",
    ));
    let server = Running::start(gateway).await;

    assert_eq!(push(&server, "same-id").await.status, StatusCode::OK);
    let again = push(&server, "same-id").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["actions"][0]["status"], "duplicate");
    assert_eq!(push(&server, "other-id").await.status, StatusCode::OK);
    let ids = message_ids(&consumer.drain(Duration::from_secs(1)).await);
    assert_eq!(ids, ["same-id", "other-id"]);
    server.stop().await;
    consumer.delete().await;
}

#[tokio::test]
async fn a_failed_attempt_is_not_remembered_as_seen() {
    // No spool: the failure is a 503 and the sender's retry must go through.
    let exchange = unique("test.spool.retry");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let mut proxy = Proxy::start("127.0.0.1:5672".parse().expect("addr")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = config(&exchange, proxy.addr, &dir.path().join("spool.redb"), "")
        .replace("[spool]", "[spool]\nenabled = false");
    let server = Running::start(common::gateway_with_state(&text)).await;
    proxy.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        push(&server, "retry-me").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    proxy.resume().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = push(&server, "retry-me").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["actions"][0]["status"], "delivered");
    assert_eq!(
        message_ids(&consumer.drain(Duration::from_secs(1)).await),
        ["retry-me"]
    );
    server.stop().await;
    consumer.delete().await;
}

#[tokio::test]
async fn a_full_spool_refuses_with_503_and_keeps_what_it_has() {
    let exchange = unique("test.spool.full");
    let mut proxy = Proxy::start("127.0.0.1:5672".parse().expect("addr")).await;
    proxy.stop();
    let dir = tempfile::tempdir().expect("tempdir");
    let text = config(&exchange, proxy.addr, &dir.path().join("spool.redb"), "")
        .replace("[spool]", "[spool]\nmax_entries = 2");
    let gateway = common::gateway_with_state(&text);
    let server = Running::start(gateway.clone()).await;
    assert_eq!(push(&server, "a").await.status, StatusCode::ACCEPTED);
    assert_eq!(push(&server, "b").await.status, StatusCode::ACCEPTED);
    let answer = push(&server, "c").await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text()
    );
    let message = answer.first_action_error();
    assert!(
        message.contains("not spooled: spool is full (2 entries)"),
        "{message}"
    );
    assert_eq!(gateway.state().spool.as_ref().map(|s| s.depth()), Some(2));
    let metrics = server.get("/metrics").await.text();
    assert!(metrics.contains("gate_spool_rejected_total 1"), "{metrics}");
    server.stop().await;
}

#[tokio::test]
async fn maintenance_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = config(
        "unused",
        "127.0.0.1:5672".parse().expect("addr"),
        &dir.path().join("s.redb"),
        "maintenance = true\nmaintenance_retry_after_s = 120",
    );
    let gateway = common::gateway(&text);
    let answer = common::call(
        &gateway,
        common::request("POST", "/gate/GitHub/acme", &[], "{}"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers["retry-after"], "120");
    assert_eq!(answer.json()["error"]["type"], "maintenance");
}

#[tokio::test]
async fn metrics_count_requests_actions_spool_and_duplicates() {
    let exchange = unique("test.spool.metrics");
    let mut proxy = Proxy::start("127.0.0.1:5672".parse().expect("addr")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = common::gateway_with_state(&config(
        &exchange,
        proxy.addr,
        &dir.path().join("spool.redb"),
        "",
    ));
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let server = Running::start(gateway).await;
    let first = push(&server, "m-1").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(push(&server, "m-1").await.status, StatusCode::OK);
    proxy.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(push(&server, "m-2").await.status, StatusCode::ACCEPTED);
    let ready = server.get("/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        ready.json()["sinks"]["rabbit"].is_string(),
        "{}",
        ready.text()
    );

    let metrics = server.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(metrics.headers["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("application/openmetrics-text")));
    let text = metrics.text();
    for expected in [
        "gate_requests_total{source=\"GitHub\",door=\"acme\",status=\"200\"} 2",
        "gate_requests_total{source=\"GitHub\",door=\"acme\",status=\"202\"} 1",
        "gate_sink_actions_total{sink=\"rabbit\",status=\"delivered\",reason=\"ok\"} 1",
        "gate_dedup_hits_total 1",
        "gate_spool_depth 1",
        "gate_sink_stat{sink=\"rabbit\",stat=\"connections_opened\"} 1",
        "gate_request_duration_seconds_count{source=\"GitHub\"} 3",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        text.contains("gate_sink_actions_total{sink=\"rabbit\",status=\"spooled\""),
        "{text}"
    );

    let unknown = server
        .post("/gate/GitHub/stranger", &[], b"{}".to_vec())
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let text = server.get("/metrics").await.text();
    assert!(
        text.contains("door=\"_unknown\",status=\"404\"} 1"),
        "{text}"
    );
    assert!(
        !text.contains("stranger"),
        "unknown door names must not become labels"
    );

    proxy.resume().await;
    let ids = message_ids(&consumer.drain(Duration::from_secs(3)).await);
    assert_eq!(ids, ["m-1", "m-2"]);
    let text = server.get("/metrics").await.text();
    assert!(
        text.contains("gate_spool_redelivered_total{sink=\"rabbit\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("gate_sink_stat{sink=\"rabbit\",stat=\"reconnects\"} 1"),
        "{text}"
    );
    assert_eq!(server.get("/ready").await.status, StatusCode::OK);
    server.stop().await;
    consumer.delete().await;
}
