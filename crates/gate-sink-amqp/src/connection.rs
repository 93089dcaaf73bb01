use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lapin::options::{ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};

use crate::AmqpConfig;

/// The one connection and confirm-mode channel of a sink, reopened on demand
/// after a failure. Requests share the open channel; when it is gone, one
/// request reconnects while the others wait for it, and after a failed
/// attempt requests fail fast until `reconnect_interval` has passed, so an
/// outage does not turn every request into a connection attempt.
pub(crate) struct Link {
    config: AmqpConfig,
    open: Mutex<Option<Open>>,
    connecting: tokio::sync::Mutex<()>,
    last_failure: Mutex<Option<(Instant, String)>>,
    connects: AtomicU64,
}

struct Open {
    connection: Connection,
    channel: Channel,
}

impl Link {
    pub(crate) fn new(config: AmqpConfig) -> Self {
        Self {
            config,
            open: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            last_failure: Mutex::new(None),
            connects: AtomicU64::new(0),
        }
    }

    pub(crate) fn config(&self) -> &AmqpConfig {
        &self.config
    }

    /// How many connections were opened, the first one included.
    pub(crate) fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }

    /// The open channel, connecting first if needed.
    pub(crate) async fn channel(&self) -> Result<Channel, String> {
        if let Some(channel) = self.usable() {
            return Ok(channel);
        }
        let _turn = self.connecting.lock().await;
        if let Some(channel) = self.usable() {
            return Ok(channel);
        }
        if let Some(reason) = self.recent_failure() {
            return Err(reason);
        }
        let timeout = Duration::from_millis(self.config.connect_timeout_ms);
        let attempt = match tokio::time::timeout(timeout, self.connect()).await {
            Ok(Ok(open)) => Ok(open),
            Ok(Err(e)) => Err(format!("cannot connect to the broker: {e}")),
            Err(_) => Err(format!(
                "cannot connect to the broker: no answer within {} ms",
                self.config.connect_timeout_ms
            )),
        };
        match attempt {
            Ok(open) => {
                let channel = open.channel.clone();
                if let Some(old) = lock(&self.open).replace(open) {
                    close_in_background(old);
                }
                *lock(&self.last_failure) = None;
                self.connects.fetch_add(1, Ordering::Relaxed);
                tracing::info!(exchange = %self.config.exchange, "connected to the broker");
                Ok(channel)
            }
            Err(reason) => {
                tracing::warn!(exchange = %self.config.exchange, %reason, "broker connection failed");
                *lock(&self.last_failure) = Some((Instant::now(), reason.clone()));
                Err(reason)
            }
        }
    }

    /// Forget a channel that failed, so the next request reconnects.
    pub(crate) fn invalidate(&self, failed: &Channel) {
        let mut open = lock(&self.open);
        if open.as_ref().is_some_and(|o| o.channel.id() == failed.id()) {
            if let Some(old) = open.take() {
                close_in_background(old);
            }
        }
    }

    /// Connected now, without trying to connect.
    pub(crate) fn is_connected(&self) -> bool {
        self.usable().is_some()
    }

    pub(crate) async fn close(&self) {
        let open = lock(&self.open).take();
        if let Some(open) = open {
            let _ = open
                .connection
                .close(200, "gate-server shutting down".into())
                .await;
        }
    }

    fn usable(&self) -> Option<Channel> {
        let open = lock(&self.open);
        let open = open.as_ref()?;
        (open.connection.status().connected() && open.channel.status().connected())
            .then(|| open.channel.clone())
    }

    fn recent_failure(&self) -> Option<String> {
        let failure = lock(&self.last_failure);
        let (at, reason) = failure.as_ref()?;
        (at.elapsed() < Duration::from_millis(self.config.reconnect_interval_ms))
            .then(|| format!("broker unavailable: {reason}"))
    }

    async fn connect(&self) -> lapin::Result<Open> {
        let url = String::from_utf8_lossy(self.config.url.expose()).into_owned();
        let properties =
            ConnectionProperties::default().with_connection_name("notifications-center".into());
        let connection = Connection::connect(&url, properties).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        if self.config.declare_exchange {
            let exchanges =
                std::iter::once(&self.config.exchange).chain(self.config.raw_exchange.as_ref());
            for exchange in exchanges {
                channel
                    .exchange_declare(
                        exchange.as_str().into(),
                        ExchangeKind::Topic,
                        ExchangeDeclareOptions {
                            durable: true,
                            ..ExchangeDeclareOptions::default()
                        },
                        FieldTable::default(),
                    )
                    .await?;
            }
        }
        Ok(Open {
            connection,
            channel,
        })
    }
}

fn close_in_background(old: Open) {
    tokio::spawn(async move {
        let _ = old.connection.close(200, "reconnecting".into()).await;
    });
}

/// A poisoned lock only means another request panicked mid-update of a
/// plain value; the value is still usable, so take it rather than cascade.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
