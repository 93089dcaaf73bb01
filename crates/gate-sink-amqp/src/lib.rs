//! RabbitMQ (AMQP 0-9-1) sink: publishes each notification, persistent and
//! confirmed, to a durable topic exchange.
//!
//! One long-lived connection and channel are shared by every request; each
//! publish awaits its own confirm, so concurrent requests pipeline their
//! confirms on the channel instead of waiting for one another.

mod config;
mod connection;
mod message;
mod sink;

pub use config::AmqpConfig;
pub use message::{properties_for, short_string};
pub use sink::{AmqpSink, AmqpSinkFactory};

gate_core::register_sink!(AmqpSinkFactory);
