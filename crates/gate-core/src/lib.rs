//! Core of Notifications Center: the notification every sink receives, the
//! [`Source`] and [`Sink`] traits that plugins implement, and the registry that
//! links plugins into a binary.
//!
//! Plugin authors depend on this crate only: registration goes through
//! [`register_source!`] and [`register_sink!`], which wrap `inventory` so that
//! plugins never name it themselves.

#![warn(missing_docs)]

mod action;
mod config_error;
mod credential;
#[cfg(feature = "testing")]
pub mod golden;
pub mod json;
mod mapping;
mod notification;
mod plugin_error;
mod raw_content;
mod registry;
mod request;
mod secret;
mod secret_hook;
pub mod signature;
mod sink;
#[cfg(feature = "testing")]
pub mod sink_kit;
mod source;
pub mod token;

pub use action::{Action, ActionError, ActionStatus};
pub use async_trait::async_trait;
pub use config_error::{without_values, ConfigError};
pub use credential::{Credential, Place};
pub use mapping::{GroupMapping, GroupRule, MappingConfig, Subject};
pub use notification::{routing_segment, Envelope, Notification};
pub use plugin_error::{BoxError, PluginError};
pub use raw_content::RawContent;
pub use registry::{erase, Registry, RegistryError, SinkRegistration, SourceRegistration};
pub use request::{Rejection, Request};
pub use secret::{Secret, SecretError};
pub use secret_hook::{with_secret_resolver, SecretResolver};
pub use sink::{BuiltSink, Sink, SinkFactory, ValidatedSink};
pub use source::{Door, DynSource, OpenDoor, Received, Source};

/// Items used by the registration macros; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
}
