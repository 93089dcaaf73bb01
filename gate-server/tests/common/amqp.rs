//! A consumer on the real broker, to read back what the gate published.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};

use super::AMQP_URL;

pub struct Consumer {
    pub exchange: String,
    connection: Connection,
    channel: Channel,
    consumer: lapin::Consumer,
}

pub async fn connect() -> Connection {
    Connection::connect(AMQP_URL, ConnectionProperties::default())
        .await
        .expect("RabbitMQ must run on 127.0.0.1:5672 (guest/guest) for these tests; `.ci/run` starts it")
}

pub async fn declare_exchange(channel: &Channel, exchange: &str) {
    gate_testkit::load::declare_topic_exchange(channel, exchange, None).await;
}

impl Consumer {
    /// Declare `exchange` (as the sink does) and bind an exclusive queue to
    /// it with `binding` (e.g. `#`).
    pub async fn bind(exchange: &str, binding: &str) -> Self {
        let connection = connect().await;
        let channel = connection.create_channel().await.expect("channel");
        declare_exchange(&channel, exchange).await;
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("queue");
        channel
            .queue_bind(
                queue.name().clone(),
                exchange.into(),
                binding.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind");
        let consumer = channel
            .basic_consume(
                queue.name().clone(),
                "gate-test".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        Self {
            exchange: exchange.to_owned(),
            connection,
            channel,
            consumer,
        }
    }

    /// The next message, or None after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<lapin::message::Delivery> {
        let delivery = tokio::time::timeout(wait, self.consumer.next())
            .await
            .ok()??
            .expect("delivery");
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
        Some(delivery)
    }

    /// Every message that arrives within `quiet` of the previous one.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<lapin::message::Delivery> {
        let mut all = Vec::new();
        while let Some(delivery) = self.next(quiet).await {
            all.push(delivery);
        }
        all
    }

    pub async fn delete(self) {
        remove(&self.channel, &self.exchange).await;
        let _ = self.connection.close(200, "done".into()).await;
    }
}

/// Delete a test's exchange and the catch-all the sink declared beside it
/// (`<exchange>.unroutable`, exchange and queue), so the shared broker keeps
/// nothing of the test.
pub async fn remove(channel: &Channel, exchange: &str) {
    let catch_all = format!("{exchange}.unroutable");
    let _ = channel
        .queue_delete(catch_all.as_str().into(), QueueDeleteOptions::default())
        .await;
    for name in [exchange, catch_all.as_str()] {
        let _ = channel
            .exchange_delete(name.into(), ExchangeDeleteOptions::default())
            .await;
    }
}

/// [`remove`] on a connection of its own.
pub async fn cleanup(exchange: &str) {
    let connection = connect().await;
    let channel = connection.create_channel().await.expect("channel");
    remove(&channel, exchange).await;
    let _ = connection.close(200, "done".into()).await;
}

/// The exchange as the sink declares it (with its catch-all as alternate
/// exchange) and a durable quorum queue bound to it with `#`: what a
/// consumer has on a node or cluster before the load. Returns the queue.
pub async fn quorum_queue(url: &str, exchange: &str) -> String {
    use gate_testkit::load::{declare_bound_queue, declare_topic_exchange};
    use lapin::types::{AMQPValue, LongString};
    let connection = Connection::connect(url, ConnectionProperties::default())
        .await
        .expect("connect to the broker");
    let channel = connection.create_channel().await.expect("channel");
    let alternate = format!("{exchange}.unroutable");
    declare_topic_exchange(&channel, exchange, Some(&alternate)).await;
    let queue = format!("{exchange}.q");
    let mut quorum = FieldTable::default();
    quorum.insert(
        "x-queue-type".into(),
        AMQPValue::LongString(LongString::from("quorum")),
    );
    declare_bound_queue(&channel, &queue, quorum, exchange, "#").await;
    let _ = connection.close(200, "declared".into()).await;
    queue
}

/// The message ids in `queue` (acknowledged, so the queue is emptied),
/// counted, once nothing arrives for `quiet`. Ids are
/// `GitHub/acme/<the sender's delivery id>`; the prefix is removed.
pub async fn count_ids(
    channel: &Channel,
    queue: &str,
    quiet: Duration,
) -> std::collections::BTreeMap<String, usize> {
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            format!("drain-{queue}").as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut counts = std::collections::BTreeMap::new();
    while let Ok(Some(Ok(delivery))) = tokio::time::timeout(quiet, consumer.next()).await {
        let id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| {
                m.as_str()
                    .strip_prefix("GitHub/acme/")
                    .unwrap_or(m.as_str())
                    .to_owned()
            })
            .unwrap_or_default();
        *counts.entry(id).or_insert(0) += 1;
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
    }
    counts
}

/// [`count_ids`] on a connection of its own to `url`.
pub async fn drain_ids(
    url: &str,
    queue: &str,
    quiet: Duration,
) -> std::collections::BTreeMap<String, usize> {
    let connection = Connection::connect(url, ConnectionProperties::default())
        .await
        .expect("connect");
    let channel = connection.create_channel().await.expect("channel");
    let counts = count_ids(&channel, queue, quiet).await;
    let _ = connection.close(200, "done".into()).await;
    counts
}
