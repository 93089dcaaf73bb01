//! The AMQP sink checked by gate-core's sink kit on the real broker
//! (127.0.0.1:5672, guest/guest): a durable queue bound to everything on
//! this test's exchange as the working destination, a closed port as the
//! failing one.

use std::sync::Mutex;

use async_trait::async_trait;
use gate_core::sink_kit::{check_sink, SinkUnderTest};
use gate_sink_amqp::{AmqpConfig, AmqpSinkFactory};
use gate_testkit::load::{declare_bound_queue, declare_topic_exchange};
use lapin::options::{BasicGetOptions, ExchangeDeleteOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};

const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// Nothing listens there.
const CLOSED: &str = "amqp://guest:guest@127.0.0.1:1/%2f";

struct Broker {
    exchange: String,
    queue: String,
    connection: Connection,
    channel: Channel,
    /// What was taken from the queue so far, in arrival order.
    received: Mutex<Vec<String>>,
}

impl Broker {
    /// The exchange as the sink declares it (its catch-all as alternate
    /// exchange) and a queue bound to everything on it, before any delivery.
    async fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let exchange = format!("test.kit.{}.{nanos}", std::process::id());
        let connection = Connection::connect(URL, ConnectionProperties::default())
            .await
            .expect("RabbitMQ must run on 127.0.0.1:5672 (guest/guest) for this test");
        let channel = connection.create_channel().await.expect("channel");
        let alternate = format!("{exchange}.unroutable");
        declare_topic_exchange(&channel, &exchange, Some(&alternate)).await;
        let queue = format!("{exchange}.q");
        declare_bound_queue(&channel, &queue, FieldTable::default(), &exchange, "#").await;
        Self {
            exchange,
            queue,
            connection,
            channel,
            received: Mutex::new(Vec::new()),
        }
    }

    fn settings(&self, url: &str) -> toml::Table {
        let mut table = toml::Table::new();
        table.insert("url".into(), url.into());
        table.insert("exchange".into(), self.exchange.clone().into());
        table.insert("connect_timeout_ms".into(), 1000.into());
        table
    }

    async fn remove(self) {
        let catch_all = format!("{}.unroutable", self.exchange);
        for queue in [&self.queue, &catch_all] {
            let _ = self
                .channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for exchange in [&self.exchange, &catch_all] {
            let _ = self
                .channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
        let _ = self.connection.close(200, "done".into()).await;
    }
}

#[async_trait]
impl SinkUnderTest for Broker {
    type Factory = AmqpSinkFactory;

    fn working(&self) -> AmqpConfig {
        settings(self.settings(URL))
    }

    fn failing(&self) -> AmqpConfig {
        settings(self.settings(CLOSED))
    }

    fn secrets(&self) -> Vec<String> {
        vec![URL.into(), CLOSED.into(), "guest:guest".into()]
    }

    async fn received(&self) -> Vec<String> {
        while let Some(got) = self
            .channel
            .basic_get(self.queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
        {
            let id = got
                .delivery
                .properties
                .message_id()
                .as_ref()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default();
            self.received
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id);
        }
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The sink's own settings type, as `[sinks.<name>]` gives it.
fn settings(table: toml::Table) -> AmqpConfig {
    toml::Value::Table(table).try_into().expect("amqp settings")
}

#[tokio::test]
async fn the_amqp_sink_passes_the_sink_kit() {
    let broker = Broker::new().await;
    check_sink::<AmqpSinkFactory>(&broker).await;
    broker.remove().await;
}
