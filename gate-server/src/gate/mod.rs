//! [`Gate`]: the whole running gateway as one value. It owns the current
//! [`Gateway`] (sources, sinks) and what outlives reloads (spool, dedup,
//! metrics), runs the spool's redelivery and the periodic GitHub recovery,
//! reloads, and shuts down gracefully. `gate-server serve`, the tower
//! service and every embedding start it the same way, so an embedded
//! gateway keeps the guarantees of the served one.

mod background;
mod builder;

use std::sync::Arc;
use std::time::Duration;

use gate_core::Registry;
use tokio_util::sync::CancellationToken;

pub use builder::{GateBuilder, StartError};

use crate::config::Config;
use crate::gateway::{ConfigErrors, Gateway};
use crate::reload::{self, Change};
use crate::shared::SharedGateway;
use crate::tower::GatewayTower;
use crate::vault::SecretsError;
use background::Background;

/// How long [`Gate::shutdown`] waits for deliveries still running (each
/// ends by itself within the delivery deadline plus a spool write).
pub(crate) const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The running gateway. Build it with [`Gate::builder`]; serve it with
/// [`Gate::tower_service`] (a tower `Service` for axum or any tower host,
/// whose `route` is a plain async function for a hyper host), or
/// [`crate::server::serve`] (the stock accept loop); end it with
/// [`Gate::shutdown`]. Dropping it without
/// `shutdown` stops the background work and releases the spool at once,
/// without waiting for deliveries in progress.
#[derive(Debug)]
pub struct Gate {
    shared: SharedGateway,
    registry: Arc<Registry>,
    /// Where `vault:` references read their settings on a reload.
    env: Vec<(String, String)>,
    /// Cancelled when the gate stops: its services answer 503 from then on.
    stopped: CancellationToken,
    background: Option<Background>,
}

/// Why [`Gate::reload`] kept the running configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// A `vault:` reference could not be read.
    #[error("cannot read the configuration's secrets")]
    Secrets(#[from] SecretsError),
    /// The new configuration does not validate; every problem is listed.
    #[error("invalid configuration ({count} problem(s)):\n{0}", count = .0.0.len())]
    Invalid(ConfigErrors),
}

impl Gate {
    /// Start describing a gate for `config`: see [`GateBuilder`].
    pub fn builder(config: Config) -> GateBuilder {
        GateBuilder::new(config)
    }

    /// A gate around a gateway built and given its state by the caller
    /// (`Gateway::build(..).with_state(..)`): tests and tools that inspect
    /// the gateway's state directly. The builder is the ordinary way.
    pub fn from_gateway(gateway: Arc<Gateway>) -> Self {
        let registry = gateway.registry_handle();
        Self::run(gateway, registry, std::env::vars().collect())
    }

    fn run(gateway: Arc<Gateway>, registry: Arc<Registry>, env: Vec<(String, String)>) -> Self {
        for warning in gateway.warnings() {
            tracing::warn!("{warning}");
        }
        let shared = SharedGateway::new(gateway);
        let stopped = CancellationToken::new();
        let background = Background::start(&shared, stopped.child_token());
        Self {
            shared,
            registry,
            env,
            stopped,
            background: Some(background),
        }
    }

    /// The gateway serving now; a request keeps the one it started with.
    pub fn current(&self) -> Arc<Gateway> {
        self.shared.current()
    }

    /// The swappable current gateway, for the stock server's connections.
    pub(crate) fn shared(&self) -> SharedGateway {
        self.shared.clone()
    }

    /// The gate as a `tower_service::Service` (cheap to clone), for axum
    /// and any tower host. It follows reloads, and answers 503 once the
    /// gate is shut down.
    pub fn tower_service(&self) -> GatewayTower {
        GatewayTower::new(self.shared.clone(), self.stopped.clone())
    }

    /// Build a gateway from `config` and swap it in: requests in progress
    /// finish on the previous one, whose sinks close once unused. The spool,
    /// the delivery-id memory and the metrics carry over; `[dedup]` limits
    /// and retry timings apply at once. Returns the settings that need a
    /// restart (their running value is kept, and each is logged). On error
    /// nothing changes.
    pub async fn reload(&self, mut config: Config) -> Result<Vec<Change>, ReloadError> {
        crate::vault::resolve_config(&mut config, &self.env).await?;
        let gateway =
            Gateway::build(config, Arc::clone(&self.registry)).map_err(ReloadError::Invalid)?;
        for warning in gateway.warnings() {
            tracing::warn!("{warning}");
        }
        Ok(reload::swap_in(&self.shared, gateway))
    }

    /// Stop gracefully: refuse new requests (503), let the deliveries in
    /// progress end (up to 30 s: each reaches its sinks or
    /// the spool), stop redelivery and GitHub recovery, close the sinks and
    /// release the spool file. Call it once the host stopped serving.
    pub async fn shutdown(mut self) {
        self.stopped.cancel();
        let gateway = self.shared.current();
        gateway.state().finish_deliveries(SHUTDOWN_TIMEOUT).await;
        if let Some(background) = self.background.take() {
            background.stop(SHUTDOWN_TIMEOUT).await;
        }
        gateway.close().await;
        if let Some(spool) = &gateway.state().spool {
            spool.close();
        }
        tracing::info!("gateway stopped");
    }
}

impl Drop for Gate {
    /// Without [`Gate::shutdown`]: no new request is taken, the background
    /// work is aborted (a guard) and the spool file released, so another
    /// gate can open it.
    fn drop(&mut self) {
        if self.background.is_none() {
            return;
        }
        self.stopped.cancel();
        self.background.take();
        if let Some(spool) = &self.shared.current().state().spool {
            spool.close();
        }
    }
}
