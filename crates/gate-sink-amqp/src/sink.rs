use std::sync::{Arc, Weak};
use std::time::Duration;

use gate_core::{routing_segment, Action, Envelope, PluginError, Sink, SinkFactory};

use crate::address::Address;
use crate::connection::Link;
use crate::message::properties_for;
use crate::stream::{Stream, KIND};
use crate::tls::TlsMaterial;
use crate::{AmqpConfig, Unroutable};

/// Spooled events published before waiting for their confirms.
const REDELIVERY_WINDOW: usize = 64;

/// Registered as sink kind `amqp`.
#[derive(Debug)]
pub struct AmqpSinkFactory;

impl SinkFactory for AmqpSinkFactory {
    const KIND: &'static str = KIND;
    type Config = AmqpConfig;

    /// The settings, the broker URLs and the TLS files (read, never
    /// shown); no network.
    fn validate(_name: &str, config: &AmqpConfig) -> Result<(), PluginError> {
        Ok(prepare(config).map(|_| ())?)
    }

    /// Called after `validate`.
    fn build(_name: &str, config: AmqpConfig) -> Result<Arc<dyn Sink>, PluginError> {
        let sink = Arc::new(AmqpSink::new(config)?);
        // Connect now so the first request does not pay for it; failure is
        // fine here: the sink reconnects on demand.
        let eager = Arc::clone(&sink);
        tokio::spawn(async move {
            let _ = eager.main.link.channel().await;
            if let Some(raw) = &eager.raw {
                let _ = raw.stream.link.channel().await;
            }
        });
        if sink.main.link.config().unroutable == Unroutable::Keep {
            tokio::spawn(watch_catch_all(Arc::downgrade(&sink)));
        }
        Ok(sink)
    }
}

/// Check the settings, parse the broker addresses and read the TLS files;
/// every problem at once.
fn prepare(config: &AmqpConfig) -> Result<(Vec<Address>, TlsMaterial), String> {
    let mut problems = config.problems();
    let addresses: Vec<Address> = config
        .addresses()
        .into_iter()
        .enumerate()
        // A pending URL (not read by `config check`) has no form to check.
        .filter(|(_, url)| !url.is_pending())
        .filter_map(|(i, url)| {
            let position = match &config.url {
                Some(_) => "url".to_owned(),
                None => format!("urls[{i}]"),
            };
            Address::parse(url, &position, config.auth_mechanism)
                .map_err(|e| problems.push(e))
                .ok()
        })
        .collect();
    let tls = TlsMaterial::load(config).unwrap_or_else(|e| {
        problems.push(e);
        TlsMaterial::default()
    });
    if problems.is_empty() {
        Ok((addresses, tls))
    } else {
        Err(problems.join("; "))
    }
}

/// How often the catch-all queue's depth is read.
const CATCH_ALL_READING: Duration = Duration::from_secs(2);

/// Read the catch-all queue's depth while the sink lives: what the broker
/// routed there through the alternate exchange is counted from its growth.
async fn watch_catch_all(sink: Weak<AmqpSink>) {
    loop {
        let Some(alive) = sink.upgrade() else {
            return;
        };
        alive.main.link.read_catch_all().await;
        drop(alive);
        tokio::time::sleep(CATCH_ALL_READING).await;
    }
}

/// Publishes notifications to a topic exchange with publisher confirms; with
/// `raw_exchange`, its companion stream `raw` publishes the payloads.
pub struct AmqpSink {
    main: Stream,
    raw: Option<Arc<RawStream>>,
}

impl std::fmt::Debug for AmqpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpSink")
            .field("exchange", &self.main.exchange)
            .finish_non_exhaustive()
    }
}

impl AmqpSink {
    /// Check the settings and read the TLS files; no network yet. Every
    /// problem is reported at once.
    pub fn new(config: AmqpConfig) -> Result<Self, String> {
        let (addresses, tls) = prepare(&config)?;
        let raw_exchange = config.raw_exchange.clone();
        let exchange = config.exchange.clone();
        // The raw stream has a connection of its own: a channel error of
        // one stream (its exchange deleted) never fails the other's
        // in-flight publishes.
        let raw = raw_exchange.map(|raw| {
            let link = Link::new(config.clone(), addresses.clone(), tls.clone(), false);
            Arc::new(RawStream {
                stream: Stream::new(Arc::new(link), raw),
            })
        });
        let link = Arc::new(Link::new(config, addresses, tls, true));
        Ok(Self {
            main: Stream::new(link, exchange),
            raw,
        })
    }

    /// Connections opened so far (1 after start; more after reconnects).
    pub fn connections_opened(&self) -> u64 {
        self.main.link.connects()
    }
}

#[gate_core::async_trait]
impl Sink for AmqpSink {
    fn target(&self) -> Option<String> {
        Some(self.main.exchange.clone())
    }

    async fn deliver(&self, envelope: &Envelope) -> Action {
        let routing_key = envelope.notification.routing_key();
        // Sized once: growing by doubling copies a large body several times.
        let n = &envelope.notification;
        let mut payload =
            Vec::with_capacity(n.raw_content.get().len() + n.text.len() + n.link.len() + 256);
        if let Err(e) = serde_json::to_writer(&mut payload, n) {
            return Action::failed(
                KIND,
                &self.main.exchange,
                Some(routing_key),
                "encode",
                e.to_string(),
            );
        }
        self.main
            .deliver(&routing_key, &payload, properties_for(envelope))
            .await
    }

    async fn ready(&self) -> Result<(), String> {
        if self.main.link.is_connected() {
            return Ok(());
        }
        self.main.link.channel().await.map(|_| ())
    }

    async fn close(&self) {
        self.main.link.close().await;
    }

    /// `deliver` frames its publish on the one channel before its first
    /// await, so concurrent deliveries reach the broker in the order they
    /// were started; confirms then come back in batches.
    fn redelivery_window(&self) -> usize {
        REDELIVERY_WINDOW
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let link = &self.main.link;
        let opened = link.connects();
        let mut stats = vec![
            ("connections_opened", opened),
            ("reconnects", opened.saturating_sub(1)),
            ("failovers", link.failovers()),
        ];
        stats.extend(self.main.unroutable().stats());
        if let Some(depth) = self.main.unroutable().depth() {
            stats.push(("catch_all_depth", depth));
        }
        stats
    }

    fn warnings(&self) -> Vec<String> {
        self.main.warnings()
    }

    fn companions(&self) -> Vec<(&'static str, Arc<dyn Sink>)> {
        self.raw
            .iter()
            .map(|raw| ("raw", Arc::clone(raw) as Arc<dyn Sink>))
            .collect()
    }
}

/// The raw payloads, key `<door>.<group>.<event>`: a sink of its own (the
/// gateway's `<name>.raw`), so its failure is spooled and retried alone and
/// never publishes the notification again.
pub(crate) struct RawStream {
    stream: Stream,
}

impl std::fmt::Debug for RawStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawStream")
            .field("exchange", &self.stream.exchange)
            .finish_non_exhaustive()
    }
}

#[gate_core::async_trait]
impl Sink for RawStream {
    fn target(&self) -> Option<String> {
        Some(self.stream.exchange.clone())
    }

    async fn deliver(&self, envelope: &Envelope) -> Action {
        let raw_key = [
            envelope.door.as_str(),
            envelope.notification.group.as_str(),
            envelope.event.as_str(),
        ]
        .map(routing_segment)
        .join(".");
        let raw = envelope.notification.raw_content.get().as_bytes();
        self.stream
            .deliver(&raw_key, raw, properties_for(envelope))
            .await
    }

    async fn ready(&self) -> Result<(), String> {
        if self.stream.link.is_connected() {
            return Ok(());
        }
        self.stream.link.channel().await.map(|_| ())
    }

    async fn close(&self) {
        self.stream.link.close().await;
    }

    fn stats(&self) -> Vec<(&'static str, u64)> {
        let opened = self.stream.link.connects();
        let mut stats = vec![
            ("connections_opened", opened),
            ("reconnects", opened.saturating_sub(1)),
            ("failovers", self.stream.link.failovers()),
        ];
        stats.extend(self.stream.unroutable().stats());
        stats
    }

    fn warnings(&self) -> Vec<String> {
        self.stream.warnings()
    }
}
