//! Why a plugin refuses its settings or cannot start. The message is one
//! line for the operator (`config check` prefixes it with the location);
//! the error it comes from, when there is one, stays reachable as its
//! `source()`, so a host can log the chain or look at the typed cause.

use std::error::Error;
use std::fmt;

/// The boxed cause of a [`PluginError`].
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// A plugin's error: a message, a typed error, or a message with its cause.
/// Plain strings convert into it (`Err("no secret".into())`, `?` on a
/// `Result<_, String>`), typed errors through [`PluginError::from_error`].
pub struct PluginError(Repr);

enum Repr {
    Message(String),
    Error(BoxError),
    Context { message: String, source: BoxError },
}

impl PluginError {
    /// An error that is only a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(Repr::Message(message.into()))
    }

    /// A typed error, shown as itself, kept as the cause ([`Self::get_ref`]).
    pub fn from_error(error: impl Into<BoxError>) -> Self {
        Self(Repr::Error(error.into()))
    }

    /// `message`, caused by `source` (shown after it by hosts that print
    /// the chain).
    pub fn with_source(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self(Repr::Context {
            message: message.into(),
            source: source.into(),
        })
    }

    /// The typed error this was made from, if any (e.g. to downcast).
    pub fn get_ref(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match &self.0 {
            Repr::Message(_) => None,
            Repr::Error(error) => Some(error.as_ref()),
            Repr::Context { source, .. } => Some(source.as_ref()),
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Message(message) | Repr::Context { message, .. } => f.write_str(message),
            Repr::Error(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl fmt::Debug for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Message(message) => f.debug_tuple("PluginError").field(message).finish(),
            Repr::Error(error) => f.debug_tuple("PluginError").field(error).finish(),
            Repr::Context { message, source } => f
                .debug_struct("PluginError")
                .field("message", message)
                .field("source", source)
                .finish(),
        }
    }
}

impl Error for PluginError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.0 {
            Repr::Message(_) => None,
            // Shown as itself: its own cause comes next in the chain.
            Repr::Error(error) => error.source(),
            Repr::Context { source, .. } => Some(source.as_ref()),
        }
    }
}

impl From<String> for PluginError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for PluginError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("no webhook secret")]
    struct NoSecret;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the map")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn typed_errors_stay_reachable() {
        let error = PluginError::from_error(NoSecret);
        assert_eq!(error.to_string(), "no webhook secret");
        assert!(error.source().is_none());
        assert!(error.get_ref().is_some_and(|e| e.is::<NoSecret>()));

        let error = PluginError::from_error(Outer(std::io::ErrorKind::NotFound.into()));
        assert_eq!(error.to_string(), "cannot read the map");
        assert!(error.source().is_some_and(|e| e.is::<std::io::Error>()));
    }

    #[test]
    fn context_and_messages() {
        let error = PluginError::with_source("path", std::io::Error::other("denied"));
        assert_eq!(error.to_string(), "path");
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("denied")
        );
        let plain: PluginError = "a file sink needs a path".into();
        assert!(plain.source().is_none() && plain.get_ref().is_none());
    }
}
