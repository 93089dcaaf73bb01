//! One stream of messages to one exchange (the notifications, or the raw
//! payloads): publish, await the confirm, and keep what no queue wanted.

use std::sync::Arc;
use std::time::Duration;

use gate_core::{Action, ActionError, ActionStatus};
use lapin::message::BasicReturnMessage;
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::BasicProperties;

use crate::config::Unroutable;
use crate::connection::{Lease, Link};
use crate::ledger::Verdict;
use crate::topology::Safety;
use crate::unroutable::{Fate, UnroutableLog};

pub(crate) const KIND: &str = "amqp";

/// What the broker said about one message.
enum Outcome {
    Confirmed,
    /// Confirmed, routed by the exchange's alternate exchange to the
    /// catch-all queue (seen in the notice queue).
    KeptByAlternate,
    /// This very message came back: no queue is bound for it.
    Returned(Box<BasicReturnMessage>),
    Failed(&'static str, String),
}

/// How long a confirmed publish waits for the publishes before it (which
/// may hold its return) before it is settled anyway.
const SETTLE_GRACE: Duration = Duration::from_millis(500);

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
    /// queue included: put there by the alternate exchange or by the sink
    /// after a return, and then the action says so (error type
    /// `unroutable`, the catch-all named).
    pub(crate) async fn deliver(
        &self,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Action {
        let returned = match self
            .publish(&self.exchange, routing_key, payload, properties)
            .await
        {
            Outcome::Confirmed => {
                return Action::delivered(KIND, &self.exchange, Some(routing_key.to_owned()))
            }
            Outcome::KeptByAlternate => {
                self.unroutable().record(Fate::KeptByBroker);
                let queue = self.link.config().catch_all_queue();
                return self.kept(
                    routing_key,
                    format!(
                        "no queue is bound for routing key {routing_key:?} on exchange {:?}; kept in the catch-all queue {queue:?} (alternate exchange)",
                        self.exchange
                    ),
                );
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
        // The ledger pairs each return with its own publish: this one.
        let nobody = format!(
            "no queue is bound for routing key {routing_key:?} on exchange {:?} (returned: {} {})",
            self.exchange, returned.reply_code, returned.reply_text
        );
        if self.link.config().unroutable == Unroutable::Drop {
            self.unroutable().record(Fate::NotKept);
            let mut action = Action::skipped(KIND, &self.exchange, format!("{nobody}; dropped"));
            action.routing_key = Some(routing_key.to_owned());
            if let Some(error) = action.error.as_mut() {
                error.kind = "unroutable".into();
            }
            return action;
        }
        match self.keep(&returned).await {
            Ok(queue) => self.kept(
                routing_key,
                format!("{nobody}; kept in the catch-all queue {queue:?}"),
            ),
            Err(why) => self.failed(routing_key, "unroutable", format!("{nobody}; {why}")),
        }
    }

    /// Confirmed in the catch-all queue: delivered (it leaves the spool),
    /// and the action says where it is.
    fn kept(&self, routing_key: &str, message: String) -> Action {
        Action {
            action: KIND.to_owned(),
            target: self.exchange.clone(),
            routing_key: Some(routing_key.to_owned()),
            status: ActionStatus::Delivered,
            error: Some(ActionError::new("unroutable", message)),
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
                // (Only the main exchange is watched for notices.)
                Outcome::Confirmed | Outcome::KeptByAlternate => {
                    self.unroutable().record(Fate::Kept);
                    tracing::warn!(exchange = %delivery.exchange, routing_key = %delivery.routing_key, catch_all = %queue, "unroutable message kept in the catch-all queue");
                    return Ok(queue);
                }
                Outcome::Returned(_) => {
                    // The catch-all queue or its binding is gone: declare
                    // them again and retry.
                    self.link.read_catch_all().await;
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

    /// Publish `mandatory` on the connection's channel and wait for the
    /// broker's verdict on this very message (see `ledger`); to the main
    /// exchange, also whether its alternate exchange kept it (`notices`).
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
        let deadline = tokio::time::Instant::now() + timeout;
        // Watched before it is published: another confirm's emptying of the
        // notice queue may find it before this one's confirm arrives.
        let watched = lease
            .notices
            .as_ref()
            .filter(|_| exchange == self.exchange)
            .map(|notices| {
                let id = properties
                    .message_id()
                    .as_ref()
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default();
                (notices, notices.watch(exchange, &id))
            });
        let ticket = match lease
            .ledger
            .publish(exchange, routing_key, payload, properties)
        {
            Ok(ticket) => ticket,
            Err(error) => return self.channel_failed(&lease, &error),
        };
        let mut answer = ticket.verdict;
        let verdict = loop {
            let wait = deadline.min(tokio::time::Instant::now() + SETTLE_GRACE);
            match tokio::time::timeout_at(wait, &mut answer).await {
                Ok(Ok(verdict)) => break verdict,
                Ok(Err(_)) => return Outcome::Failed("publish", "the confirm was lost".into()),
                Err(_) if tokio::time::Instant::now() >= deadline => {
                    return self.timed_out(&lease, timeout)
                }
                // Confirmed but queued behind a publish whose confirm is
                // late: settle it with what is known.
                Err(_) => lease.ledger.settle_now(ticket.seq),
            }
        };
        match verdict {
            Verdict::Confirmed => match watched {
                None => Outcome::Confirmed,
                Some((notices, watched)) => {
                    match tokio::time::timeout_at(deadline, notices.kept(&watched)).await {
                        Ok(Ok(true)) => Outcome::KeptByAlternate,
                        Ok(Ok(false)) => Outcome::Confirmed,
                        Ok(Err(why)) => {
                            // Confirmed into some queue, which one is
                            // unknown; a new connection has a new notice
                            // queue.
                            tracing::warn!(exchange = %self.exchange, %why, "cannot tell whether the catch-all kept a message");
                            self.link.invalidate(&lease);
                            Outcome::Confirmed
                        }
                        Err(_) => {
                            tracing::warn!(exchange = %self.exchange, "the notice queue was not read in time: cannot tell whether the catch-all kept a message");
                            Outcome::Confirmed
                        }
                    }
                }
            },
            Verdict::Returned(returned) => Outcome::Returned(returned),
            Verdict::Nacked => {
                Outcome::Failed("nack", "the broker refused the message (nack)".into())
            }
            Verdict::Unconfirmed => {
                Outcome::Failed("unconfirmed", "the channel is not in confirm mode".into())
            }
            Verdict::Failed(error) => self.channel_failed(&lease, &error),
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
pub(crate) fn with_origin(properties: BasicProperties, exchange: &str) -> BasicProperties {
    let mut headers: FieldTable = properties.headers().clone().unwrap_or_default();
    headers.insert(
        "x-gate-exchange".into(),
        AMQPValue::LongString(LongString::from(exchange.as_bytes().to_vec())),
    );
    properties.with_headers(headers)
}
