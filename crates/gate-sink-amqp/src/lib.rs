//! RabbitMQ (AMQP 0-9-1) sink: publishes each notification, persistent and
//! confirmed, to a durable topic exchange.
//!
//! One long-lived connection and channel are shared by every request; each
//! publish gets the broker's verdict on itself (confirmed, returned,
//! refused), so concurrent requests pipeline their confirms on the channel
//! instead of waiting for one another. A message no queue is bound for is
//! kept in a bounded catch-all queue, and its action says so. Several broker
//! addresses (a cluster) are failed over; TLS may use a client certificate.

mod address;
mod config;
mod connection;
mod ledger;
mod message;
mod notices;
mod sink;
mod stream;
mod tls;
mod topology;
mod unroutable;

pub use config::{AmqpConfig, AuthMechanism, QueueType, Unroutable};
pub use message::{properties_for, short_string};
pub use sink::{AmqpSink, AmqpSinkFactory};

gate_core::register_sink!(AmqpSinkFactory);
