//! One stream of messages to one exchange (the notifications, or the raw
//! payloads): publish, await the confirm, and keep what no queue wanted.

use std::sync::Arc;
use std::time::Duration;

use gate_core::{Action, ActionError, ActionStatus};
use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Confirmation};

use crate::config::Unroutable;
use crate::connection::Link;
use crate::message::short_string;
use crate::unroutable::{Fate, UnroutableLog};

pub(crate) const KIND: &str = "amqp";

/// What the broker said about one message.
enum Outcome {
    Confirmed,
    Returned(String),
    Failed(&'static str, String),
}

pub(crate) struct Stream {
    pub(crate) link: Arc<Link>,
    pub(crate) exchange: String,
    pub(crate) unroutable: UnroutableLog,
}

impl Stream {
    pub(crate) fn new(link: Arc<Link>, exchange: String) -> Self {
        Self {
            link,
            exchange,
            unroutable: UnroutableLog::default(),
        }
    }

    /// Publish and say what happened. The action is `delivered` only once
    /// the broker confirmed the message routed to a queue, or kept in the
    /// catch-all queue (then with error type `unroutable` saying so).
    pub(crate) async fn deliver(
        &self,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Action {
        let config = self.link.config();
        let keep = (config.unroutable == Unroutable::Keep).then(|| properties.clone());
        let returned = match self
            .publish(&self.exchange, routing_key, payload, properties)
            .await
        {
            Outcome::Confirmed => {
                return Action::delivered(KIND, &self.exchange, Some(routing_key.to_owned()))
            }
            Outcome::Failed(kind, message) => return self.failed(routing_key, kind, message),
            Outcome::Returned(returned) => returned,
        };
        let nobody = format!(
            "no queue is bound for routing key {routing_key:?} on exchange {:?} ({returned})",
            self.exchange
        );
        let Some(properties) = keep else {
            self.unroutable.record(Fate::NotKept);
            return if config.unroutable == Unroutable::Drop {
                let mut action =
                    Action::skipped(KIND, &self.exchange, format!("{nobody}; dropped"));
                action.routing_key = Some(routing_key.to_owned());
                if let Some(error) = action.error.as_mut() {
                    error.kind = "unroutable".into();
                }
                action
            } else {
                self.failed(routing_key, "unroutable", nobody)
            };
        };
        let catch_all = config.catch_all_exchange();
        let queue = config.catch_all_queue();
        let properties = with_origin(properties, &self.exchange);
        match self
            .publish(&catch_all, routing_key, payload, properties)
            .await
        {
            Outcome::Confirmed => {
                self.unroutable.record(Fate::Kept);
                tracing::warn!(exchange = %self.exchange, %routing_key, catch_all = %queue, "unroutable message kept in the catch-all queue");
                Action {
                    action: KIND.to_owned(),
                    target: self.exchange.clone(),
                    routing_key: Some(routing_key.to_owned()),
                    status: ActionStatus::Delivered,
                    error: Some(ActionError {
                        kind: "unroutable".into(),
                        message: format!("{nobody}; kept in the catch-all queue {queue:?}"),
                    }),
                }
            }
            Outcome::Returned(_) => {
                self.unroutable.record(Fate::Refused);
                // The catch-all queue or its binding is gone: declare them
                // again for the next message (idempotent, and the channel
                // others publish on stays open).
                self.link.redeclare().await;
                self.failed(
                    routing_key,
                    "unroutable",
                    format!("{nobody}; the catch-all queue {queue:?} is not bound to {catch_all:?} either"),
                )
            }
            Outcome::Failed(kind, message) => {
                self.unroutable.record(Fate::Refused);
                let why = if kind == "nack" {
                    format!(
                        "{nobody}; the catch-all queue {queue:?} refused it (full at {} messages?)",
                        config.catch_all_max_length
                    )
                } else {
                    format!("{nobody}; the catch-all queue {queue:?} did not take it: {message}")
                };
                self.failed(routing_key, "unroutable", why)
            }
        }
    }

    pub(crate) fn warnings(&self) -> Vec<String> {
        let config = self.link.config();
        let threshold = config.unroutable_warn_per_minute;
        let recent = self.unroutable.last_minute();
        if threshold == 0 || recent < threshold {
            return Vec::new();
        }
        let fate = match config.unroutable {
            Unroutable::Keep => format!(
                "kept in the catch-all queue {:?} (bind a queue for them, then replay them from there)",
                config.catch_all_queue()
            ),
            Unroutable::Fail => "spooled until a queue is bound for them".into(),
            Unroutable::Drop => "dropped (unroutable = \"drop\")".into(),
        };
        vec![format!(
            "{recent} messages to exchange {:?} in the last minute had no queue bound: {fate}",
            self.exchange
        )]
    }

    fn failed(&self, routing_key: &str, kind: &str, message: String) -> Action {
        Action::failed(
            KIND,
            &self.exchange,
            Some(routing_key.to_owned()),
            kind,
            message,
        )
    }

    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Outcome {
        let lease = match self.link.channel().await {
            Ok(lease) => lease,
            Err(reason) => return Outcome::Failed("unavailable", reason),
        };
        let timeout = Duration::from_millis(self.link.config().confirm_timeout_ms);
        let confirmed = tokio::time::timeout(timeout, async {
            lease
                .channel
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
                "returned: {} {}",
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
                self.link.invalidate(&lease);
                Outcome::Failed("publish", format!("publish failed: {error}"))
            }
            Err(_) => {
                // A broker that stops confirming is as good as gone: with
                // several addresses the next request tries another one.
                if self.link.has_alternatives() {
                    self.link.invalidate(&lease);
                }
                Outcome::Failed(
                    "timeout",
                    format!(
                        "no confirm from the broker within {} ms",
                        timeout.as_millis()
                    ),
                )
            }
        }
    }
}

/// The same message, with the exchange it was meant for in a header, so
/// that an operator replaying the catch-all knows where it goes.
fn with_origin(properties: BasicProperties, exchange: &str) -> BasicProperties {
    let mut headers: FieldTable = properties.headers().clone().unwrap_or_default();
    headers.insert(
        "x-gate-exchange".into(),
        AMQPValue::LongString(LongString::from(exchange.as_bytes().to_vec())),
    );
    properties.with_headers(headers)
}
