//! Docker Hub sink: when GitHub says a repository was pushed to, trigger the
//! builds of the Docker Hub images made from it, through Docker Hub's build
//! trigger API (`DockerHubTriggers.json`) or its legacy token API
//! (`DockerHubTokens.json`), the original's third action.

mod call;
mod config;
mod filter;
mod load;
mod map;
mod partial;
mod push;
mod sink;

use std::sync::Arc;

use gate_core::{PluginError, Sink, SinkFactory};

pub use config::DockerHubSinkConfig;
pub use map::TriggerMap;
pub use sink::DockerHubSink;

/// The `kind = "dockerhub"` sink.
#[derive(Debug)]
pub struct DockerHubSinkFactory;

impl SinkFactory for DockerHubSinkFactory {
    const KIND: &'static str = "dockerhub";
    type Config = DockerHubSinkConfig;

    /// Reads and checks the maps (local files only; no network, nothing
    /// written), so that `config check` reports a broken map with its place.
    fn validate(_name: &str, config: &DockerHubSinkConfig) -> Result<(), PluginError> {
        Ok(sink::check(config)?)
    }

    fn build(_name: &str, config: DockerHubSinkConfig) -> Result<Arc<dyn Sink>, PluginError> {
        Ok(Arc::new(DockerHubSink::new(config)?))
    }
}

gate_core::register_sink!(DockerHubSinkFactory);
