//! Notifications Center gateway: configuration, the running gateway
//! ([`Gate`]), its HTTP service and the server loop. The binary (`main.rs`)
//! is a thin CLI over this library, and Rust services embed the same
//! [`Gate`] in their own server (docs/embedding.md).

mod body;
pub mod budget;
pub mod cli;
pub mod compat;
pub mod config;
mod connection;
mod dedup;
pub mod deliveries;
mod gate;
pub mod gateway;
pub mod github_recovery;
mod handler;
pub mod identity;
pub mod launch;
mod metrics;
mod plugins;
mod rate_limit;
mod redeliver;
pub mod reload;
pub mod report;
mod request_id;
mod respond;
pub mod server;
pub mod service;
pub mod shared;
mod spool_worker;
pub mod state;
pub mod tower;
pub mod vault;

use std::sync::Arc;

pub use config::Config;
pub use gate::{Gate, GateBuilder, ReloadError, StartError};
pub use gate_core::{Registry, RegistryError};
pub use gateway::{ConfigErrors, Gateway};
pub use service::{route, GatewayService};
pub use shared::SharedGateway;
pub use tower::{GatewayTower, PeerIp};

/// Every plugin linked into this build (see `plugins.rs`).
pub fn registry() -> Result<Arc<Registry>, RegistryError> {
    Registry::from_inventory().map(Arc::new)
}
