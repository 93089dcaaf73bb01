//! Throughput of the AMQP sink alone (no HTTP), on the real broker: IN_FLIGHT
//! concurrent `deliver` calls for SECONDS, 8 KiB notifications, to an
//! exchange the example declares with a bounded queue bound to `bound.#`.
//!
//! `throughput SECONDS IN_FLIGHT UNROUTABLE_PERCENT` prints one line:
//! `msgs/s p50_ms p99_ms delivered said_unroutable failed`. Notifications of
//! project `bound` are routed to the queue, those of project `unbound` (the
//! given percentage) go to the catch-all. Everything it declares is deleted
//! at the end. Used to compare two builds of the sink in the same run
//! (docs/performance.md).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gate_core::{ActionStatus, Envelope, Notification, Sink};
use gate_sink_amqp::{AmqpConfig, AmqpSink};
use lapin::options::{
    ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};

const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("SECONDS IN_FLIGHT UNROUTABLE_PERCENT"))
        .collect();
    let (seconds, in_flight, percent) = match args[..] {
        [s, n, p] => (s, n, p),
        _ => panic!("usage: throughput SECONDS IN_FLIGHT UNROUTABLE_PERCENT"),
    };
    let exchange = format!("bench.sink.{}", std::process::id());
    let connection = Connection::connect(URL, ConnectionProperties::default())
        .await
        .expect("RabbitMQ on 127.0.0.1:5672");
    let channel = connection.create_channel().await.expect("channel");
    let config: AmqpConfig = serde_json::from_value(serde_json::json!({
        "url": URL,
        "exchange": exchange,
        "catch_all_queue_type": "classic",
    }))
    .expect("config");
    let sink = Arc::new(AmqpSink::new(config).expect("sink"));
    // The first delivery connects and declares the exchange and catch-all.
    let _ = sink.deliver(&envelope("warm-up", "unbound")).await;
    let queue = format!("{exchange}.q");
    let mut bounded = FieldTable::default();
    bounded.insert("x-max-length".into(), AMQPValue::LongLongInt(10_000));
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            bounded,
        )
        .await
        .expect("queue");
    channel
        .queue_bind(
            queue.as_str().into(),
            exchange.as_str().into(),
            "bound.#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");

    let delivered = Arc::new(AtomicU64::new(0));
    let unroutable = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers = (0..in_flight).map(|worker| {
        let sink = Arc::clone(&sink);
        let (delivered, unroutable, failed) = (
            Arc::clone(&delivered),
            Arc::clone(&unroutable),
            Arc::clone(&failed),
        );
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0u64;
            while started.elapsed() < Duration::from_secs(seconds) {
                let project = if (i * 7 + worker) % 100 < percent {
                    "unbound"
                } else {
                    "bound"
                };
                let envelope = envelope(&format!("w{worker}-{i}"), project);
                let sent = Instant::now();
                let action = sink.deliver(&envelope).await;
                latencies.push(sent.elapsed());
                match (action.status, action.error.as_ref()) {
                    (ActionStatus::Delivered, Some(e)) if e.kind == "unroutable" => {
                        unroutable.fetch_add(1, Ordering::Relaxed)
                    }
                    (ActionStatus::Delivered, _) => delivered.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                i += 1;
            }
            latencies
        })
    });
    let mut latencies = Vec::new();
    for worker in workers.collect::<Vec<_>>() {
        latencies.extend(worker.await.expect("worker"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{:.0} {:.2} {:.2} {} {} {}",
        latencies.len() as f64 / elapsed,
        at(0.5),
        at(0.99),
        delivered.load(Ordering::Relaxed),
        unroutable.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    sink.close().await;
    let catch_all = format!("{exchange}.unroutable");
    for q in [queue.as_str(), catch_all.as_str()] {
        let _ = channel
            .queue_delete(q.into(), QueueDeleteOptions::default())
            .await;
    }
    for e in [exchange.as_str(), catch_all.as_str()] {
        let _ = channel
            .exchange_delete(e.into(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = connection.close(200, "done".into()).await;
}

/// An 8 KiB notification (the size of a GitHub push), its own delivery id.
fn envelope(id: &str, project: &str) -> Envelope {
    let raw = format!("{{\"padding\":\"{}\"}}", "x".repeat(8 * 1024));
    Envelope {
        delivery: format!("Bench/sink/{id}"),
        source: "Bench".into(),
        door: "sink".into(),
        event: "push".into(),
        received_at: 0,
        notification: Notification {
            service: "Bench".into(),
            project: project.into(),
            group: "ci".into(),
            raw_content: gate_core::RawContent::from_string(raw).expect("raw json"),
            kind: "push".into(),
            text: "bench".into(),
            link: String::new(),
        },
    }
}
