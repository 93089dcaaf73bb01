//! Generic signed HTTP forward sink: POST the notification (or the source's
//! raw payload) to any URL, optionally signed, with retries and backoff.

mod config;
mod deliver;
mod target;

use std::sync::Arc;

use gate_core::{PluginError, Sink, SinkFactory};

pub use config::{BodyKind, HttpSinkConfig};
pub use deliver::HttpSink;
pub use target::TargetUrl;

/// The `kind = "http"` sink.
#[derive(Debug)]
pub struct HttpSinkFactory;

impl SinkFactory for HttpSinkFactory {
    const KIND: &'static str = "http";
    type Config = HttpSinkConfig;

    /// Making the sink opens no connection: it is the check.
    fn validate(_name: &str, config: &HttpSinkConfig) -> Result<(), PluginError> {
        Ok(HttpSink::new(config.clone()).map(drop)?)
    }

    fn build(_name: &str, config: HttpSinkConfig) -> Result<Arc<dyn Sink>, PluginError> {
        Ok(Arc::new(HttpSink::new(config)?))
    }
}

gate_core::register_sink!(HttpSinkFactory);
