//! Several broker addresses: two private RabbitMQ nodes; the one in use is
//! stopped under load, the sink fails over to the other with the same
//! confirms and spool guarantees. Counted by `message_id` on a queue bound
//! on both nodes before the load: none lost.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::amqp::{drain_ids, quorum_queue};
use common::broker::{BrokerOptions, PrivateBroker};
use common::{github_headers, github_signature, payload, unique, Running};
use http::StatusCode;

const SECRET: &str = "failover-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_broker_in_use_fails_over_and_loses_nothing() {
    let nodes = tokio::task::spawn_blocking(|| {
        let first = std::thread::spawn(|| PrivateBroker::start_with(&BrokerOptions::default()));
        let second = PrivateBroker::start_with(&BrokerOptions::default());
        (first.join().expect("first node"), second)
    });
    let (first, second) = nodes.await.expect("nodes");
    let first = Arc::new(first);
    let exchange = unique("failover");
    let queue = quorum_queue(&first.url(), &exchange).await;
    quorum_queue(&second.url(), &exchange).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        r#"
        [server]
        delivery_deadline_ms = 4000

        [spool]
        path = {spool:?}
        retry_initial_ms = 100
        retry_max_ms = 500

        [sinks.rabbit]
        kind = "amqp"
        urls = ["{a}", "{b}"]
        exchange = "{exchange}"
        confirm_timeout_ms = 2000
        connect_timeout_ms = 1000
        reconnect_interval_ms = 100

        [sources.GitHub.doors.acme]
        sinks = ["rabbit"]
        secrets = ["{SECRET}"]
        "#,
        spool = dir.path().join("spool.redb").display().to_string(),
        a = first.url(),
        b = second.url(),
    );
    let gateway = common::gateway_with_state(&config);
    let server = Arc::new(Running::start(Arc::clone(&gateway)).await);

    // Eight senders for 8 s; the first node (the one in use: it is tried
    // first) stops after 2 s.
    let started = Instant::now();
    let senders: Vec<_> = (0..8)
        .map(|worker| {
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                let mut sent = Vec::new();
                let mut i = 0;
                while started.elapsed() < Duration::from_secs(8) {
                    let id = format!("w{worker}-{i}");
                    let body = payload("github/push-one-commit.json");
                    let headers = github_headers("push", &id, &github_signature(SECRET, &body));
                    let answer = server.post("/gate/GitHub/acme", &headers, body).await;
                    sent.push((id, answer.status));
                    i += 1;
                }
                sent
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stopping = Arc::clone(&first);
    tokio::task::spawn_blocking(move || stopping.stop_app())
        .await
        .expect("stop the first node");
    let mut sent = Vec::new();
    for sender in senders {
        sent.extend(sender.await.expect("sender"));
    }
    let refused: Vec<_> = sent
        .iter()
        .filter(|(_, status)| *status != StatusCode::OK && *status != StatusCode::ACCEPTED)
        .collect();
    assert!(refused.is_empty(), "not accepted: {refused:?}");

    let spool = gateway.state().spool.clone().expect("spool");
    let drained = Instant::now();
    while spool.depth() > 0 {
        assert!(
            drained.elapsed() < Duration::from_secs(60),
            "the spool did not empty: {} left",
            spool.depth()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let metrics = server.get("/metrics").await.text();
    assert!(
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(r#"gate_sink_stat{sink="rabbit",stat="failovers"} "#))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n >= 1),
        "{metrics}"
    );

    // What the first node confirmed before it stopped is still in its
    // durable queue once it is back.
    let restarting = Arc::clone(&first);
    tokio::task::spawn_blocking(move || restarting.start_app())
        .await
        .expect("restart the first node");
    let on_first = drain_ids(&first.url(), &queue, Duration::from_millis(1500)).await;
    let on_second = drain_ids(&second.url(), &queue, Duration::from_millis(1500)).await;
    let copies =
        |id: &str| on_first.get(id).copied().unwrap_or(0) + on_second.get(id).copied().unwrap_or(0);
    let spooled = sent
        .iter()
        .filter(|(_, status)| *status == StatusCode::ACCEPTED)
        .count();
    eprintln!(
        "failover under load: sent {}, spooled {spooled}, on the first node {}, on the second {}",
        sent.len(),
        on_first.len(),
        on_second.len()
    );
    let lost: Vec<_> = sent.iter().filter(|(id, _)| copies(id) == 0).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    let unexpected: Vec<_> = sent
        .iter()
        .filter(|(id, status)| {
            copies(id) > 2 || (copies(id) == 2 && *status != StatusCode::ACCEPTED)
        })
        .map(|(id, status)| (id, status, copies(id)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "published more than once: {unexpected:?}"
    );
    assert!(
        !on_first.is_empty(),
        "the first node took the start of the load"
    );
    assert!(!on_second.is_empty(), "the second node took the rest");
}
