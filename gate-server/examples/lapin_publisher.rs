//! Baseline for the benchmarks: the fastest a plain lapin publisher sends
//! the gateway's messages (persistent JSON, mandatory, publisher confirms
//! pipelined with IN_FLIGHT messages outstanding) to the same exchange.
//!
//! `lapin_publisher setup EXCHANGE QUEUE` declares the exchange and a bounded
//! queue bound to it; `lapin_publisher run EXCHANGE SECONDS IN_FLIGHT` prints
//! `msgs/s p50_ms p99_ms`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Semaphore;

const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let connection = Connection::connect(URL, ConnectionProperties::default())
        .await
        .expect("broker");
    let channel = connection.create_channel().await.expect("channel");
    let exchange = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "bench.notifications".into());
    match args.get(1).map(String::as_str) {
        Some("setup") => {
            let queue = args.get(3).cloned().unwrap_or_else(|| "bench.sink".into());
            channel
                .exchange_declare(
                    exchange.as_str().into(),
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions {
                        durable: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .expect("exchange");
            let mut arguments = FieldTable::default();
            // Bounded so that long runs do not fill the broker's disk.
            arguments.insert("x-max-length".into(), AMQPValue::LongLongInt(20_000));
            channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions {
                        durable: true,
                        ..Default::default()
                    },
                    arguments,
                )
                .await
                .expect("queue");
            channel
                .queue_bind(
                    queue.as_str().into(),
                    exchange.as_str().into(),
                    "#".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .expect("bind");
        }
        Some("run") => {
            let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
            let in_flight: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(64);
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .expect("confirms");
            let body = Arc::new(sample_message());
            let permits = Arc::new(Semaphore::new(in_flight));
            let started = Instant::now();
            let mut tasks = Vec::new();
            let mut i = 0u64;
            while started.elapsed() < Duration::from_secs(seconds) {
                let permit = Arc::clone(&permits).acquire_owned().await.expect("permit");
                let channel = channel.clone();
                let body = Arc::clone(&body);
                i += 1;
                tasks.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let properties = BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_content_type("application/json".into())
                        .with_message_id(format!("bench-{i}").into());
                    let confirm = channel
                        .basic_publish(
                            exchange_name().into(),
                            "acme.ci.github.push".into(),
                            BasicPublishOptions {
                                mandatory: true,
                                ..Default::default()
                            },
                            &body,
                            properties,
                        )
                        .await
                        .expect("publish")
                        .await
                        .expect("confirm");
                    assert!(confirm.is_ack());
                    drop(permit);
                    sent.elapsed()
                }));
            }
            let mut latencies = Vec::with_capacity(tasks.len());
            for task in tasks {
                latencies.push(task.await.expect("task"));
            }
            let elapsed = started.elapsed().as_secs_f64();
            latencies.sort();
            let pick = |q: f64| {
                latencies[((latencies.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0
            };
            println!(
                "{:.0} {:.2} {:.2}",
                latencies.len() as f64 / elapsed,
                pick(0.5),
                pick(0.99)
            );
        }
        _ => eprintln!(
            "usage: lapin_publisher setup EXCHANGE QUEUE | run EXCHANGE SECONDS IN_FLIGHT"
        ),
    }
    let _ = connection.close(200, "done".into()).await;
}

fn exchange_name() -> String {
    std::env::args()
        .nth(2)
        .unwrap_or_else(|| "bench.notifications".into())
}

/// A notification as the gateway publishes it for the benchmark payload:
/// the seven keys with the 8 KiB push as rawContent.
fn sample_message() -> Vec<u8> {
    let raw = std::fs::read_to_string("payloads/github/push-forced.json")
        .expect("run from the repository root");
    let raw = serde_json::value::RawValue::from_string(raw).expect("json");
    serde_json::to_vec(&serde_json::json!({
        "service": "GitHub", "project": "bench", "group": "ci", "rawContent": raw,
        "type": "push", "text": "octocat force-pushed main of acme/widgets", "link": "https://github.com/acme/widgets/compare/a...b",
    }))
    .expect("json")
}
