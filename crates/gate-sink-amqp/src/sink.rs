use std::sync::Arc;
use std::time::Duration;

use gate_core::{routing_segment, Action, Envelope, Sink, SinkFactory};
use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Confirmation};

use crate::connection::Link;
use crate::message::{properties_for, short_string};
use crate::AmqpConfig;

const KIND: &str = "amqp";
/// Spooled events published before waiting for their confirms.
const REDELIVERY_WINDOW: usize = 64;

/// Registered as sink kind `amqp`.
#[derive(Debug)]
pub struct AmqpSinkFactory;

impl SinkFactory for AmqpSinkFactory {
    const KIND: &'static str = KIND;
    type Config = AmqpConfig;

    fn validate(_name: &str, config: &AmqpConfig) -> Result<(), String> {
        if config.exchange.trim().is_empty() {
            return Err("exchange must not be empty".into());
        }
        if config.confirm_timeout_ms == 0 || config.confirm_timeout_ms >= 10_000 {
            return Err(
                "confirm_timeout_ms must be between 1 and 9999 (GitHub gives up after 10 s)".into(),
            );
        }
        Ok(())
    }

    /// Called after `validate`.
    fn build(_name: &str, config: AmqpConfig) -> Result<Arc<dyn Sink>, String> {
        let sink = Arc::new(AmqpSink::new(config));
        // Connect now so the first request does not pay for it; failure is
        // fine here: the sink reconnects on demand.
        let eager = Arc::clone(&sink);
        tokio::spawn(async move {
            let _ = eager.link.channel().await;
        });
        Ok(sink)
    }
}

/// Publishes notifications to a topic exchange with publisher confirms.
pub struct AmqpSink {
    link: Link,
}

impl std::fmt::Debug for AmqpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpSink")
            .field("exchange", &self.link.config().exchange)
            .finish_non_exhaustive()
    }
}

/// What the broker said about one message.
enum Outcome {
    Confirmed,
    Returned(String),
    Failed(&'static str, String),
}

impl AmqpSink {
    pub fn new(config: AmqpConfig) -> Self {
        Self {
            link: Link::new(config),
        }
    }

    /// Connections opened so far (1 after start; more after reconnects).
    pub fn connections_opened(&self) -> u64 {
        self.link.connects()
    }

    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Outcome {
        let channel = match self.link.channel().await {
            Ok(channel) => channel,
            Err(reason) => return Outcome::Failed("unavailable", reason),
        };
        let timeout = Duration::from_millis(self.link.config().confirm_timeout_ms);
        let confirmed = tokio::time::timeout(timeout, async {
            channel
                .basic_publish(
                    exchange.into(),
                    short_string(routing_key),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    payload,
                    properties,
                )
                .await?
                .await
        })
        .await;
        match confirmed {
            Ok(Ok(Confirmation::Ack(None))) => Outcome::Confirmed,
            Ok(Ok(Confirmation::Ack(Some(returned)))) => Outcome::Returned(format!(
                "no queue is bound for this routing key (returned: {} {})",
                returned.reply_code, returned.reply_text
            )),
            Ok(Ok(Confirmation::Nack(_))) => {
                Outcome::Failed("nack", "the broker refused the message (nack)".into())
            }
            Ok(Ok(Confirmation::NotRequested)) => {
                Outcome::Failed("unconfirmed", "the channel is not in confirm mode".into())
            }
            Ok(Err(error)) => {
                // The channel is closed after a channel error (e.g. missing
                // exchange) or a lost connection: reopen on the next request.
                self.link.invalidate(&channel);
                Outcome::Failed("publish", format!("publish failed: {error}"))
            }
            Err(_) => Outcome::Failed(
                "timeout",
                format!(
                    "no confirm from the broker within {} ms",
                    timeout.as_millis()
                ),
            ),
        }
    }
}

#[gate_core::async_trait]
impl Sink for AmqpSink {
    async fn deliver(&self, envelope: &Envelope) -> Action {
        let config = self.link.config();
        let routing_key = envelope.notification.routing_key();
        // Sized once: growing by doubling copies a large body several times.
        let n = &envelope.notification;
        let mut payload =
            Vec::with_capacity(n.raw_content.get().len() + n.text.len() + n.link.len() + 256);
        if let Err(e) = serde_json::to_writer(&mut payload, n) {
            return Action::failed(
                KIND,
                &config.exchange,
                Some(routing_key),
                "encode",
                e.to_string(),
            );
        }
        let properties = properties_for(envelope);
        // A copy only for the raw stream, so the usual publish does not pay for one.
        let raw_properties = config.raw_exchange.as_ref().map(|_| properties.clone());
        let outcome = self
            .publish(&config.exchange, &routing_key, &payload, properties)
            .await;
        let mut action = match outcome {
            Outcome::Confirmed => Action::delivered(KIND, &config.exchange, Some(routing_key)),
            Outcome::Returned(message) => {
                let mut action = Action::skipped(KIND, &config.exchange, message);
                action.error = action.error.map(|mut e| {
                    e.kind = "unroutable".into();
                    e
                });
                action.routing_key = Some(routing_key);
                action
            }
            Outcome::Failed(kind, message) => {
                return Action::failed(KIND, &config.exchange, Some(routing_key), kind, message)
            }
        };
        if let (Some(raw_exchange), Some(properties)) = (&config.raw_exchange, raw_properties) {
            let raw_key = [
                envelope.door.as_str(),
                envelope.notification.group.as_str(),
                envelope.event.as_str(),
            ]
            .map(routing_segment)
            .join(".");
            let raw = envelope.notification.raw_content.get().as_bytes();
            // Unroutable raw copies are normal (nobody listens to the stream).
            if let Outcome::Failed(kind, message) =
                self.publish(raw_exchange, &raw_key, raw, properties).await
            {
                action = Action::failed(
                    KIND,
                    raw_exchange,
                    action.routing_key,
                    kind,
                    format!("raw stream: {message}"),
                );
            }
        }
        action
    }

    async fn ready(&self) -> Result<(), String> {
        if self.link.is_connected() {
            return Ok(());
        }
        self.link.channel().await.map(|_| ())
    }

    async fn close(&self) {
        self.link.close().await;
    }

    /// `deliver` frames its publish on the one channel before its first
    /// await, so concurrent deliveries reach the broker in the order they
    /// were started; confirms then come back in batches.
    fn redelivery_window(&self) -> usize {
        REDELIVERY_WINDOW
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let opened = self.link.connects();
        vec![
            ("connections_opened", opened),
            ("reconnects", opened.saturating_sub(1)),
        ]
    }
}
