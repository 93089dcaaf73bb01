//! Phabricator sink: when GitHub says a repository was pushed to, ask the
//! Phabricator instance that mirrors it to fetch now (`diffusion.looksoon`)
//! instead of waiting for its next poll.

mod config;
mod diffusion;
mod push;
mod sink;

use std::sync::Arc;

use gate_core::{PluginError, Sink, SinkFactory};

pub use config::PhabricatorSinkConfig;
pub use sink::PhabricatorSink;

/// The `kind = "phabricator"` sink.
#[derive(Debug)]
pub struct PhabricatorSinkFactory;

impl SinkFactory for PhabricatorSinkFactory {
    const KIND: &'static str = "phabricator";
    type Config = PhabricatorSinkConfig;

    /// Making the sink opens no connection: it is the check.
    fn validate(_name: &str, config: &PhabricatorSinkConfig) -> Result<(), PluginError> {
        Ok(PhabricatorSink::new(config.clone()).map(drop)?)
    }

    fn build(_name: &str, config: PhabricatorSinkConfig) -> Result<Arc<dyn Sink>, PluginError> {
        Ok(Arc::new(PhabricatorSink::new(config)?))
    }
}

gate_core::register_sink!(PhabricatorSinkFactory);
