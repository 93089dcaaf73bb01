use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A credential from the configuration. It can be written inline or by
/// reference (`env:NAME`, `file:PATH`, and `vault:...` through the host's
/// [`SecretResolver`](crate::SecretResolver)); references are resolved when
/// the configuration is loaded so that a missing secret fails at start, not
/// at the first request. It never prints: `Debug` and `Serialize` show only
/// that it is set, which keeps it out of logs and `/config`.
///
/// While a configuration is only checked (`config check`), a host reference
/// is not read: its secret is *pending* ([`Secret::is_pending`]), and checks
/// of the value itself are skipped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: Vec<u8>,
    pending: bool,
}

/// Why a configured secret cannot be resolved; names the reference, never
/// a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// `env:NAME` and `NAME` is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    /// `file:PATH` cannot be read.
    #[error("cannot read secret file {path}: {reason}")]
    File {
        /// The file's path.
        path: String,
        /// The I/O error's kind.
        reason: String,
    },
    /// The value (or the file) is empty.
    #[error("secret is empty")]
    Empty,
    /// A scheme this crate does not resolve (`vault:` is gate-server's).
    #[error("unsupported secret reference {0:?} (use env:NAME, file:PATH or an inline value)")]
    UnsupportedScheme(String),
    /// A host reference that is not well formed; `reason` says what it
    /// expects, never a value.
    #[error("invalid reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as written (never a value).
        reference: String,
        /// What a well-formed reference looks like.
        reason: String,
    },
    /// A host reference that could not be read (`vault:` ...).
    #[error("cannot read {reference}: {reason}")]
    Unreadable {
        /// The reference as written (never a value).
        reference: String,
        /// Why the host could not read it.
        reason: String,
    },
}

impl Secret {
    /// Resolve a configured value: `env:NAME`, `file:PATH` (one trailing
    /// newline removed, as editors add one), or the literal value.
    pub fn resolve(spec: &str) -> Result<Self, SecretError> {
        let value = if let Some(name) = spec.strip_prefix("env:") {
            std::env::var(name).map_err(|_| SecretError::MissingEnv(name.to_owned()))?
        } else if let Some(path) = spec.strip_prefix("file:") {
            let text = std::fs::read_to_string(path).map_err(|e| SecretError::File {
                path: path.to_owned(),
                reason: e.kind().to_string(),
            })?;
            text.strip_suffix('\n')
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
                .unwrap_or(&text)
                .to_owned()
        } else if let Some(scheme) = crate::secret_hook::host_scheme(spec) {
            return crate::secret_hook::resolve(spec)
                .unwrap_or_else(|| Err(SecretError::UnsupportedScheme(scheme.into())));
        } else {
            spec.to_owned()
        };
        Self::new(value)
    }

    /// A value the host read (from a vault); refused when empty.
    pub fn new(value: impl Into<Vec<u8>>) -> Result<Self, SecretError> {
        let value = value.into();
        if value.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self {
            value,
            pending: false,
        })
    }

    /// A secret whose reference was checked but not read (`config check`):
    /// it exposes nothing and matches nothing. Made by a host's checking
    /// [`SecretResolver`](crate::SecretResolver) only, never while serving.
    pub fn pending() -> Self {
        Self {
            value: Vec::new(),
            pending: true,
        }
    }

    /// Whether the value is unknown yet (see [`Secret::pending`]): checks of
    /// the value (a URL's form, a token's length) must skip it.
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// The secret's bytes, to key an HMAC or present a token; never to print.
    pub fn expose(&self) -> &[u8] {
        &self.value
    }

    /// Constant-time comparison with a presented token.
    pub fn matches(&self, presented: &[u8]) -> bool {
        !self.pending && crate::signature::constant_time_eq(&self.value, presented)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(set)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("set")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spec = String::deserialize(deserializer)?;
        Secret::resolve(&spec).map_err(serde::de::Error::custom)
    }
}

/// Serialise an optional secret as `"set"` or `"unset"` (use with
/// `#[serde(serialize_with = "gate_core::Secret::serialize_optional")]`).
impl Secret {
    /// The serializer of an optional secret: `"set"` or `"unset"`.
    pub fn serialize_optional<S: Serializer>(
        secret: &Option<Secret>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if secret.is_some() { "set" } else { "unset" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_its_value() {
        let secret = Secret::resolve("hunter2").expect("inline");
        assert_eq!(format!("{secret:?}"), "Secret(set)");
        assert_eq!(serde_json::to_string(&secret).expect("json"), "\"set\"");
    }

    #[test]
    fn resolves_files_without_trailing_newline() {
        let dir = std::env::temp_dir().join(format!("gate-secret-{}", std::process::id()));
        std::fs::write(&dir, "s3cret\n").expect("write");
        let secret = Secret::resolve(&format!("file:{}", dir.display())).expect("file");
        std::fs::remove_file(&dir).ok();
        assert_eq!(secret.expose(), b"s3cret");
    }

    #[test]
    fn missing_references_are_errors_naming_the_reference_not_the_value() {
        let err = Secret::resolve("env:GATE_TEST_SURELY_UNSET_VARIABLE").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable GATE_TEST_SURELY_UNSET_VARIABLE is not set"
        );
        assert!(matches!(
            Secret::resolve("file:/nonexistent/x"),
            Err(SecretError::File { .. })
        ));
        assert_eq!(Secret::resolve(""), Err(SecretError::Empty));
    }
}
