//! A sender that hangs up mid-delivery (a proxy with a shorter timeout than
//! the gateway's): the delivery still runs to its end, delivered or spooled,
//! and a later retry of the same id is answered "duplicate", never a
//! wedged 503 `in_progress`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{post_to, Answer, Running};
use gate_conduit::test_server::{Reply, TestServer};
use http::StatusCode;

/// A door whose only sink is an HTTP endpoint answering its first request
/// after `first_delay`, the others at once.
async fn rig(first_delay: Duration, deadline_ms: u64) -> (TestServer, Running, tempfile::TempDir) {
    let seen = AtomicUsize::new(0);
    let receiver = TestServer::start(move |_| {
        let delay = if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            first_delay
        } else {
            Duration::ZERO
        };
        Reply::status(200).after(delay)
    })
    .await
    .expect("test server");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        r#"
        [server]
        delivery_deadline_ms = {deadline_ms}

        [spool]
        path = {spool:?}
        retry_initial_ms = 100
        retry_max_ms = 200

        [sinks.slow]
        kind = "http"
        url = "{url}/hook"
        timeout_ms = 9000
        retries = 0

        [sources.Notification.doors.ops]
        sinks = ["slow"]
        insecure_no_auth = true
        "#,
        spool = dir.path().join("gate.redb").display().to_string(),
        url = receiver.url(),
    );
    let server = Running::start(common::gateway_with_state(&config)).await;
    (receiver, server, dir)
}

fn notification(delivery: &str) -> (Vec<(String, String)>, Vec<u8>) {
    (
        vec![
            ("content-type".into(), "application/json".into()),
            ("x-gate-delivery".into(), delivery.into()),
        ],
        common::payload("native/deploy-finished.json"),
    )
}

/// Post and give up after one second, as an impatient proxy does.
async fn post_and_hang_up(server: &Running, delivery: &str) {
    let (headers, body) = notification(delivery);
    let given_up = tokio::time::timeout(
        Duration::from_secs(1),
        post_to(server.addr, "/gate/Notification/ops", &headers, body),
    )
    .await;
    assert!(given_up.is_err(), "the sink is slower than the client");
}

async fn retry(server: &Running, delivery: &str) -> Answer {
    let (headers, body) = notification(delivery);
    server.post("/gate/Notification/ops", &headers, body).await
}

/// `gate_sink_actions_total{sink="slow",status=...}` from `/metrics`.
async fn actions(server: &Running, status: &str) -> u64 {
    let metrics = server.get("/metrics").await.text();
    metrics
        .lines()
        .find(|line| {
            line.starts_with("gate_sink_actions_total{")
                && line.contains("sink=\"slow\"")
                && line.contains(&format!("status=\"{status}\""))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_up_does_not_cancel_the_delivery_nor_wedge_its_id() {
    let (receiver, server, _dir) = rig(Duration::from_secs(3), 8_000).await;
    post_and_hang_up(&server, "d1").await;
    assert_eq!(receiver.requests().len(), 1, "the sink was reached");
    // The sink answers at 3 s: the delivery ran on without its request.
    wait_for(
        "the delivery confirmed",
        Duration::from_secs(8),
        async || actions(&server, "delivered").await == 1,
    )
    .await;

    let again = retry(&server, "d1").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["actions"][0]["status"], "duplicate");
    assert_eq!(again.json()["delivery"], "Notification/ops/d1");
    assert_eq!(receiver.requests().len(), 1, "published once");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_up_past_the_deadline_still_spools_and_redelivers() {
    // The sink needs 2.5 s, the deadline is 1.5 s: the event is spooled
    // after the client left, then redelivered.
    let (receiver, server, _dir) = rig(Duration::from_millis(2_500), 1_500).await;
    post_and_hang_up(&server, "d2").await;
    wait_for("the event spooled", Duration::from_secs(5), async || {
        actions(&server, "spooled").await == 1
    })
    .await;
    let again = retry(&server, "d2").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["actions"][0]["status"], "duplicate");
    // The first attempt (cut by the deadline), then the redelivery.
    wait_for("the redelivery", Duration::from_secs(10), async || {
        server
            .get("/metrics")
            .await
            .text()
            .lines()
            .any(|line| line.starts_with("gate_spool_redelivered_total{") && line.ends_with(" 1"))
    })
    .await;
    assert_eq!(receiver.requests().len(), 2);
    assert!(receiver
        .requests()
        .iter()
        .all(|r| r.header("x-gate-delivery") == Some("Notification/ops/d2")));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_waits_for_deliveries_whose_sender_left() {
    let (receiver, server, dir) = rig(Duration::from_millis(2_500), 1_500).await;
    post_and_hang_up(&server, "d3").await;
    // No connection is open any more; the delivery is still running.
    server.stop().await;
    // By the time the server has stopped, the event was spooled at the
    // deadline (and perhaps redelivered before the redelivery loop ended).
    let spool = gate_spool::Spool::open(&dir.path().join("gate.redb"), 100).expect("spool");
    let redelivered = receiver.requests().len() == 2;
    assert!(
        spool.depth() == 1 || redelivered,
        "neither spooled nor delivered: depth {}, {} request(s)",
        spool.depth(),
        receiver.requests().len()
    );
}
