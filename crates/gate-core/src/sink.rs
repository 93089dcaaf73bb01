use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};

use crate::{Action, Envelope, PluginError};

/// A destination for notifications (RabbitMQ, a file, an HTTP endpoint).
#[async_trait]
pub trait Sink: Send + Sync + fmt::Debug + 'static {
    /// Deliver one notification and say what happened. A sink never panics
    /// and never hides a failure: a failed action carries its reason.
    async fn deliver(&self, envelope: &Envelope) -> Action;

    /// Whether the sink can deliver now (`/ready`); the error says why not.
    async fn ready(&self) -> Result<(), String> {
        Ok(())
    }

    /// Flush and release resources before exit.
    async fn close(&self) {}

    /// How many deliveries of this sink's spooled backlog may be in flight
    /// at once. Redelivery starts them in arrival order and removes each
    /// only once confirmed; say more than 1 only if deliveries started
    /// concurrently reach the destination in the order they were started
    /// (e.g. publishes framed in call order on one AMQP channel). Default:
    /// one at a time.
    fn redelivery_window(&self) -> usize {
        1
    }

    /// Where this sink delivers (an exchange, a file, a URL's origin), as
    /// its own actions name it. The gateway writes some actions on the
    /// sink's behalf (a duplicate, a missed deadline) and names this target
    /// in them too; without one (the default), they name the sink.
    fn target(&self) -> Option<String> {
        None
    }

    /// Counters the sink keeps about itself (e.g. `reconnects`), exported
    /// by `/metrics` as `gate_sink_stat{sink, stat}`.
    fn stats(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// Conditions an operator should look at while the sink still delivers
    /// (e.g. messages no queue wanted, kept aside): `/ready` lists them and
    /// stays 200.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// Further streams this sink feeds with every notification, each with
    /// its own action, status and spool backlog (the AMQP raw stream), as
    /// `(suffix, sink)`. The gateway names each `<name>.<suffix>` and adds it
    /// to every door that lists this sink, so one failing stream is retried
    /// alone and never makes the other publish again.
    fn companions(&self) -> Vec<(&'static str, Arc<dyn Sink>)> {
        Vec::new()
    }
}

/// Builds a [`Sink`] from its configuration table. Implement it, then call
/// [`register_sink!`](crate::register_sink).
///
/// Checking the settings and starting the sink are two steps: `validate`
/// alone runs for `gate-server config check`, so it must do no network I/O
/// and create no file; `build` runs after it when serving, inside the Tokio
/// runtime, so a sink may connect or spawn its background tasks there.
pub trait SinkFactory: 'static {
    /// The `kind` value in `[sinks.<name>]`.
    const KIND: &'static str;
    /// Serialised for `/config`, so secrets must be [`Secret`](crate::Secret)s.
    type Config: DeserializeOwned + Serialize;

    /// Every check of the settings that needs no I/O; the error says what
    /// is wrong. The default accepts what deserialised. During `config
    /// check` a `vault:` secret is not read: it is
    /// [pending](crate::Secret::is_pending), and checks of its value must
    /// skip it. Secrets in files the sink reads itself are resolved with
    /// [`Secret::resolve`](crate::Secret::resolve), which answers `vault:`
    /// through the host ([`SecretResolver`](crate::SecretResolver)).
    fn validate(name: &str, config: &Self::Config) -> Result<(), PluginError> {
        let _ = (name, config);
        Ok(())
    }

    /// Start a sink from validated settings (inside the Tokio runtime).
    fn build(name: &str, config: Self::Config) -> Result<Arc<dyn Sink>, PluginError>;
}

/// A sink's settings once validated, not built: what `config check` and
/// `config show` work on.
#[derive(Debug, Clone)]
pub struct ValidatedSink {
    /// The name under `[sinks]`.
    pub name: String,
    /// The sink's kind.
    pub kind: &'static str,
    /// The settings as JSON with every secret shown as `"set"`.
    pub described: serde_json::Value,
}

/// A configured sink instance.
#[derive(Clone)]
pub struct BuiltSink {
    /// The name under `[sinks]`.
    pub name: String,
    /// The sink's kind.
    pub kind: &'static str,
    /// The settings as JSON with every secret shown as `"set"`.
    pub described: serde_json::Value,
    /// The running sink.
    pub sink: Arc<dyn Sink>,
}

impl BuiltSink {
    /// The target of the actions written for this sink: the sink's own
    /// ([`Sink::target`]), else its name.
    pub fn target(&self) -> String {
        self.sink.target().unwrap_or_else(|| self.name.clone())
    }
}

impl fmt::Debug for BuiltSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltSink")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("described", &self.described)
            .finish_non_exhaustive()
    }
}
