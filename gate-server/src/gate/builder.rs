//! [`GateBuilder`]: from a configuration to a running [`Gate`].

use std::sync::Arc;

use gate_core::{Registry, RegistryError};
use gate_spool::SpoolError;

use super::Gate;
use crate::config::Config;
use crate::gateway::{ConfigErrors, Gateway};
use crate::state::GateState;
use crate::vault::SecretsError;

/// What a [`Gate`] starts from: a configuration, the plugins, and the
/// environment `vault:` references may read their settings from.
#[derive(Debug)]
#[must_use = "a builder does nothing until `start` is awaited"]
pub struct GateBuilder {
    config: Config,
    registry: Option<Arc<Registry>>,
    env: Option<Vec<(String, String)>>,
}

/// Why a [`Gate`] could not start. Nothing is left running or open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The linked plugins conflict (two of one kind) or are missing.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A `vault:` reference could not be read.
    #[error("cannot read the configuration's secrets")]
    Secrets(#[from] SecretsError),
    /// The configuration does not validate; every problem is listed.
    #[error("invalid configuration ({count} problem(s)):\n{0}", count = .0.0.len())]
    Invalid(ConfigErrors),
    /// The spool file cannot be opened (held by another gate, refused,
    /// not writable).
    #[error("cannot open the spool")]
    Spool(#[from] SpoolError),
}

impl GateBuilder {
    pub(crate) fn new(config: Config) -> Self {
        Self {
            config,
            registry: None,
            env: None,
        }
    }

    /// Serve these plugins only (default: every plugin linked into the
    /// binary, [`crate::registry`]).
    pub fn registry(mut self, registry: Arc<Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Where `VAULT_ADDR`/`VAULT_TOKEN` are looked up when `[vault]` does
    /// not say (default: the process environment).
    pub fn env(mut self, env: impl IntoIterator<Item = (String, String)>) -> Self {
        self.env = Some(env.into_iter().collect());
        self
    }

    /// Resolve the `vault:` references left in the sinks and doors,
    /// validate and build every door and sink, open the spool and the
    /// deduplication store (memory or Redis), then start redelivering the
    /// spool and, when configured, the periodic GitHub recovery. Call it
    /// inside the Tokio runtime (sinks may connect at once).
    pub async fn start(self) -> Result<Gate, StartError> {
        let Self {
            mut config,
            registry,
            env,
        } = self;
        let registry = match registry {
            Some(registry) => registry,
            None => crate::registry()?,
        };
        let env = env.unwrap_or_else(|| std::env::vars().collect());
        crate::vault::resolve_config(&mut config, &env).await?;
        // Validated before the spool is touched: a bad file creates nothing.
        let gateway =
            Gateway::build(config.clone(), Arc::clone(&registry)).map_err(StartError::Invalid)?;
        let state = match GateState::open(&config) {
            Ok(state) => state,
            Err(error) => {
                gateway.close().await;
                return Err(error.into());
            }
        };
        let gateway = Arc::new(gateway.with_state(Arc::new(state)));
        Ok(Gate::run(gateway, registry, env))
    }
}
