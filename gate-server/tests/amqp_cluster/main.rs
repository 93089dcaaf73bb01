//! Proof on real parts: a 3-node RabbitMQ cluster of private nodes, the
//! shared Redis (127.0.0.1:6379, a key prefix of this run) and 3 gateway
//! processes sharing it (`[dedup] store = "redis"`), under steady signed
//! GitHub load spread over the 3 gateways. One gateway is killed with
//! SIGKILL and one broker node stopped, then both come back.
//!
//! - A sender whose gateway does not answer (or fails) retries the same
//!   delivery on the next gateway, as a load balancer would; such a retry
//!   may publish (nothing was kept), so it must end up on the queue once,
//!   or twice only where a confirm was lost in flight.
//! - One accepted delivery in [`REDELIVER_EVERY`] is sent again at once to
//!   another gateway, and after the faults GitHub's redelivery is played:
//!   everything that failed, went unanswered, was spooled, was accepted by
//!   the killed gateway or while the node was down is sent again to another
//!   gateway than the one that accepted it. Each must be answered
//!   `duplicate` and publish nothing.
//!
//! Counted by `message_id` on a quorum queue bound before the load.
//! `GATE_CLUSTER_SECONDS` sets the load's length (default 16 s, for CI);
//! scripts/cluster-proof.sh runs it longer.

#[path = "../common/mod.rs"]
mod common;
mod send;
mod tally;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::amqp::{drain_ids, quorum_queue};
use common::process::{free_addr, GateProcess};
use common::redis_keys::{RedisPrefix, SHARED_REDIS};
use common::unique;
use gate_testkit::cluster::PrivateCluster;
use http_body_util::{BodyExt, Full};
use send::{send, Reply, SECRET};
use tally::{Record, Tally};

const GATEWAYS: usize = 3;
const SENDERS: usize = 6;
/// One accepted first delivery in this many is redelivered at once.
const REDELIVER_EVERY: usize = 3;
/// The gateway killed with SIGKILL, and the node stopped.
const KILLED: usize = 1;
const STOPPED: usize = 0;

fn gate_config(urls: &[String], exchange: &str, spool: &Path, prefix: &str) -> String {
    let urls: Vec<String> = urls.iter().map(|u| format!("{u:?}")).collect();
    // claim_ttl_ms: the claims of the killed gateway lapse after 5 s
    // (30 s by default), so its senders' retries end within the run.
    format!(
        r#"
        [server]
        delivery_deadline_ms = 4000

        [spool]
        path = {spool:?}
        retry_initial_ms = 200
        retry_max_ms = 1000

        [dedup]
        store = "redis"
        redis_url = "{SHARED_REDIS}"
        key_prefix = "{prefix}"
        window_seconds = 3600
        claim_ttl_ms = 5000
        redis_timeout_ms = 2000

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

/// When the faults happened, since the load began.
struct Faults {
    killed_at: Duration,
    stopped_at: Duration,
    started_at: Duration,
}

/// What GitHub would redeliver after the faults (its log shows a failure or
/// no answer), and what a wrong answer would hurt most: accepted by the
/// killed gateway, spooled, or accepted while the node was down.
fn redelivered_after_the_faults(record: &Record, faults: &Faults) -> bool {
    let Some(accepted) = record.accepted() else {
        return false;
    };
    record.first.len() > 1
        || (accepted.gateway == KILLED && accepted.at < faults.killed_at)
        || accepted.answer == Reply::Spooled
        || (faults.stopped_at..faults.started_at).contains(&accepted.at)
}

/// The other gateways than `accepted`, in an order varying with `n`.
fn others(accepted: usize, n: usize) -> Vec<usize> {
    let (a, b) = ((accepted + 1) % GATEWAYS, (accepted + 2) % GATEWAYS);
    if n.is_multiple_of(2) {
        vec![a, b]
    } else {
        vec![b, a]
    }
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
async fn three_gateways_sharing_redis_lose_nothing_and_answer_every_redelivery_duplicate() {
    let seconds: u64 = std::env::var("GATE_CLUSTER_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let length = Duration::from_secs(seconds);
    let keys = RedisPrefix::new("gate-cluster").await;
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
        let spool = dir.path().join(format!("spool-{g}.redb"));
        std::fs::write(
            &path,
            gate_config(&rotated, &exchange, &spool, &keys.prefix),
        )
        .expect("config");
        let addr = free_addr();
        let log = dir.path().join(format!("gate-{g}-a.log"));
        gateways.push(Some(GateProcess::start(&path, addr, &log)));
        configs.push(path);
        addrs.push(addr);
    }

    let records = Arc::new(Mutex::new(Vec::new()));
    let t0 = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let addrs = addrs.clone();
            let records = Arc::clone(&records);
            tokio::spawn(async move {
                let mut i = 0;
                while t0.elapsed() < length {
                    let id = format!("s{s}-{i}");
                    // Spread: each delivery starts at the next gateway.
                    let order: Vec<usize> = (0..GATEWAYS).map(|k| (s + i + k) % GATEWAYS).collect();
                    let first = send(&addrs, &order, &id, t0).await;
                    let mut record = Record {
                        id,
                        first,
                        redeliveries: Vec::new(),
                    };
                    if let Some(accepted) = record.accepted() {
                        if i.is_multiple_of(REDELIVER_EVERY) {
                            let order = others(accepted.gateway, i / REDELIVER_EVERY);
                            let again = send(&addrs, &order, &record.id, t0).await;
                            record.redeliveries.push(again);
                        }
                    }
                    records.lock().expect("records").push(record);
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();

    // The faults, at fixed fractions of the load.
    let at = |fraction: f64| t0 + length.mul_f64(fraction);
    tokio::time::sleep_until(at(0.2).into()).await;
    let killed_at = t0.elapsed();
    if let Some(gateway) = gateways[KILLED].take() {
        gateway.kill9();
    }
    tokio::time::sleep_until(at(0.3).into()).await;
    let stopped_at = t0.elapsed();
    let stopping = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || stopping.nodes[STOPPED].stop_app())
        .await
        .expect("stop node");
    tokio::time::sleep_until(at(0.55).into()).await;
    gateways[KILLED] = Some(GateProcess::start(
        &configs[KILLED],
        addrs[KILLED],
        &dir.path().join(format!("gate-{KILLED}-b.log")),
    ));
    tokio::time::sleep_until(at(0.7).into()).await;
    let starting = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || starting.nodes[STOPPED].start_app())
        .await
        .expect("start node");
    let started_at = t0.elapsed();
    for sender in senders {
        sender.await.expect("sender");
    }
    let faults = Faults {
        killed_at,
        stopped_at,
        started_at,
    };

    // GitHub's redelivery after the faults, while spools may still hold
    // some of these events: each to another gateway than the first.
    let mut records = std::mem::take(&mut *records.lock().expect("records"));
    let picked: Vec<(usize, String, Vec<usize>)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| redelivered_after_the_faults(r, &faults))
        .filter_map(|(n, r)| Some((n, r.id.clone(), others(r.accepted()?.gateway, n))))
        .collect();
    let workers: Vec<_> = (0..SENDERS)
        .map(|w| {
            let mine: Vec<_> = picked.iter().skip(w).step_by(SENDERS).cloned().collect();
            let addrs = addrs.clone();
            tokio::spawn(async move {
                let mut done = Vec::new();
                for (n, id, order) in mine {
                    done.push((n, send(&addrs, &order, &id, t0).await));
                }
                done
            })
        })
        .collect();
    for worker in workers {
        for (n, attempts) in worker.await.expect("redeliveries") {
            records[n].redeliveries.push(attempts);
        }
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
        addrs[STOPPED],
        r#"gate_sink_stat{sink="rabbit",stat="failovers"} "#,
    )
    .await;
    assert!(
        failovers.is_some_and(|n| n >= 1),
        "failovers: {failovers:?}"
    );

    let counts = drain_ids(&urls[1], &queue, Duration::from_secs(3)).await;
    let tally = Tally::new(&records, &counts, GATEWAYS);
    eprintln!(
        "cluster proof ({seconds} s; SIGKILL at {:.1} s, node stopped {:.1}-{:.1} s): {tally}",
        killed_at.as_secs_f64(),
        stopped_at.as_secs_f64(),
        started_at.as_secs_f64()
    );
    tally.check();

    // The gateways really shared Redis: nobody failed open, the survivors
    // counted each duplicate they answered, and every accepted id is
    // recorded `seen` under this run's prefix (and nothing else is).
    for (g, addr) in addrs.iter().enumerate() {
        let open = metric(*addr, "gate_dedup_fail_open_total ").await;
        assert_eq!(open, Some(0), "gateway {g} failed open");
        if g != KILLED {
            let hits = metric(*addr, "gate_dedup_hits_total ").await;
            assert_eq!(hits, Some(tally.duplicates_by[g] as u64), "gateway {g}");
        }
    }
    let accepted: Vec<String> = records
        .iter()
        .filter(|r| r.accepted().is_some())
        .map(|r| format!("GitHub/acme/{}", r.id))
        .collect();
    let values = keys.values(&accepted).await;
    let unrecorded: Vec<_> = accepted
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.as_deref() != Some("seen"))
        .collect();
    assert!(unrecorded.is_empty(), "not recorded: {unrecorded:?}");
    assert_eq!(keys.keys().len(), accepted.len(), "keys under the prefix");
}
