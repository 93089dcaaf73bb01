//! Spool faults created for real, end to end through the gateway, the real
//! RabbitMQ (behind a proxy the test stops and resumes) and a consumer
//! bound before the load, counting by `message_id`:
//! - a full disk under the spool (a small tmpfs filled with a ballast file,
//!   gate_testkit::disk), then space coming back, without a restart;
//! - a record damaged on disk in the middle of a sink's backlog;
//! - a backlog larger than a read batch, drained with confirms pipelined.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::amqp::Consumer;
use common::proxy::Proxy;
use common::{github_headers, github_signature, payload, unique, Running};
use futures_util::StreamExt;
use gate_core::{Envelope, Notification};
use gate_spool::Spool;
use gate_testkit::disk::SmallDisk;
use http::StatusCode;

const SECRET: &str = "spool-fault-secret";

fn config(exchange: &str, amqp_addr: SocketAddr, spool: &Path) -> String {
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
    let body = payload("github/push-three-commits.json");
    let headers = github_headers("push", delivery, &github_signature(SECRET, &body));
    server.post("/gate/GitHub/acme", &headers, body).await
}

/// Messages received by `message_id`, in arrival order, until `expected`
/// distinct ids arrived and then `quiet` passed with nothing new.
async fn received(consumer: &mut Consumer, expected: usize, limit: Duration) -> Vec<String> {
    let started = Instant::now();
    let mut ids = Vec::new();
    loop {
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        if distinct.len() >= expected || started.elapsed() > limit {
            break;
        }
        if let Some(message) = consumer.next(Duration::from_millis(500)).await {
            ids.push(message_id(&message));
        }
    }
    // Copies would come after: listen a little longer.
    ids.extend(
        consumer
            .drain(Duration::from_secs(2))
            .await
            .iter()
            .map(message_id),
    );
    ids
}

/// The delivery id behind a message id: events received over HTTP are
/// scoped `GitHub/acme/<id>`; those written into the spool by the tests
/// carry their id as is.
fn message_id(message: &lapin::message::Delivery) -> String {
    let id = message
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.to_string())
        .unwrap_or_default();
    id.strip_prefix("GitHub/acme/")
        .map_or(id.clone(), str::to_owned)
}

fn copies(ids: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for id in ids {
        *counts.entry(id.clone()).or_insert(0) += 1;
    }
    counts.retain(|_, n| *n > 1);
    counts
}

/// `count` pushes from `concurrency` senders at once; each delivery id
/// with its answer's status.
async fn burst(
    server: &Running,
    prefix: &str,
    count: usize,
    concurrency: usize,
) -> Vec<(String, StatusCode)> {
    futures_util::stream::iter(0..count)
        .map(|i| async move {
            let delivery = format!("{prefix}-{i}");
            let status = push(server, &delivery).await.status;
            (delivery, status)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

fn with_status(answers: &[(String, StatusCode)], status: StatusCode) -> Vec<String> {
    answers
        .iter()
        .filter(|(_, s)| *s == status)
        .map(|(d, _)| d.clone())
        .collect()
}

#[tokio::test]
async fn a_full_disk_is_survived_without_restart_and_nothing_is_lost_or_copied() {
    const LOAD: usize = 8;
    let disk = SmallDisk::mount(4 * 1024 * 1024);
    let exchange = unique("test.spool.diskfull");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let mut proxy = Proxy::start("127.0.0.1:5672".parse().expect("addr")).await;
    let gateway =
        common::gateway_with_state(&config(&exchange, proxy.addr, &disk.path().join("s.redb")));
    let spool = gateway.state().spool.clone().expect("spool");
    let server = Running::start(gateway.clone()).await;
    let mut accepted = Vec::new();
    let mut sent = 0;

    // Broker away: events go to the spool.
    proxy.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let early = burst(&server, "early", 100, LOAD).await;
    sent += early.len();
    assert_eq!(with_status(&early, StatusCode::ACCEPTED).len(), 100);
    accepted.extend(with_status(&early, StatusCode::ACCEPTED));

    // The disk fills up: the spool takes what redb still has room for in
    // its file, then the gateway answers 503 (nothing kept, sender retries).
    assert!(disk.fill() > 0);
    let full = burst(&server, "full", 200, LOAD).await;
    sent += full.len();
    let refused = with_status(&full, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!refused.is_empty(), "a full disk is answered 503");
    assert_eq!(
        refused.len() + with_status(&full, StatusCode::ACCEPTED).len(),
        full.len(),
        "only 202 or 503 while the broker is away: {full:?}"
    );
    accepted.extend(with_status(&full, StatusCode::ACCEPTED));

    // The broker comes back while the disk is still full: the backlog is
    // published and live events are delivered; the backlog's removal may
    // not commit, and it must not be published again on every pass (6 s:
    // the idle poll and many retries).
    proxy.resume().await;
    let live = burst(&server, "live-while-full", 100, LOAD).await;
    sent += live.len();
    // While the sink reconnects, a failure cannot be spooled (the disk is
    // full): 503, and the sender retries. Nothing else may happen.
    let delivered_live = with_status(&live, StatusCode::OK).len();
    assert!(delivered_live > 0, "the broker is up: {live:?}");
    assert_eq!(
        delivered_live + with_status(&live, StatusCode::SERVICE_UNAVAILABLE).len(),
        live.len(),
        "only 200 or 503 on a full disk: {live:?}"
    );
    accepted.extend(with_status(&live, StatusCode::OK));
    let mut ids = received(&mut consumer, accepted.len(), Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    ids.extend(
        consumer
            .drain(Duration::from_secs(1))
            .await
            .iter()
            .map(message_id),
    );
    assert_eq!(
        copies(&ids),
        BTreeMap::new(),
        "copies while the disk is full"
    );

    // Space comes back: with no restart, the spool takes events again and
    // the confirmed entries leave it.
    disk.free();
    proxy.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    loop {
        sent += 1;
        let answer = push(&server, "after-space-returned").await;
        if answer.status == StatusCode::ACCEPTED {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still {} after space returned: {}",
            answer.status,
            answer.text()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    accepted.push("after-space-returned".into());
    let after = burst(&server, "after", 100, LOAD).await;
    sent += after.len();
    assert_eq!(with_status(&after, StatusCode::ACCEPTED).len(), 100);
    accepted.extend(with_status(&after, StatusCode::ACCEPTED));
    proxy.resume().await;
    ids.extend(received(&mut consumer, 101, Duration::from_secs(30)).await);

    let mut lost: Vec<&String> = accepted.iter().filter(|d| !ids.contains(d)).collect();
    lost.sort();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert_eq!(copies(&ids), BTreeMap::new(), "copies");
    let delivered: std::collections::HashSet<&String> = ids.iter().collect();
    eprintln!(
        "full disk: sent {sent} / accepted {} / delivered {} / lost 0 / copies 0 (the others were answered 503)",
        accepted.len(),
        delivered.len()
    );
    let started = Instant::now();
    while (spool.depth(), spool.pending_removal()) != (0, 0) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the spool kept {} entries ({} confirmed)",
            spool.depth(),
            spool.pending_removal()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await;
    drop(gateway);
    consumer.delete().await;
}

fn envelope(delivery: &str, text: &str) -> Envelope {
    Envelope {
        delivery: delivery.into(),
        source: "GitHub".into(),
        door: "acme".into(),
        event: "push".into(),
        received_at: 1_700_000_000,
        notification: Notification {
            service: "GitHub".into(),
            project: "acme".into(),
            group: "ci".into(),
            raw_content: gate_core::RawContent::from_string(
                String::from_utf8(payload("github/push-three-commits.json")).expect("utf-8"),
            )
            .expect("json"),
            kind: "push".into(),
            text: text.into(),
            link: String::new(),
        },
    }
}

#[tokio::test]
async fn a_damaged_record_is_quarantined_and_the_rest_of_the_backlog_is_delivered_in_order() {
    let exchange = unique("test.spool.quarantine");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let marker = "QZXJ-e2e-damaged-KWVQ";
    {
        let spool = Spool::open(&path, 100).expect("spool");
        for delivery in ["q-1", "q-2", marker, "q-4", "q-5"] {
            spool
                .append(
                    "rabbit",
                    &envelope(delivery, "left by a previous run"),
                    "down",
                )
                .expect("append");
        }
    }
    let mut bytes = std::fs::read(&path).expect("read");
    let mut found = 0;
    for start in 0..bytes.len() - marker.len() {
        if &bytes[start..start + marker.len()] == marker.as_bytes() {
            bytes[start + 3] ^= 0x55;
            found += 1;
        }
    }
    assert!(found > 0, "marker not in the spool file");
    std::fs::write(&path, bytes).expect("write");

    let upstream: SocketAddr = "127.0.0.1:5672".parse().expect("addr");
    let gateway = common::gateway_with_state(&config(&exchange, upstream, &path));
    let server = Running::start(gateway.clone()).await;
    let ids = received(&mut consumer, 4, Duration::from_secs(20)).await;
    assert_eq!(ids, ["q-1", "q-2", "q-4", "q-5"]);
    let metrics = server.get("/metrics").await.text();
    assert!(metrics.contains("gate_spool_quarantined 1"), "{metrics}");
    let spool = gateway.state().spool.clone().expect("spool");
    assert_eq!(spool.depth(), 0);
    let kept = spool.quarantine_list().expect("quarantine");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].sink, "rabbit");
    server.stop().await;
    consumer.delete().await;
}

#[tokio::test]
async fn a_backlog_larger_than_a_batch_drains_pipelined_in_order_without_copies() {
    let exchange = unique("test.spool.pipelined");
    let mut consumer = Consumer::bind(&exchange, "#").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let count = 700; // more than two read batches of 256
    let expected: Vec<String> = (0..count).map(|i| format!("b-{i:04}")).collect();
    {
        let spool = Spool::open(&path, 10_000).expect("spool");
        for delivery in &expected {
            spool
                .append("rabbit", &envelope(delivery, "backlog"), "down")
                .expect("append");
        }
    }
    let upstream: SocketAddr = "127.0.0.1:5672".parse().expect("addr");
    let gateway = common::gateway_with_state(&config(&exchange, upstream, &path));
    let server = Running::start(gateway.clone()).await;
    let ids = received(&mut consumer, count, Duration::from_secs(60)).await;
    assert_eq!(ids.len(), count, "copies or losses");
    assert!(ids == expected, "out of order");
    let spool = gateway.state().spool.clone().expect("spool");
    assert_eq!(spool.depth(), 0);
    server.stop().await;
    consumer.delete().await;
}
