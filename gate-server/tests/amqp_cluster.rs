//! Proof on real parts: a 3-node RabbitMQ cluster of private nodes and 3
//! gateway processes under steady signed load spread over them (a sender
//! whose gateway does not answer retries the same delivery on the next one,
//! as a load balancer would). One gateway is killed with SIGKILL and one
//! broker node stopped, then both come back. Counted by `message_id` on a
//! quorum queue bound before the load: 0 lost; copies only for deliveries
//! that were retried or spooled (a confirm lost in flight).
//!
//! `GATE_CLUSTER_SECONDS` sets the load's length (default 16 s, for CI);
//! scripts/cluster-proof.sh runs it longer.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::amqp::{drain_ids, quorum_queue};
use common::process::{free_addr, GateProcess};
use common::{github_headers, github_signature, payload, unique};
use gate_testkit::cluster::PrivateCluster;
use http::StatusCode;
use http_body_util::{BodyExt, Full};

const SECRET: &str = "cluster-secret";
const GATEWAYS: usize = 3;
const SENDERS: usize = 6;

fn gate_config(urls: &[String], exchange: &str, spool: &Path) -> String {
    let urls: Vec<String> = urls.iter().map(|u| format!("{u:?}")).collect();
    format!(
        r#"
        [server]
        delivery_deadline_ms = 4000

        [spool]
        path = {spool:?}
        retry_initial_ms = 200
        retry_max_ms = 1000

        [sinks.rabbit]
        kind = "amqp"
        urls = [{urls}]
        exchange = "{exchange}"
        confirm_timeout_ms = 2000
        connect_timeout_ms = 1000
        reconnect_interval_ms = 200

        [sources.GitHub.doors.acme]
        sinks = ["rabbit"]
        secrets = ["{SECRET}"]
        "#,
        urls = urls.join(", "),
        spool = spool.display().to_string()
    )
}

/// POST that reports a gateway that does not answer instead of panicking.
async fn try_post(addr: SocketAddr, id: &str) -> Result<StatusCode, String> {
    let body = payload("github/push-one-commit.json");
    let headers = github_headers("push", id, &github_signature(SECRET, &body));
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("/gate/GitHub/acme")
            .header("host", addr.to_string());
        for (name, value) in &headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let _ = response.into_body().collect().await;
        Ok(status)
    };
    tokio::time::timeout(Duration::from_secs(12), exchange)
        .await
        .unwrap_or_else(|_| Err("no answer within 12 s".into()))
}

/// What happened to one delivery id.
#[derive(Debug)]
struct Outcome {
    id: String,
    /// The last answer: 200 or 202 when accepted.
    status: Option<StatusCode>,
    /// Earlier attempts that failed (no answer, or 503): the event may
    /// have been published by one of them.
    retried: bool,
}

/// A value of the gateway's `/metrics`, by the start of its line.
async fn metric(addr: SocketAddr, line_start: &str) -> Option<u64> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .ok()?;
    tokio::spawn(connection);
    let request = http::Request::builder()
        .uri("/metrics")
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    let text = response.into_body().collect().await.ok()?.to_bytes();
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_node_stopped_and_gateway_killed_lose_nothing() {
    let seconds: u64 = std::env::var("GATE_CLUSTER_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let length = Duration::from_secs(seconds);
    let cluster = Arc::new(
        tokio::task::spawn_blocking(|| PrivateCluster::start(3))
            .await
            .expect("cluster"),
    );
    let urls = cluster.urls();
    let exchange = unique("cluster");
    let queue = quorum_queue(&urls[1], &exchange).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut configs = Vec::new();
    let mut gateways: Vec<Option<GateProcess>> = Vec::new();
    let mut addrs = Vec::new();
    for g in 0..GATEWAYS {
        // Each gateway prefers another node: gateway g starts with node g.
        let rotated: Vec<String> = (0..urls.len())
            .map(|k| urls[(g + k) % urls.len()].clone())
            .collect();
        let path = dir.path().join(format!("gate-{g}.toml"));
        std::fs::write(
            &path,
            gate_config(
                &rotated,
                &exchange,
                &dir.path().join(format!("spool-{g}.redb")),
            ),
        )
        .expect("config");
        let addr = free_addr();
        gateways.push(Some(GateProcess::start(
            &path,
            addr,
            &dir.path().join(format!("gate-{g}-a.log")),
        )));
        configs.push(path);
        addrs.push(addr);
    }

    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let addrs = addrs.clone();
            let outcomes = Arc::clone(&outcomes);
            tokio::spawn(async move {
                let mut i = 0;
                while started.elapsed() < length {
                    let id = format!("s{s}-{i}");
                    let mut outcome = Outcome {
                        id: id.clone(),
                        status: None,
                        retried: false,
                    };
                    for attempt in 0..2 * GATEWAYS {
                        let addr = addrs[(s + i + attempt) % GATEWAYS];
                        match try_post(addr, &id).await {
                            Ok(status)
                                if status == StatusCode::OK || status == StatusCode::ACCEPTED =>
                            {
                                outcome.status = Some(status);
                                break;
                            }
                            _ => outcome.retried = true,
                        }
                    }
                    outcomes.lock().expect("outcomes").push(outcome);
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();

    // The faults, at fixed fractions of the load.
    let at = |fraction: f64| started + length.mul_f64(fraction);
    tokio::time::sleep_until(at(0.2).into()).await;
    if let Some(gateway) = gateways[1].take() {
        gateway.kill9();
    }
    tokio::time::sleep_until(at(0.3).into()).await;
    let stopping = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || stopping.nodes[0].stop_app())
        .await
        .expect("stop node 0");
    tokio::time::sleep_until(at(0.55).into()).await;
    gateways[1] = Some(GateProcess::start(
        &configs[1],
        addrs[1],
        &dir.path().join("gate-1-b.log"),
    ));
    tokio::time::sleep_until(at(0.7).into()).await;
    let starting = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || starting.nodes[0].start_app())
        .await
        .expect("start node 0");
    for sender in senders {
        sender.await.expect("sender");
    }

    // Every gateway empties its spool.
    let waiting = Instant::now();
    for addr in &addrs {
        while metric(*addr, "gate_spool_depth ").await != Some(0) {
            assert!(
                waiting.elapsed() < Duration::from_secs(120),
                "the spool of {addr} did not empty"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    // The gateway that preferred the stopped node moved to another one.
    let failovers = metric(
        addrs[0],
        r#"gate_sink_stat{sink="rabbit",stat="failovers"} "#,
    )
    .await;
    assert!(
        failovers.is_some_and(|n| n >= 1),
        "failovers: {failovers:?}"
    );
    let outcomes = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
    let counts = drain_ids(&urls[1], &queue, Duration::from_secs(3)).await;
    let accepted: Vec<&Outcome> = outcomes.iter().filter(|o| o.status.is_some()).collect();
    let never_accepted: Vec<&Outcome> = outcomes.iter().filter(|o| o.status.is_none()).collect();
    let lost: Vec<_> = accepted
        .iter()
        .filter(|o| !counts.contains_key(&o.id))
        .map(|o| (&o.id, o.status))
        .collect();
    let copies: Vec<_> = accepted
        .iter()
        .filter(|o| counts.get(&o.id).copied().unwrap_or(0) > 1)
        .collect();
    let unexplained: Vec<_> = copies
        .iter()
        .filter(|o| {
            let n = counts.get(&o.id).copied().unwrap_or(0);
            n > 2 || !(o.retried || o.status == Some(StatusCode::ACCEPTED))
        })
        .map(|o| (&o.id, o.status, o.retried, counts.get(&o.id)))
        .collect();
    eprintln!(
        "cluster proof ({seconds} s): sent {}, accepted {}, never accepted {}, retried {}, spooled {}, in the quorum queue {} ids, copies {}, lost {}",
        outcomes.len(),
        accepted.len(),
        never_accepted.len(),
        outcomes.iter().filter(|o| o.retried).count(),
        accepted
            .iter()
            .filter(|o| o.status == Some(StatusCode::ACCEPTED))
            .count(),
        counts.len(),
        copies.len(),
        lost.len()
    );
    assert!(
        never_accepted.is_empty(),
        "never accepted: {never_accepted:?}"
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(
        unexplained.is_empty(),
        "copies without a lost confirm: {unexplained:?}"
    );
    assert!(
        outcomes.iter().any(|o| o.retried),
        "the killed gateway should have made senders retry"
    );
}
