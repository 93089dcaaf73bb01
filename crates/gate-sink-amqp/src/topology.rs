//! What the sink declares on each new connection: its exchanges and the
//! catch-all for messages no queue is bound for.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

use crate::config::Unroutable;
use crate::AmqpConfig;

/// Declare everything the settings ask for. Declarations are idempotent, so
/// a reconnect also restores what someone deleted (an exchange, the
/// catch-all queue). A declaration the broker refuses (an existing object
/// with other settings) is an error naming the object.
pub(crate) async fn declare(channel: &Channel, config: &AmqpConfig) -> Result<(), String> {
    if !config.declare_exchange {
        return Ok(());
    }
    let exchanges = std::iter::once(&config.exchange).chain(config.raw_exchange.as_ref());
    for exchange in exchanges {
        declare_exchange(channel, exchange, ExchangeKind::Topic).await?;
    }
    if config.unroutable == Unroutable::Keep {
        let exchange = config.catch_all_exchange();
        let queue = config.catch_all_queue();
        declare_exchange(channel, &exchange, ExchangeKind::Fanout).await?;
        channel
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                catch_all_arguments(config),
            )
            .await
            .map_err(|e| format!("cannot declare the catch-all queue {queue:?}: {e}"))?;
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("cannot bind the catch-all queue {queue:?}: {e}"))?;
    }
    Ok(())
}

async fn declare_exchange(
    channel: &Channel,
    exchange: &str,
    kind: ExchangeKind,
) -> Result<(), String> {
    channel
        .exchange_declare(
            exchange.into(),
            kind,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(|e| format!("cannot declare the exchange {exchange:?}: {e}"))
}

/// Bounded, and full means refused (the publisher gets a nack and spools
/// the event) rather than the oldest kept message dropped in silence.
fn catch_all_arguments(config: &AmqpConfig) -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-max-length".into(),
        AMQPValue::LongLongInt(i64::try_from(config.catch_all_max_length).unwrap_or(i64::MAX)),
    );
    arguments.insert(
        "x-overflow".into(),
        AMQPValue::LongString(LongString::from("reject-publish")),
    );
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString(LongString::from(config.catch_all_queue_type.as_str())),
    );
    arguments
}
