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

/// The value of `gate_sink_stat{sink, stat}` in `/metrics`.
async fn sink_stat(server: &Running, sink: &str, stat: &str) -> Option<u64> {
    let metrics = server.get("/metrics").await.text();
    let prefix = format!("gate_sink_stat{{sink=\"{sink}\",stat=\"{stat}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse().ok())
}

/// `/ready`'s warnings for the sink `rabbit`, once there are some (the
/// catch-all queue is read every 2 s).
async fn ready_warnings(server: &Running) -> Vec<String> {
    for _ in 0..50 {
        let ready = server.get("/ready").await;
        assert_eq!(
            ready.status,
            StatusCode::OK,
            "warnings keep it ready: {}",
            ready.text()
        );
        if let Some(warnings) = ready.json()["warnings"]["rabbit"].as_array() {
            return warnings
                .iter()
                .filter_map(|w| w.as_str().map(str::to_owned))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("/ready never warned");
}

/// Take the next message of the catch-all queue.
async fn from_catch_all(channel: &lapin::Channel, queue: &str) -> lapin::message::Delivery {
    channel
        .basic_get(queue.into(), Default::default())
        .await
        .expect("basic.get")
        .expect("the message is in the catch-all queue")
        .delivery
}

#[tokio::test]
async fn unroutable_messages_go_to_the_catch_all_queue_through_the_alternate_exchange() {
    let exchange = unique("test.e2e.unroutable");
    let server = Running::start(common::gateway(&config(&exchange, AMQP_URL, ""))).await;
    let answer = post_push(&server, "nobody-listens").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    // Kept (it leaves the spool), and the action says where.
    let action = &answer.json()["actions"][0];
    assert_eq!(action["status"], "delivered", "{action}");
    assert_eq!(action["error"]["type"], "unroutable", "{action}");
    let catch_all = format!("{exchange}.unroutable");
    assert!(
        action["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&catch_all) && m.contains("alternate exchange")),
        "{action}"
    );
    let warnings = ready_warnings(&server).await;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("no queue bound") && w.contains(&catch_all)),
        "{warnings:?}"
    );
    assert_eq!(
        sink_stat(&server, "rabbit", "unroutable_kept").await,
        Some(1)
    );
    // A gauge, read every 2 s.
    let mut depth = None;
    for _ in 0..30 {
        depth = sink_stat(&server, "rabbit", "catch_all_depth").await;
        if depth == Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(depth, Some(1), "catch_all_depth");

    // The message waits in the catch-all queue, whole, with its routing key.
    let connection = common::amqp::connect().await;
    let channel = connection.create_channel().await.expect("channel");
    let kept = from_catch_all(&channel, &catch_all).await;
    assert_eq!(kept.routing_key.as_str(), "acme.web.github.push");
    assert_eq!(
        kept.properties.message_id().as_ref().map(|m| m.as_str()),
        Some("GitHub/acme/nobody-listens")
    );
    server.stop().await;
    common::amqp::remove(&channel, &exchange).await;
}

/// An exchange declared elsewhere without the alternate exchange (as the
/// original service did) cannot be given one; the sink then keeps what the
/// broker returns itself, says so in the action, and warns.
#[tokio::test]
async fn without_the_alternate_exchange_returned_messages_are_kept_by_the_sink() {
    let exchange = unique("test.e2e.noae");
    let connection = common::amqp::connect().await;
    let channel = connection.create_channel().await.expect("channel");
    common::amqp::declare_exchange(&channel, &exchange).await;
    let server = Running::start(common::gateway(&config(&exchange, AMQP_URL, ""))).await;
    let answer = post_push(&server, "returned").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let action = &answer.json()["actions"][0];
    assert_eq!(action["status"], "delivered", "{action}");
    assert_eq!(action["error"]["type"], "unroutable");
    let catch_all = format!("{exchange}.unroutable");
    assert!(
        action["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&catch_all)),
        "{action}"
    );
    let warnings = ready_warnings(&server).await;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("without the alternate exchange")),
        "{warnings:?}"
    );
    assert_eq!(
        sink_stat(&server, "rabbit", "unroutable_kept_by_gateway").await,
        Some(1)
    );
    let kept = from_catch_all(&channel, &catch_all).await;
    assert_eq!(
        kept.properties.message_id().as_ref().map(|m| m.as_str()),
        Some("GitHub/acme/returned")
    );
    let headers = kept.properties.headers().as_ref().expect("headers");
    assert_eq!(
        headers.inner().get("x-gate-exchange"),
        Some(&AMQPValue::LongString(exchange.as_bytes().to_vec().into()))
    );
    server.stop().await;
    common::amqp::remove(&channel, &exchange).await;
}

/// The catch-all is bounded: when full, the broker refuses (nack) and the
/// event is spooled, never dropped.
#[tokio::test]
async fn a_full_catch_all_refuses_and_the_event_is_spooled() {
    let exchange = unique("test.e2e.full");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[spool]\npath = {:?}\nretry_initial_ms = 60000\nretry_max_ms = 60000\n{}",
        dir.path().join("spool.redb").display().to_string(),
        config(&exchange, AMQP_URL, "catch_all_max_length = 1")
    );
    let gateway = common::gateway_with_state(&text);
    let server = Running::start(gateway.clone()).await;
    // A quorum queue enforces its bound once it is over it, so the refusal
    // comes within the first few messages past the bound.
    let mut refused = None;
    for i in 0..6 {
        let answer = post_push(&server, &format!("fills-{i}")).await;
        if answer.status == StatusCode::ACCEPTED {
            refused = Some(answer);
            break;
        }
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    }
    let refused = refused.expect("the full catch-all refused a message");
    let action = &refused.json()["actions"][0];
    assert_eq!(action["status"], "spooled");
    assert_eq!(action["error"]["type"], "nack");
    assert!(
        refused.first_action_error().contains("catch-all queue"),
        "{}",
        refused.text()
    );
    assert_eq!(gateway.state().spool.clone().expect("spool").depth(), 1);
    server.stop().await;
    common::amqp::cleanup(&exchange).await;
}

#[tokio::test]
async fn unroutable_drop_is_opt_in_and_reported() {
    let exchange = unique("test.e2e.unroutable-drop");
    let extra = "unroutable = \"drop\"";
    let server = Running::start(common::gateway(&config(&exchange, AMQP_URL, extra))).await;
    let answer = post_push(&server, "dropped").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let action = &answer.json()["actions"][0];
    assert_eq!(action["status"], "skipped");
    assert_eq!(action["error"]["type"], "unroutable");
    server.stop().await;
    common::amqp::cleanup(&exchange).await;
}

#[tokio::test]
async fn raw_stream_exchange_gets_the_payload_as_its_own_action() {
    let exchange = unique("test.e2e.main");
    let raw_exchange = unique("test.e2e.raw");
    let mut main = Consumer::bind(&exchange, "#").await;
    let mut raw = Consumer::bind(&raw_exchange, "acme.*.push").await;
    let extra = format!("raw_exchange = \"{raw_exchange}\"");
    let server = Running::start(common::gateway(&config(&exchange, AMQP_URL, &extra))).await;
    let answer = post_push(&server, "raw-1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let actions = answer.json()["actions"].clone();
    assert_eq!(actions.as_array().map(Vec::len), Some(2), "{actions}");
    assert_eq!(actions[0]["target"], exchange.as_str());
    assert_eq!(actions[0]["status"], "delivered");
    assert_eq!(actions[1]["target"], raw_exchange.as_str());
    assert_eq!(actions[1]["routingKey"], "acme.web.push");
    assert_eq!(actions[1]["status"], "delivered");
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

/// A raw-stream publish that fails (its exchange is missing) is spooled on
/// its own: the confirmed notification is never published again, and the
/// raw copy arrives once its exchange exists.
#[tokio::test]
async fn failed_raw_stream_is_retried_alone() {
    let exchange = unique("test.e2e.rawfail.main");
    let raw_exchange = unique("test.e2e.rawfail.raw");
    let mut main = Consumer::bind(&exchange, "#").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = dir.path().join("spool.redb");
    let text = format!(
        "[spool]\npath = {:?}\nretry_initial_ms = 100\nretry_max_ms = 300\n{}",
        spool.display().to_string(),
        config(
            &exchange,
            AMQP_URL,
            &format!("raw_exchange = \"{raw_exchange}\"\ndeclare_exchange = false"),
        )
    );
    let gateway = common::gateway_with_state(&text);
    let server = Running::start(gateway.clone()).await;

    let answer = post_push(&server, "raw-fails").await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text());
    let actions = answer.json()["actions"].clone();
    assert_eq!(actions[0]["status"], "delivered", "{actions}");
    assert_eq!(actions[1]["status"], "spooled", "{actions}");
    assert_eq!(actions[1]["target"], raw_exchange.as_str());
    let spooled = gateway.state().spool.clone().expect("spool");
    let stream_names: Vec<String> = spooled.sinks().expect("spool sinks");
    assert_eq!(stream_names, ["rabbit.raw"], "only the raw stream waits");

    // Let the redelivery loop fail a few times while the exchange is missing.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut raw = Consumer::bind(&raw_exchange, "#").await;
    let copy = raw
        .next(Duration::from_secs(10))
        .await
        .expect("the raw copy once its exchange exists");
    assert_eq!(
        copy.properties.message_id().as_ref().map(|m| m.as_str()),
        Some("GitHub/acme/raw-fails")
    );
    let mains = main.drain(Duration::from_secs(2)).await;
    assert_eq!(mains.len(), 1, "the notification was published once");
    assert!(raw.next(Duration::from_millis(500)).await.is_none());
    assert_eq!(spooled.depth(), 0);
    server.stop().await;
    main.delete().await;
    raw.delete().await;
}
