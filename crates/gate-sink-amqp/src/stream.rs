//! One stream of messages to one exchange (the notifications, or the raw
//! payloads): publish, await the confirm, and keep what no queue wanted.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use gate_core::{Action, ActionError, ActionStatus};
use lapin::message::BasicReturnMessage;
use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Confirmation};

use crate::config::Unroutable;
use crate::connection::{Lease, Link};
use crate::message::short_string;
use crate::topology::Safety;
use crate::unroutable::{Fate, UnroutableLog};

pub(crate) const KIND: &str = "amqp";

/// What the broker said about one message.
enum Outcome {
    Confirmed,
    /// Confirmed with a message returned as unroutable: this one, or, since
    /// lapin pairs returns with confirms by arrival, another one in flight.
    Returned(Box<BasicReturnMessage>),
    Failed(&'static str, String),
}

#[derive(Clone)]
pub(crate) struct Stream {
    pub(crate) link: Arc<Link>,
    pub(crate) exchange: String,
}

impl Stream {
    pub(crate) fn new(link: Arc<Link>, exchange: String) -> Self {
        Self { link, exchange }
    }

    pub(crate) fn unroutable(&self) -> &UnroutableLog {
        self.link.unroutable()
    }

    /// Publish and say what happened. The action is `delivered` only once
    /// the broker confirmed the message routed to a queue, the catch-all
    /// queue included (through the alternate exchange, or published there
    /// by the sink after a return, then with error type `unroutable`).
    pub(crate) async fn deliver(
        &self,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Action {
        let message_id = properties.message_id().clone();
        let returned = match self
            .publish(&self.exchange, routing_key, payload, properties)
            .await
        {
            Outcome::Confirmed => {
                return Action::delivered(KIND, &self.exchange, Some(routing_key.to_owned()))
            }
            Outcome::Failed("nack", message)
                if self.link.config().unroutable == Unroutable::Keep =>
            {
                let config = self.link.config();
                return self.failed(
                    routing_key,
                    "nack",
                    format!(
                        "{message}: a queue it was routed to refused it, e.g. the catch-all queue {:?} when full ({} messages)",
                        config.catch_all_queue(),
                        config.catch_all_max_length
                    ),
                );
            }
            Outcome::Failed(kind, message) => return self.failed(routing_key, kind, message),
            Outcome::Returned(returned) => returned,
        };
        // Which message came back: lapin pairs returns with confirms by
        // arrival, so it may be another request's.
        let own = returned.delivery.routing_key.as_str() == short_string(routing_key).as_str()
            && *returned.delivery.properties.message_id() == message_id
            && returned.delivery.data == payload;
        let nobody = format!(
            "no queue is bound for routing key {routing_key:?} on exchange {:?} (returned: {} {})",
            self.exchange, returned.reply_code, returned.reply_text
        );
        if self.link.config().unroutable == Unroutable::Drop {
            self.unroutable().record(Fate::NotKept);
            if !own {
                return Action::delivered(KIND, &self.exchange, Some(routing_key.to_owned()));
            }
            let mut action = Action::skipped(KIND, &self.exchange, format!("{nobody}; dropped"));
            action.routing_key = Some(routing_key.to_owned());
            if let Some(error) = action.error.as_mut() {
                error.kind = "unroutable".into();
            }
            return action;
        }
        // Whichever message came back is the one kept: its own bytes go to
        // the catch-all, so a return paired with the wrong confirm loses
        // nothing.
        match self.keep(&returned).await {
            Ok(queue) if own => Action {
                action: KIND.to_owned(),
                target: self.exchange.clone(),
                routing_key: Some(routing_key.to_owned()),
                status: ActionStatus::Delivered,
                error: Some(ActionError::new(
                    "unroutable",
                    format!("{nobody}; kept in the catch-all queue {queue:?}"),
                )),
            },
            Ok(_) => Action::delivered(KIND, &self.exchange, Some(routing_key.to_owned())),
            Err(why) if own => self.failed(routing_key, "unroutable", format!("{nobody}; {why}")),
            Err(why) => {
                // Another request's message, already answered: it stays
                // only in this log line. Rare: it takes a return paired
                // with the wrong confirm while the catch-all is gone.
                tracing::error!(exchange = %self.exchange, routing_key = %returned.delivery.routing_key, message_id = ?returned.delivery.properties.message_id(), %why, "an unroutable message could not be kept");
                Action::delivered(KIND, &self.exchange, Some(routing_key.to_owned()))
            }
        }
    }

    /// Publish a returned message to the catch-all exchange; the queue's
    /// name when confirmed. A catch-all that returns it (its queue or
    /// binding deleted) is declared again and the message published again.
    async fn keep(&self, returned: &BasicReturnMessage) -> Result<String, String> {
        let config = self.link.config();
        let catch_all = config.catch_all_exchange();
        let queue = config.catch_all_queue();
        let delivery = &returned.delivery;
        // Kept from the catch-all itself: it already says where it was going.
        let properties = if delivery.exchange.as_str() == catch_all {
            delivery.properties.clone()
        } else {
            with_origin(delivery.properties.clone(), delivery.exchange.as_str())
        };
        let mut why = String::new();
        for _ in 0..3 {
            let outcome = self
                .publish(
                    &catch_all,
                    delivery.routing_key.as_str(),
                    &delivery.data,
                    properties.clone(),
                )
                .await;
            why = match outcome {
                Outcome::Confirmed => {
                    self.unroutable().record(Fate::Kept);
                    tracing::warn!(exchange = %delivery.exchange, routing_key = %delivery.routing_key, catch_all = %queue, "unroutable message kept in the catch-all queue");
                    return Ok(queue);
                }
                Outcome::Returned(again) => {
                    // The catch-all queue or its binding is gone: declare
                    // them again. The message that came back may be another
                    // keeper's (then this one was kept): keep that one too.
                    self.link.read_catch_all().await;
                    if again.delivery.data != delivery.data {
                        self.unroutable().record(Fate::Kept);
                        Box::pin(self.keep_orphan(*again)).await;
                        return Ok(queue);
                    }
                    format!("the catch-all queue {queue:?} is not bound to {catch_all:?}")
                }
                Outcome::Failed("nack", _) => format!(
                    "the catch-all queue {queue:?} refused it (full at {} messages?)",
                    config.catch_all_max_length
                ),
                Outcome::Failed(_, message) => {
                    format!("the catch-all queue {queue:?} did not take it: {message}")
                }
            };
            if !why.contains("is not bound") {
                break;
            }
        }
        self.unroutable().record(Fate::Refused);
        Err(why)
    }

    pub(crate) fn warnings(&self) -> Vec<String> {
        let config = self.link.config();
        let mut warnings = Vec::new();
        if config.unroutable == Unroutable::Keep
            && config.alternate_exchange
            && self.link.safety() == Some(Safety::Returns)
        {
            warnings.push(format!(
                "exchange {:?} exists without the alternate exchange {:?} (declared elsewhere): unroutable messages come back to the gateway, which keeps them itself; for the broker to keep them, add a policy: rabbitmqctl set_policy gate-unroutable '^{}$' '{{\"alternate-exchange\":\"{}\"}}' --apply-to exchanges",
                self.exchange,
                config.catch_all_exchange(),
                self.exchange.replace('.', "\\."),
                config.catch_all_exchange()
            ));
        }
        let threshold = config.unroutable_warn_per_minute;
        let recent = self.unroutable().last_minute();
        if threshold == 0 || recent < threshold {
            return warnings;
        }
        let fate = match config.unroutable {
            Unroutable::Keep => format!(
                "kept in the catch-all queue {:?} ({} waiting; bind a queue for them, then replay them from there)",
                config.catch_all_queue(),
                self.unroutable().depth().map_or("?".to_owned(), |d| d.to_string())
            ),
            Unroutable::Drop => "dropped (unroutable = \"drop\")".into(),
        };
        warnings.push(format!(
            "{recent} messages to exchange {:?} in the last minute had no queue bound: {fate}",
            self.exchange
        ));
        warnings
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

    /// Boxed and declared `Send`: keeping an orphan return publishes again,
    /// a cycle the compiler cannot infer `Send` through.
    fn publish<'a>(
        &'a self,
        exchange: &'a str,
        routing_key: &'a str,
        payload: &'a [u8],
        properties: BasicProperties,
    ) -> Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> {
        Box::pin(self.publish_once(exchange, routing_key, payload, properties))
    }

    async fn publish_once(
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
        let deadline = tokio::time::Instant::now() + timeout;
        let published = tokio::time::timeout_at(
            deadline,
            lease.channel.basic_publish(
                exchange.into(),
                short_string(routing_key),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                payload,
                properties,
            ),
        )
        .await;
        let confirm = match published {
            Ok(Ok(confirm)) => confirm,
            Ok(Err(error)) => return self.channel_failed(&lease, &error),
            Err(_) => return self.timed_out(&lease, timeout),
        };
        // The confirm is awaited to its end by a task of its own: lapin may
        // pair another message's return with it, and that message must be
        // kept even when this request gave up waiting (timeout, deadline).
        let (answer, answered) = tokio::sync::oneshot::channel();
        let keeper = self.clone();
        tokio::spawn(async move {
            let confirmation = confirm.await;
            if let Err(Ok(Confirmation::Ack(Some(returned)))) = answer.send(confirmation) {
                keeper.keep_orphan(returned).await;
            }
        });
        match tokio::time::timeout_at(deadline, answered).await {
            Ok(Ok(Ok(Confirmation::Ack(None)))) => Outcome::Confirmed,
            Ok(Ok(Ok(Confirmation::Ack(Some(returned)))))
                if returned.delivery.exchange.as_str() == exchange =>
            {
                Outcome::Returned(Box::new(returned))
            }
            Ok(Ok(Ok(Confirmation::Ack(Some(foreign))))) => {
                // Returned from another exchange: another message's return
                // paired with this confirm (this one was routed). Keep it.
                self.keep_orphan(foreign).await;
                Outcome::Confirmed
            }
            Ok(Ok(Ok(Confirmation::Nack(_)))) => {
                Outcome::Failed("nack", "the broker refused the message (nack)".into())
            }
            Ok(Ok(Ok(Confirmation::NotRequested))) => {
                Outcome::Failed("unconfirmed", "the channel is not in confirm mode".into())
            }
            Ok(Ok(Err(error))) => self.channel_failed(&lease, &error),
            Ok(Err(_)) => Outcome::Failed("publish", "the confirm was lost".into()),
            Err(_) => self.timed_out(&lease, timeout),
        }
    }

    /// A returned message that is not this request's (its request stopped
    /// waiting, or lapin paired its return with another confirm): keep it
    /// all the same.
    async fn keep_orphan(&self, returned: BasicReturnMessage) {
        if self.link.config().unroutable == Unroutable::Drop {
            self.unroutable().record(Fate::NotKept);
            return;
        }
        if let Err(why) = self.keep(&returned).await {
            tracing::error!(exchange = %self.exchange, routing_key = %returned.delivery.routing_key, message_id = ?returned.delivery.properties.message_id(), %why, "an unroutable message could not be kept");
        }
    }

    /// The channel is closed after a channel error (e.g. missing exchange)
    /// or a lost connection: reopen on the next request.
    fn channel_failed(&self, lease: &Lease, error: &lapin::Error) -> Outcome {
        self.link.invalidate(lease);
        Outcome::Failed("publish", format!("publish failed: {error}"))
    }

    fn timed_out(&self, lease: &Lease, timeout: Duration) -> Outcome {
        // A broker that stops confirming is as good as gone: with several
        // addresses the next request tries another one.
        if self.link.has_alternatives() {
            self.link.invalidate(lease);
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
