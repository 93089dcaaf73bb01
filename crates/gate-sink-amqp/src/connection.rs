use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lapin::message::BasicReturnMessage;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{Channel, Connection, ConnectionProperties, DefaultConnectionBuilder};
use tokio::sync::mpsc;

use crate::address::Address;
use crate::config::Unroutable;
use crate::ledger::Ledger;
use crate::notices::Notices;
use crate::tls::TlsMaterial;
use crate::topology::Safety;
use crate::unroutable::UnroutableLog;
use crate::{topology, AmqpConfig};

/// The one connection and confirm-mode channel of a sink, reopened on demand
/// after a failure. Requests share the open channel; when it is gone, one
/// request reconnects while the others wait for it, and after a failed
/// attempt requests fail fast until `reconnect_interval` has passed, so an
/// outage does not turn every request into a connection attempt.
///
/// With several addresses (the nodes of a cluster), a connection that is
/// lost makes the next attempt start with the following address, so the
/// sink fails over instead of knocking on the node that just went away.
pub(crate) struct Link {
    config: AmqpConfig,
    addresses: Vec<Address>,
    tls: TlsMaterial,
    open: Mutex<Option<Open>>,
    connecting: tokio::sync::Mutex<()>,
    last_failure: Mutex<Option<(Instant, String)>>,
    /// Where the next connection attempt starts.
    next_address: AtomicUsize,
    /// The address of the last connection opened (`usize::MAX`: none yet).
    last_connected: AtomicUsize,
    connects: AtomicU64,
    failovers: AtomicU64,
    generation: AtomicU64,
    /// Unroutable messages of this link's stream.
    unroutable: UnroutableLog,
    /// Whether this link is the main stream's: it reads the catch-all
    /// queue's depth and watches the catch-all for its own messages
    /// (`notices`); its exchange has the alternate exchange.
    counts_catch_all: bool,
}

struct Open {
    connection: Connection,
    /// The publishing channel, with its confirms paired to publishes.
    ledger: Arc<Ledger>,
    /// For reading the catch-all queue's depth: a refused declaration
    /// closes this channel, never the one messages are published on.
    admin: Channel,
    notices: Option<Arc<Notices>>,
    safety: Safety,
    address: usize,
    generation: u64,
}

/// The open channel and which connection it belongs to, so that a failure
/// seen late on an old connection never closes a newer one.
#[derive(Clone)]
pub(crate) struct Lease {
    pub(crate) ledger: Arc<Ledger>,
    pub(crate) notices: Option<Arc<Notices>>,
    generation: u64,
}

impl Link {
    pub(crate) fn new(
        config: AmqpConfig,
        addresses: Vec<Address>,
        tls: TlsMaterial,
        counts_catch_all: bool,
    ) -> Self {
        Self {
            config,
            addresses,
            tls,
            open: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            last_failure: Mutex::new(None),
            next_address: AtomicUsize::new(0),
            last_connected: AtomicUsize::new(usize::MAX),
            connects: AtomicU64::new(0),
            failovers: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            unroutable: UnroutableLog::default(),
            counts_catch_all,
        }
    }

    pub(crate) fn unroutable(&self) -> &UnroutableLog {
        &self.unroutable
    }

    pub(crate) fn config(&self) -> &AmqpConfig {
        &self.config
    }

    /// How many connections were opened, the first one included.
    pub(crate) fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }

    /// How many connections were opened on another address than the one
    /// before.
    pub(crate) fn failovers(&self) -> u64 {
        self.failovers.load(Ordering::Relaxed)
    }

    /// The open channel, connecting first if needed.
    pub(crate) async fn channel(&self) -> Result<Lease, String> {
        if let Some(lease) = self.usable() {
            return Ok(lease);
        }
        let _turn = self.connecting.lock().await;
        if let Some(lease) = self.usable() {
            return Ok(lease);
        }
        if let Some(reason) = self.recent_failure() {
            return Err(reason);
        }
        match self.connect_any().await {
            Ok(open) => {
                let lease = open.lease();
                let previous = lock(&self.open).replace(open);
                if let Some(old) = previous {
                    close_in_background(old);
                }
                *lock(&self.last_failure) = None;
                self.connects.fetch_add(1, Ordering::Relaxed);
                Ok(lease)
            }
            Err(reason) => {
                tracing::warn!(exchange = %self.config.exchange, %reason, "broker connection failed");
                *lock(&self.last_failure) = Some((Instant::now(), reason.clone()));
                Err(reason)
            }
        }
    }

    /// Forget a channel that failed, so the next request reconnects,
    /// starting with the next address.
    pub(crate) fn invalidate(&self, failed: &Lease) {
        let mut open = lock(&self.open);
        if open
            .as_ref()
            .is_some_and(|o| o.generation == failed.generation)
        {
            if let Some(old) = open.take() {
                self.move_past(old.address);
                close_in_background(old);
            }
        }
    }

    /// Whether there is another address to fail over to.
    pub(crate) fn has_alternatives(&self) -> bool {
        self.addresses.len() > 1
    }

    /// How the open connection's exchange keeps unroutable messages.
    pub(crate) fn safety(&self) -> Option<Safety> {
        lock(&self.open).as_ref().map(|open| open.safety)
    }

    /// Declare the catch-all queue again (idempotent: restores it if it was
    /// deleted) and count its growth. False when not connected or refused
    /// (logged).
    pub(crate) async fn read_catch_all(&self) -> bool {
        if !self.config.declare_exchange {
            return false;
        }
        let Some(depth) = self.catch_all_depth().await else {
            return false;
        };
        if self.counts_catch_all {
            self.unroutable.observe_depth(depth);
        }
        let notices = lock(&self.open).as_ref().and_then(|o| o.notices.clone());
        if let Some(notices) = notices {
            let bound = match notices.read_idle().await {
                Ok(()) => notices.bind().await,
                Err(reason) => Err(reason),
            };
            if let Err(reason) = bound {
                tracing::warn!(exchange = %self.config.exchange, %reason, "cannot read or bind the notice queue");
            }
        }
        true
    }

    async fn catch_all_depth(&self) -> Option<u64> {
        let admin = {
            let open = lock(&self.open);
            let open = open.as_ref()?;
            open.admin
                .status()
                .connected()
                .then(|| open.admin.clone())?
        };
        match topology::declare_catch_all(&admin, &self.config).await {
            Ok(depth) => Some(u64::from(depth)),
            Err(reason) => {
                tracing::warn!(exchange = %self.config.exchange, %reason, "cannot read the catch-all queue");
                None
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

    fn usable(&self) -> Option<Lease> {
        let mut open = lock(&self.open);
        let current = open.as_ref()?;
        if current.connection.status().connected() && current.ledger.channel().status().connected()
        {
            return Some(current.lease());
        }
        // Lost (the broker went away or closed the channel): the next
        // attempt starts with the next address.
        if let Some(old) = open.take() {
            self.move_past(old.address);
            close_in_background(old);
        }
        None
    }

    fn move_past(&self, address: usize) {
        if self.addresses.len() > 1 {
            self.next_address
                .store((address + 1) % self.addresses.len(), Ordering::Relaxed);
        }
    }

    fn recent_failure(&self) -> Option<String> {
        let failure = lock(&self.last_failure);
        let (at, reason) = failure.as_ref()?;
        (at.elapsed() < Duration::from_millis(self.config.reconnect_interval_ms))
            .then(|| format!("broker unavailable: {reason}"))
    }

    /// Each address once, starting with `next_address`; the first that
    /// connects wins. The error lists every address's reason.
    async fn connect_any(&self) -> Result<Open, String> {
        let count = self.addresses.len();
        let start = self.next_address.load(Ordering::Relaxed) % count.max(1);
        let timeout = Duration::from_millis(self.config.connect_timeout_ms);
        let mut reasons = Vec::new();
        for index in (0..count).map(|k| (start + k) % count) {
            let address = &self.addresses[index];
            let attempt = match tokio::time::timeout(timeout, self.connect(address)).await {
                Ok(attempt) => attempt,
                Err(_) => Err(format!(
                    "no answer within {} ms",
                    self.config.connect_timeout_ms
                )),
            };
            match attempt {
                Ok((connection, channel, admin, notices, safety, depth)) => {
                    // Read before anything is published on this connection.
                    if let (true, Some(depth)) = (self.counts_catch_all, depth) {
                        self.unroutable.observe_depth(u64::from(depth));
                    }
                    self.next_address.store(index, Ordering::Relaxed);
                    let last = self.last_connected.swap(index, Ordering::Relaxed);
                    if last != usize::MAX && last != index {
                        self.failovers.fetch_add(1, Ordering::Relaxed);
                    }
                    tracing::info!(exchange = %self.config.exchange, broker = %address, "connected to the broker");
                    let orphans = keep_orphans(admin.clone(), &self.config);
                    return Ok(Open {
                        connection,
                        ledger: Ledger::start(channel, orphans),
                        admin,
                        notices,
                        safety,
                        address: index,
                        generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
                    });
                }
                Err(reason) => {
                    tracing::warn!(exchange = %self.config.exchange, broker = %address, %reason, "cannot connect to this broker");
                    reasons.push(if count > 1 {
                        format!("{address}: {reason}")
                    } else {
                        reason
                    });
                }
            }
        }
        Err(format!(
            "cannot connect to the broker: {}",
            reasons.join("; ")
        ))
    }

    async fn connect(&self, address: &Address) -> Result<Connected, String> {
        let properties =
            ConnectionProperties::default().with_connection_name("notifications-center".into());
        let builder = DefaultConnectionBuilder::new()
            .map_err(|e| e.to_string())?
            .with_uri(address.uri().clone())
            .with_properties(properties)
            .with_tls_config(self.tls.config());
        let connection = builder.connect().await.map_err(|e| e.to_string())?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| e.to_string())?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        let (channel, safety, depth) =
            match topology::declare(&connection, channel, &self.config).await {
                Ok(declared) => declared,
                Err(reason) => {
                    let _ = connection.close(200, "declaration refused".into()).await;
                    return Err(reason);
                }
            };
        let admin = connection
            .create_channel()
            .await
            .map_err(|e| e.to_string())?;
        // The main stream watches the catch-all for its own messages
        // whenever the sink declared one.
        let notices = if self.counts_catch_all
            && self.config.declare_exchange
            && self.config.unroutable == Unroutable::Keep
        {
            let name = notice_queue_name(&self.config);
            Some(Notices::declare(&connection, self.config.catch_all_exchange(), &name).await?)
        } else {
            None
        };
        Ok((connection, channel, admin, notices, safety, depth))
    }
}

type Connected = (
    Connection,
    Channel,
    Channel,
    Option<Arc<Notices>>,
    Safety,
    Option<u32>,
);

impl Open {
    fn lease(&self) -> Lease {
        Lease {
            ledger: Arc::clone(&self.ledger),
            notices: self.notices.clone(),
            generation: self.generation,
        }
    }
}

/// Unique per connection: the queue is exclusive to it.
fn notice_queue_name(config: &AmqpConfig) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}.notices.{}-{nanos}",
        config.catch_all_queue(),
        std::process::id()
    )
}

/// Returned messages the ledger could pair with no publish (none are
/// expected): put in the catch-all all the same, best effort, and logged.
fn keep_orphans(admin: Channel, config: &AmqpConfig) -> mpsc::UnboundedSender<BasicReturnMessage> {
    let (orphans, mut arriving) = mpsc::unbounded_channel::<BasicReturnMessage>();
    let catch_all = (config.unroutable == Unroutable::Keep).then(|| config.catch_all_exchange());
    tokio::spawn(async move {
        while let Some(message) = arriving.recv().await {
            let delivery = &message.delivery;
            tracing::error!(exchange = %delivery.exchange, routing_key = %delivery.routing_key, message_id = ?delivery.properties.message_id(), "a returned message matched no publish of this connection");
            let Some(catch_all) = &catch_all else {
                continue;
            };
            let properties =
                crate::stream::with_origin(delivery.properties.clone(), delivery.exchange.as_str());
            let _ = admin
                .basic_publish(
                    catch_all.as_str().into(),
                    delivery.routing_key.clone(),
                    BasicPublishOptions::default(),
                    &delivery.data,
                    properties,
                )
                .await;
        }
    });
    orphans
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
