//! The long fault run: N signed GitHub pushes through a real gate-server
//! process while a private RabbitMQ node is restarted several times, then
//! every event is counted on a durable queue. Prints
//! `sent / accepted / delivered / lost` and exits 1 when anything accepted
//! was lost.
//!
//! cargo build --release -p gate-server
//! cargo run --release -p gate-server --example soak -- [EVENTS] [RESTARTS] [CONCURRENCY]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gate_testkit::broker::PrivateBroker;
use gate_testkit::load::{
    bind_counting_queue, count_message_ids, http1_sender, Counted, GateProcess,
};
use http_body_util::{BodyExt, Full};
use lapin::types::FieldTable;

const SECRET: &str = "soak-secret";
const EXCHANGE: &str = "soak.notifications";
const QUEUE: &str = "soak.all";

fn arg(index: usize, default: u64) -> u64 {
    std::env::args()
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn sign(body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let events = arg(1, 100_000);
    let restarts = arg(2, 3);
    let concurrency = arg(3, 32);
    let broker = tokio::task::spawn_blocking(PrivateBroker::start)
        .await
        .expect("broker");
    bind_counting_queue(&broker.url(), EXCHANGE, QUEUE, FieldTable::default()).await;

    let dir = std::env::temp_dir().join(format!("gate-soak-{}", std::process::id()));
    let config = format!(
        "[server]\ndelivery_deadline_ms = 3000\n[spool]\npath = {spool:?}\nretry_initial_ms = 200\nretry_max_ms = 2000\n\
         [sinks.rabbit]\nkind = \"amqp\"\nurl = \"{url}\"\nexchange = \"{EXCHANGE}\"\nconfirm_timeout_ms = 2000\nconnect_timeout_ms = 500\nreconnect_interval_ms = 200\n\
         [sources.GitHub.doors.acme]\nsinks = [\"rabbit\"]\nsecrets = [\"{SECRET}\"]\n",
        spool = dir.join("spool.redb").display().to_string(),
        url = broker.url()
    );
    let gate = GateProcess::start(&dir, &config);
    let addr = gate.addr;

    let body = Bytes::from(
        std::fs::read("payloads/github/push-three-commits.json")
            .expect("run from the repository root"),
    );
    let signature = sign(&body);
    let next = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let spooled = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, accepted, spooled, body, signature) = (
                Arc::clone(&next),
                Arc::clone(&accepted),
                Arc::clone(&spooled),
                body.clone(),
                signature.clone(),
            );
            tokio::spawn(async move {
                let mut sender = http1_sender(addr).await;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= events {
                        break;
                    }
                    let request = http::Request::post("/gate/GitHub/acme")
                        .header("host", "soak")
                        .header("content-type", "application/json")
                        .header("x-github-event", "push")
                        .header("x-github-delivery", format!("soak-{i}"))
                        .header("x-hub-signature-256", &signature)
                        .body(Full::new(body.clone()))
                        .expect("request");
                    let status = loop {
                        match sender.send_request(request.clone()).await {
                            Ok(response) => {
                                let status = response.status();
                                let _ = response.into_body().collect().await;
                                break status;
                            }
                            Err(_) => sender = http1_sender(addr).await,
                        }
                    };
                    if status == 200 || status == 202 {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    if status == 202 {
                        spooled.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    let broker = Arc::new(broker);
    let restarter = {
        let broker = Arc::clone(&broker);
        let next = Arc::clone(&next);
        tokio::spawn(async move {
            for round in 1..=restarts {
                // Spread the restarts over the run.
                while next.load(Ordering::Relaxed) < events * round / (restarts + 1) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let b = Arc::clone(&broker);
                tokio::task::spawn_blocking(move || b.stop_app())
                    .await
                    .expect("stop");
                eprintln!("broker stopped (restart {round}/{restarts})");
                tokio::time::sleep(Duration::from_secs(5)).await;
                let b = Arc::clone(&broker);
                tokio::task::spawn_blocking(move || b.start_app())
                    .await
                    .expect("start");
                eprintln!("broker started again");
            }
        })
    };
    for sender in senders {
        sender.await.expect("sender");
    }
    restarter.await.expect("restarter");
    let sending = started.elapsed();
    let accepted = accepted.load(Ordering::Relaxed);

    let Counted {
        ids: delivered,
        copies,
    } = count_message_ids(&broker.url(), QUEUE, events, Duration::from_secs(120)).await;
    let lost = (0..events)
        .filter(|i| !delivered.contains_key(&format!("GitHub/acme/soak-{i}")))
        .count();
    println!(
        "sent {events} / accepted {accepted} (spooled {}) / delivered {} (and {copies} copies) / lost {lost}  [{restarts} broker restarts, concurrency {concurrency}, sending took {:.1} s]",
        spooled.load(Ordering::Relaxed),
        delivered.len(),
        sending.as_secs_f64()
    );
    drop(gate);
    if lost == 0 && accepted == events {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
