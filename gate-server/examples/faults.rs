//! The fault suite's long runs: each fault is created under load through a
//! real gate-server process delivering to a private RabbitMQ node, and every
//! event is counted by `message_id` on a durable queue bound before the load.
//! Prints one row of docs/reliability.md per fault and exits 1 when anything
//! accepted was lost.
//!
//! Faults:
//! - `hangup`: every sender hangs up right after sending (as a proxy with a
//!   short timeout does), with a broker stop in the middle of the load; then
//!   every id is sent again, as the sender would retry, and must be answered
//!   `duplicate` (never a wedged 503 `in_progress`, never published twice).
//! - `identical`: the same notification, with no id, sent N times (a cron
//!   job): N messages with N distinct ids.
//!
//! cargo run -p gate-server --example faults -- <FAULT> [EVENTS] [CONCURRENCY]
//! (scripts/faults.sh builds what it needs and runs every fault)

use std::collections::HashMap;
use std::net::SocketAddr;
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
use tokio::io::AsyncWriteExt;

const EXCHANGE: &str = "faults.notifications";
const QUEUE: &str = "faults.all";
const BODY: &str = r#"{"service":"Cron","group":"ops","type":"backup","text":"backup done"}"#;
const PATH: &str = "/gate/Notification/ops";

fn arg(index: usize, default: u64) -> u64 {
    std::env::args()
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// What one fault run counted.
#[derive(Debug, Default)]
struct Row {
    sent: u64,
    accepted: u64,
    delivered: u64,
    lost: u64,
    copies: u64,
    notes: String,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let fault = std::env::args().nth(1).unwrap_or_default();
    let events = arg(2, 10_000);
    let concurrency = arg(3, 32);
    let broker = tokio::task::spawn_blocking(PrivateBroker::start)
        .await
        .expect("broker");
    bind_counting_queue(&broker.url(), EXCHANGE, QUEUE, FieldTable::default()).await;
    let gate = start_gate(&broker.url());
    let broker = Arc::new(broker);
    let started = Instant::now();
    let row = match fault.as_str() {
        "hangup" => hangup(&gate, &broker, events, concurrency).await,
        "identical" => identical(&gate, &broker, events, concurrency).await,
        other => {
            eprintln!("unknown fault {other:?}: use hangup or identical");
            return std::process::ExitCode::from(2);
        }
    };
    println!(
        "| {fault} | {} | {} | {} | {} | {} | {} ({events} events, concurrency {concurrency}, {:.0} s) |",
        row.sent,
        row.accepted,
        row.delivered,
        row.lost,
        row.copies,
        row.notes,
        started.elapsed().as_secs_f64()
    );
    drop(gate);
    if row.lost == 0 && row.accepted == row.sent {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

/// Senders hang up after sending; the broker stops once mid-load.
async fn hangup(
    gate: &GateProcess,
    broker: &Arc<PrivateBroker>,
    events: u64,
    concurrency: u64,
) -> Row {
    let next = Arc::new(AtomicU64::new(0));
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, addr) = (Arc::clone(&next), gate.addr);
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= events {
                        break;
                    }
                    send_and_hang_up(addr, &format!("hang-{i}"), Duration::from_millis(i % 20))
                        .await;
                }
            })
        })
        .collect();
    let outage = stop_broker_at(broker, &next, events / 2);
    for sender in senders {
        sender.await.expect("sender");
    }
    outage.await.expect("outage");

    // The senders retry every id, as a sender that saw no answer does.
    let mut retries: HashMap<String, u64> = HashMap::new();
    let mut client = http1_sender(gate.addr).await;
    for i in 0..events {
        let outcome = loop {
            let (status, action) = post(&mut client, gate.addr, Some(&format!("hang-{i}"))).await;
            if status == 503 && action == "in_progress" {
                // Allowed only while the first attempt is still running.
                *retries.entry("in_progress (retried)".into()).or_insert(0) += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            break format!("{status} {action}");
        };
        *retries.entry(outcome).or_insert(0) += 1;
    }
    let Counted { ids: seen, copies } =
        count_message_ids(&broker.url(), QUEUE, events, Duration::from_secs(120)).await;
    let lost = (0..events)
        .filter(|i| !seen.contains_key(&format!("Notification/ops/hang-{i}")))
        .count() as u64;
    let kept = retries.get("200 duplicate").copied().unwrap_or(0);
    // Hung up before its body was read: never accepted, so the retry is
    // the first delivery (not a copy).
    let on_retry = retries.get("200 delivered").copied().unwrap_or(0);
    let mut outcomes: Vec<_> = retries.into_iter().collect();
    outcomes.sort();
    Row {
        sent: events,
        accepted: kept + on_retry,
        delivered: seen.len() as u64,
        lost,
        copies,
        notes: format!(
            "kept after the hang-up: {kept}; hung up before the body was read, published by the retry: {on_retry}; retries answered {outcomes:?}; 1 broker stop"
        ),
    }
}

/// The same notification with no id, again and again.
async fn identical(
    gate: &GateProcess,
    broker: &Arc<PrivateBroker>,
    events: u64,
    concurrency: u64,
) -> Row {
    let next = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, accepted, addr) = (Arc::clone(&next), Arc::clone(&accepted), gate.addr);
            tokio::spawn(async move {
                let mut client = http1_sender(addr).await;
                while next.fetch_add(1, Ordering::Relaxed) < events {
                    let (status, _) = post(&mut client, addr, None).await;
                    if status == 200 || status == 202 {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("sender");
    }
    let accepted = accepted.load(Ordering::Relaxed);
    let Counted { ids: seen, copies } =
        count_message_ids(&broker.url(), QUEUE, events, Duration::from_secs(60)).await;
    Row {
        sent: events,
        accepted,
        delivered: seen.len() as u64,
        lost: accepted.saturating_sub(seen.len() as u64),
        copies,
        notes: "one body, no id: each a message of its own".into(),
    }
}

/// Stop the broker for 3 s once `next` reaches `at`.
fn stop_broker_at(
    broker: &Arc<PrivateBroker>,
    next: &Arc<AtomicU64>,
    at: u64,
) -> tokio::task::JoinHandle<()> {
    let (broker, next) = (Arc::clone(broker), Arc::clone(next));
    tokio::spawn(async move {
        while next.load(Ordering::Relaxed) < at {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let b = Arc::clone(&broker);
        tokio::task::spawn_blocking(move || b.stop_app())
            .await
            .expect("stop");
        tokio::time::sleep(Duration::from_secs(3)).await;
        tokio::task::spawn_blocking(move || broker.start_app())
            .await
            .expect("start");
    })
}

/// Write the whole request, wait `patience`, close: the answer is never read.
async fn send_and_hang_up(addr: SocketAddr, delivery: &str, patience: Duration) {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return;
    };
    let request = format!(
        "POST {PATH} HTTP/1.1\r\nhost: faults\r\ncontent-type: application/json\r\nx-gate-delivery: {delivery}\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.write_all(request.as_bytes()).await;
    tokio::time::sleep(patience).await;
}

type Client = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// The status and the first action's status (or error type).
async fn post(client: &mut Client, addr: SocketAddr, delivery: Option<&str>) -> (u16, String) {
    let mut request = http::Request::post(PATH)
        .header("host", "faults")
        .header("content-type", "application/json");
    if let Some(delivery) = delivery {
        request = request.header("x-gate-delivery", delivery);
    }
    let request = request
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .expect("request");
    loop {
        match client.send_request(request.clone()).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let report: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let action = report["actions"][0]["status"]
                    .as_str()
                    .or(report["error"]["type"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                return (status, action);
            }
            Err(_) => *client = http1_sender(addr).await,
        }
    }
}

/// The gate of this suite: one open native door publishing to the private
/// broker.
fn start_gate(url: &str) -> GateProcess {
    let dir = std::env::temp_dir().join(format!("gate-faults-{}", std::process::id()));
    let config = format!(
        "[server]\ndelivery_deadline_ms = 3000\n[spool]\npath = {spool:?}\nretry_initial_ms = 200\nretry_max_ms = 2000\n\
         [sinks.rabbit]\nkind = \"amqp\"\nurl = \"{url}\"\nexchange = \"{EXCHANGE}\"\nconfirm_timeout_ms = 2000\nconnect_timeout_ms = 500\nreconnect_interval_ms = 200\n\
         [sources.Notification.doors.ops]\nsinks = [\"rabbit\"]\ninsecure_no_auth = true\n",
        spool = dir.join("spool.redb").display().to_string(),
    );
    GateProcess::start(&dir, &config)
}
