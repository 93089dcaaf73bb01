//! End to end against the real RabbitMQ on 127.0.0.1:5672: a signed webhook
//! posted to a running gate-server is read back by a consumer. Each test uses
//! its own exchange, so tests can run in parallel on the shared broker.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::amqp::Consumer;
use common::proxy::Proxy;
use common::{github_headers, github_signature, payload, unique, Running, AMQP_URL};
use http::StatusCode;
use lapin::types::AMQPValue;

const SECRET: &str = "e2e-secret";

fn config(exchange: &str, url: &str, extra_sink_keys: &str) -> String {
    format!(
        r#"
        [sinks.rabbit]
        kind = "amqp"
        url = "{url}"
        exchange = "{exchange}"
        confirm_timeout_ms = 3000
        connect_timeout_ms = 1000
        reconnect_interval_ms = 100
        {extra_sink_keys}

        [sources.GitHub.doors.acme]
        sinks = ["rabbit"]
        secrets = ["{SECRET}"]
        default_group = "ci"
        [[sources.GitHub.doors.acme.groups]]
        group = "web"
        repositories = ["widgets"]
        "#
    )
}

async fn post_push(server: &Running, delivery: &str) -> common::Answer {
    let body = payload("github/push-three-commits.json");
    let headers = github_headers("push", delivery, &github_signature(SECRET, &body));
    server.post("/gate/GitHub/acme", &headers, body).await
}

#[tokio::test]
async fn signed_push_becomes_one_persistent_confirmed_message() {
    let exchange = unique("test.e2e.push");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let server = Running::start(common::gateway(&config(&exchange, AMQP_URL, ""))).await;

    let answer = post_push(&server, "delivery-e2e-1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let report = answer.json();
    assert_eq!(report["actions"][0]["status"], "delivered");
    assert_eq!(report["actions"][0]["target"], exchange.as_str());
    assert_eq!(report["actions"][0]["routingKey"], "acme.web.github.push");

    let message = consumer
        .next(Duration::from_secs(5))
        .await
        .expect("one message");
    assert_eq!(message.routing_key.as_str(), "acme.web.github.push");
    let properties = &message.properties;
    assert_eq!(*properties.delivery_mode(), Some(2), "persistent");
    assert_eq!(
        properties.content_type().as_ref().map(|c| c.as_str()),
        Some("application/json")
    );
    assert_eq!(
        properties.message_id().as_ref().map(|m| m.as_str()),
        Some("GitHub/acme/delivery-e2e-1"),
        "the sender's id, scoped by source and door"
    );
    assert!(properties.timestamp().is_some_and(|t| t > 1_700_000_000));
    let headers = properties.headers().as_ref().expect("headers");
    let header = |key: &str| match headers.inner().get(key) {
        Some(AMQPValue::LongString(value)) => value.to_string(),
        other => panic!("header {key}: {other:?}"),
    };
    assert_eq!(
        (header("source"), header("door"), header("event")),
        ("GitHub".into(), "acme".into(), "push".into())
    );

    let notification: serde_json::Value = serde_json::from_slice(&message.data).expect("json body");
    let mut keys: Vec<_> = notification
        .as_object()
        .expect("object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "group",
            "link",
            "project",
            "rawContent",
            "service",
            "text",
            "type"
        ]
    );
    assert_eq!(notification["service"], "GitHub");
    assert_eq!(notification["project"], "acme");
    assert_eq!(notification["group"], "web");
    assert_eq!(notification["type"], "push");
    let text = notification["text"].as_str().expect("text");
    assert!(
        text.contains("3 commits") && text.contains("acme/widgets"),
        "{text}"
    );
    assert!(
        notification["link"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://github.com/acme/widgets/compare/")),
        "{}",
        notification["link"]
    );
    assert_eq!(
        notification["rawContent"]["commits"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    assert!(
        consumer.next(Duration::from_millis(500)).await.is_none(),
        "exactly one message"
    );
    server.stop().await;
    consumer.delete().await;
}

#[tokio::test]
async fn refused_requests_publish_nothing() {
    let exchange = unique("test.e2e.refused");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let server = Running::start(common::gateway(&config(&exchange, AMQP_URL, ""))).await;
    let body = payload("github/push-one-commit.json");
    let bad = github_headers("push", "d", &github_signature("wrong", &body));
    assert_eq!(
        server
            .post("/gate/GitHub/acme", &bad, body.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let good = github_headers("push", "d", &github_signature(SECRET, &body));
    assert_eq!(
        server
            .post("/gate/GitHub/other", &good, body.clone())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get("/gate/GitHub/acme").await.status,
        StatusCode::OK,
        "GET answers the explanation page and publishes nothing"
    );
    assert!(
        consumer.next(Duration::from_millis(800)).await.is_none(),
        "a refused request was published"
    );
    server.stop().await;
    consumer.delete().await;
}

#[tokio::test]
async fn concurrent_requests_share_the_connection_and_all_arrive() {
    let exchange = unique("test.e2e.concurrent");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let server = std::sync::Arc::new(
        Running::start(common::gateway(&config(&exchange, AMQP_URL, ""))).await,
    );
    let requests = (0..64).map(|i| {
        let server = std::sync::Arc::clone(&server);
        tokio::spawn(async move { post_push(&server, &format!("concurrent-{i}")).await.status })
    });
    for status in futures_util::future::join_all(requests).await {
        assert_eq!(status.expect("task"), StatusCode::OK);
    }
    let messages = consumer.drain(Duration::from_secs(2)).await;
    let mut ids: Vec<String> = messages
        .iter()
        .filter_map(|m| m.properties.message_id().as_ref().map(|id| id.to_string()))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 64, "every request published exactly once");
    assert_eq!(messages.len(), 64);
    consumer.delete().await;
}

#[tokio::test]
async fn broker_outage_answers_503_then_recovers_without_restart() {
    let exchange = unique("test.e2e.outage");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let upstream: SocketAddr = "127.0.0.1:5672".parse().expect("addr");
    let mut proxy = Proxy::start(upstream).await;
    let url = format!("amqp://guest:guest@{}/%2f", proxy.addr);
    let server = Running::start(common::gateway(&config(&exchange, &url, ""))).await;

    assert_eq!(
        post_push(&server, "before-outage").await.status,
        StatusCode::OK
    );

    proxy.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = post_push(&server, "during-outage").await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text()
    );
    let action = &answer.json()["actions"][0];
    assert_eq!(action["status"], "failed");
    assert!(action["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(
        !answer.text().contains("guest:guest"),
        "the broker password leaked into the report"
    );
    assert_eq!(
        server.get("/status").await.status,
        StatusCode::OK,
        "still serving"
    );
    assert_eq!(
        server.get("/ready").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    proxy.resume().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = post_push(&server, "after-outage").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(server.get("/ready").await.status, StatusCode::OK);

    let ids: Vec<String> = consumer
        .drain(Duration::from_secs(1))
        .await
        .iter()
        .filter_map(|m| m.properties.message_id().as_ref().map(|id| id.to_string()))
        .collect();
    assert_eq!(
        ids,
        ["GitHub/acme/before-outage", "GitHub/acme/after-outage"]
    );
    server.stop().await;
    consumer.delete().await;
}

#[tokio::test]
async fn missing_exchange_is_503_until_it_exists() {
    let exchange = unique("test.e2e.missing");
    let config_text = config(&exchange, AMQP_URL, "declare_exchange = false");
    let server = Running::start(common::gateway(&config_text)).await;

    let answer = post_push(&server, "no-exchange").await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text()
    );
    let message = answer.first_action_error();
    assert!(
        message.contains("NOT_FOUND") || message.contains("not found") || message.contains("404"),
        "{message}"
    );

    let mut consumer = Consumer::bind(&exchange, "#").await;
    let answer = post_push(&server, "with-exchange").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let message = consumer
        .next(Duration::from_secs(5))
        .await
        .expect("published once the exchange exists");
    assert_eq!(
        message
            .properties
            .message_id()
            .as_ref()
            .map(|m| m.to_string())
            .as_deref(),
        Some("GitHub/acme/with-exchange")
    );
    server.stop().await;
    consumer.delete().await;
}

#[tokio::test]
async fn unroutable_messages_are_reported_as_skipped() {
    let exchange = unique("test.e2e.unroutable");
    let server = Running::start(common::gateway(&config(&exchange, AMQP_URL, ""))).await;
    let answer = post_push(&server, "nobody-listens").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let action = &answer.json()["actions"][0];
    assert_eq!(action["status"], "skipped");
    assert_eq!(action["error"]["type"], "unroutable");
    server.stop().await;
    let connection = common::amqp::connect().await;
    let channel = connection.create_channel().await.expect("channel");
    let _ = channel
        .exchange_delete(exchange.as_str().into(), Default::default())
        .await;
}

#[tokio::test]
async fn raw_stream_exchange_gets_the_payload() {
    let exchange = unique("test.e2e.main");
    let raw_exchange = unique("test.e2e.raw");
    let mut main = Consumer::bind(&exchange, "#").await;
    let mut raw = Consumer::bind(&raw_exchange, "acme.*.push").await;
    let extra = format!("raw_exchange = \"{raw_exchange}\"");
    let server = Running::start(common::gateway(&config(&exchange, AMQP_URL, &extra))).await;
    assert_eq!(post_push(&server, "raw-1").await.status, StatusCode::OK);
    assert!(main.next(Duration::from_secs(5)).await.is_some());
    let message = raw.next(Duration::from_secs(5)).await.expect("raw copy");
    assert_eq!(message.routing_key.as_str(), "acme.web.push");
    // The payload exactly as GitHub sent it (surrounding whitespace aside).
    let sent = payload("github/push-three-commits.json");
    assert!(
        message.data.trim_ascii() == sent.trim_ascii(),
        "the raw stream must carry the payload unchanged"
    );
    server.stop().await;
    main.delete().await;
    raw.delete().await;
}
