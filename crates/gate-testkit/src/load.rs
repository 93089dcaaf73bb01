//! The pieces every load run repeats: a queue bound before the load, the
//! count of what reached it by `message_id`, and an HTTP/1 sender that
//! reconnects after the gateway (or the sender) dropped the connection.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::Full;
use hyper::client::conn::http1::SendRequest;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};

/// Declares the durable topic `exchange` and a durable `queue` (with its
/// `arguments`, e.g. a length bound) bound to every routing key, so every
/// event published during the load is counted.
pub async fn bind_counting_queue(url: &str, exchange: &str, queue: &str, arguments: FieldTable) {
    let connection = Connection::connect(url, ConnectionProperties::default())
        .await
        .expect("broker");
    let channel = connection.create_channel().await.expect("channel");
    declare_topic_exchange(&channel, exchange, None).await;
    declare_bound_queue(&channel, queue, arguments, exchange, "#").await;
    let _ = connection.close(200, "declared".into()).await;
}

/// Declares the durable topic `exchange`, with `alternate` as its alternate
/// exchange when given (as the AMQP sink declares it by default).
pub async fn declare_topic_exchange(channel: &Channel, exchange: &str, alternate: Option<&str>) {
    let mut arguments = FieldTable::default();
    if let Some(alternate) = alternate {
        arguments.insert(
            "alternate-exchange".into(),
            AMQPValue::LongString(LongString::from(alternate)),
        );
    }
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .exchange_declare(exchange.into(), ExchangeKind::Topic, durable, arguments)
        .await
        .expect("exchange");
}

/// Declares the durable `queue` (with its `arguments`: a type, a bound) and
/// binds it to `exchange` with `binding_key`, before the load, as a
/// consumer would.
pub async fn declare_bound_queue(
    channel: &Channel,
    queue: &str,
    arguments: FieldTable,
    exchange: &str,
    binding_key: &str,
) {
    let durable = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    channel
        .queue_declare(queue.into(), durable, arguments)
        .await
        .expect("queue");
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            binding_key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");
}

/// What reached a counting queue.
#[derive(Debug, Default)]
pub struct Counted {
    /// Every `message_id` seen, with how many messages carried it.
    pub ids: HashMap<String, u64>,
    /// Messages that repeated an id already seen (at-least-once copies).
    pub copies: u64,
}

/// Consumes `queue` until `expected` distinct ids arrived, or nothing came
/// for 3 s once `limit` passed; reconnects while the broker is away.
pub async fn count_message_ids(url: &str, queue: &str, expected: u64, limit: Duration) -> Counted {
    let mut counted = Counted::default();
    let started = Instant::now();
    while (counted.ids.len() as u64) < expected && started.elapsed() < limit {
        let Ok(connection) = Connection::connect(url, ConnectionProperties::default()).await else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let channel = connection.create_channel().await.expect("channel");
        let mut consumer = channel
            .basic_consume(
                queue.into(),
                "load-count".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        while let Ok(Some(Ok(delivery))) =
            tokio::time::timeout(Duration::from_secs(3), consumer.next()).await
        {
            if let Some(id) = delivery.properties.message_id() {
                let count = counted.ids.entry(id.to_string()).or_insert(0);
                *count += 1;
                if *count > 1 {
                    counted.copies += 1;
                }
            }
            let _ = delivery.ack(BasicAckOptions::default()).await;
            if counted.ids.len() as u64 >= expected {
                break;
            }
        }
        let _ = connection.close(200, "done".into()).await;
    }
    counted
}

/// An HTTP/1 sender to `addr`, retried every 50 ms until the gateway
/// listens and answers the handshake.
pub async fn http1_sender(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    loop {
        if let Ok(stream) = tokio::net::TcpStream::connect(addr).await {
            if let Ok((sender, connection)) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await
            {
                tokio::spawn(connection);
                return sender;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A `gate-server serve` process for a load run: `GATE_SERVER_BIN`, else the
/// release binary, on a free loopback port, with `config` written to
/// `dir/gate.toml` and its log in `dir/gate.log`. Killed, and `dir`
/// removed, when dropped.
#[derive(Debug)]
pub struct GateProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    child: std::process::Child,
    dir: PathBuf,
}

impl GateProcess {
    /// Starts it and waits (at most 20 s) until it listens.
    pub fn start(dir: &Path, config: &str) -> Self {
        std::fs::create_dir_all(dir).expect("dir");
        let config_path = dir.join("gate.toml");
        std::fs::write(&config_path, config).expect("config");
        let addr: SocketAddr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr")
        };
        let binary = std::env::var("GATE_SERVER_BIN")
            .unwrap_or_else(|_| "target/release/gate-server".into());
        let child = Command::new(&binary)
            .args(["serve", "--config"])
            .arg(&config_path)
            .env("GATE__SERVER__LISTEN", addr.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("gate.log")).expect("log"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {binary} (build it with `cargo build --release -p gate-server`): {e}"
                )
            });
        let started = Instant::now();
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "gate-server did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            addr,
            child,
            dir: dir.to_owned(),
        }
    }

    /// The process id, for reading its memory in /proc.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for GateProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
