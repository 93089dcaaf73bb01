//! An out-of-tree sink: each notification is published to NATS JetStream on
//! `<subject_prefix>.<routing key>` and counts as delivered once the stream
//! acknowledged it. `Nats-Msg-Id` is the delivery id, so JetStream's own
//! duplicate window drops a copy the gateway may send after a lost ack.
//!
//! Linked into a gate-server binary by one line: `use gate_example_nats_sink as _;`.

mod config;
mod sink;

pub use config::NatsConfig;
pub use sink::NatsSink;

use std::sync::Arc;

use gate_core::{PluginError, Sink, SinkFactory};

/// Registered as sink kind `nats`.
#[derive(Debug)]
pub struct NatsSinkFactory;

impl SinkFactory for NatsSinkFactory {
    const KIND: &'static str = "nats";
    type Config = NatsConfig;

    /// No network here: `config check` runs this alone.
    fn validate(_name: &str, config: &NatsConfig) -> Result<(), PluginError> {
        Ok(config.check()?)
    }

    /// Connects lazily, on the first delivery: a broker that is down at
    /// start is a failed (spooled) delivery, not a refused start.
    fn build(_name: &str, config: NatsConfig) -> Result<Arc<dyn Sink>, PluginError> {
        config.check()?;
        Ok(Arc::new(NatsSink::new(config)))
    }
}

gate_core::register_sink!(NatsSinkFactory);
