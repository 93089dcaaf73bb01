//! Small Phabricator/Phorge Conduit API client, and the outgoing HTTP client
//! it shares with the other sinks that speak HTTP (one construction of TLS,
//! connection pooling and timeouts instead of one per crate).

pub mod cache;
mod conduit;
mod error;
pub mod http;
#[cfg(feature = "test-support")]
pub mod test_server;

pub use conduit::{Conduit, DEFAULT_TIMEOUT};
pub use error::ConduitError;
