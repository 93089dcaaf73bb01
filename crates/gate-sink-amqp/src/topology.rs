//! What the sink declares on each new connection: its exchanges and the
//! catch-all for messages no queue is bound for (a fanout exchange, the main
//! exchange's alternate exchange, and a bounded durable queue bound to it).

use lapin::options::{
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, Connection, ExchangeKind};

use crate::config::Unroutable;
use crate::AmqpConfig;

/// How the main exchange routes what no queue wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Declared with `alternate-exchange` = the catch-all exchange: the
    /// broker itself keeps every unroutable message, atomically.
    AlternateExchange,
    /// The exchange existed without that argument (declared elsewhere, e.g.
    /// by the original service): unroutable messages come back to the sink
    /// (`mandatory`), which publishes them to the catch-all itself.
    Returns,
    /// Nothing declared (`declare_exchange = false`) or `unroutable` is not
    /// `keep`.
    Unmanaged,
}

/// Declare everything the settings ask for: the catch-all first, then the
/// exchanges. Declarations are idempotent, so a reconnect also restores what
/// someone deleted (an exchange, the catch-all queue). When the main
/// exchange exists without the alternate exchange, the channel the broker
/// closed for it is replaced by a new one and the exchange is used as it is.
pub(crate) async fn declare(
    connection: &Connection,
    mut channel: Channel,
    config: &AmqpConfig,
) -> Result<(Channel, Safety, Option<u32>), String> {
    if !config.declare_exchange {
        return Ok((channel, Safety::Unmanaged, None));
    }
    let keep = config.unroutable == Unroutable::Keep;
    let depth = if keep {
        Some(declare_catch_all(&channel, config).await?)
    } else {
        None
    };
    if let Some(raw) = &config.raw_exchange {
        declare_exchange(&channel, raw, ExchangeKind::Topic, FieldTable::default()).await?;
    }
    if !keep || !config.alternate_exchange {
        declare_exchange(
            &channel,
            &config.exchange,
            ExchangeKind::Topic,
            FieldTable::default(),
        )
        .await?;
        let safety = if keep {
            Safety::Returns
        } else {
            Safety::Unmanaged
        };
        return Ok((channel, safety, depth));
    }
    let mut arguments = FieldTable::default();
    arguments.insert(
        "alternate-exchange".into(),
        AMQPValue::LongString(LongString::from(config.catch_all_exchange().into_bytes())),
    );
    match declare_exchange(&channel, &config.exchange, ExchangeKind::Topic, arguments).await {
        Ok(()) => Ok((channel, Safety::AlternateExchange, depth)),
        Err(reason) if reason.contains("PRECONDITION_FAILED") => {
            tracing::warn!(exchange = %config.exchange, %reason, "the exchange exists without the alternate exchange; unroutable messages are caught by returns");
            channel = connection
                .create_channel()
                .await
                .map_err(|e| e.to_string())?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(|e| e.to_string())?;
            Ok((channel, Safety::Returns, depth))
        }
        Err(reason) => Err(reason),
    }
}

/// The catch-all queue, declared again (idempotent): how many messages wait
/// in it.
pub(crate) async fn declare_catch_all(
    channel: &Channel,
    config: &AmqpConfig,
) -> Result<u32, String> {
    let exchange = config.catch_all_exchange();
    let queue = config.catch_all_queue();
    declare_exchange(
        channel,
        &exchange,
        ExchangeKind::Fanout,
        FieldTable::default(),
    )
    .await?;
    let declared = channel
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
    Ok(declared.message_count())
}

async fn declare_exchange(
    channel: &Channel,
    exchange: &str,
    kind: ExchangeKind,
    arguments: FieldTable,
) -> Result<(), String> {
    channel
        .exchange_declare(
            exchange.into(),
            kind,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            arguments,
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
