//! A door's settings, as written in the configuration and as prepared for
//! requests.

use gate_core::Secret;
use serde::{Deserialize, Serialize};

use crate::auth::Credentials;

/// Minimum bearer token length, so that a door cannot be opened with a
/// guessable one. HMAC secrets never travel, so they have no minimum.
pub const MIN_TOKEN_CHARS: usize = 16;

/// `[sources.Notification.doors.<door>]` beside the group-mapping keys.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DoorConfig {
    /// HMAC-SHA256 keys for `X-Gate-Signature`; several allow rotation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    /// Tokens accepted in `Authorization: Bearer`; several allow rotation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tokens: Vec<Secret>,
    /// Accept unauthenticated requests; for closed networks only.
    #[serde(default)]
    pub insecure_no_auth: bool,
}

/// A door ready for requests.
#[derive(Debug)]
pub struct NativeDoor {
    pub credentials: Credentials,
}

/// Why a door cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoorError {
    #[error("secrets or tokens are required (or set insecure_no_auth = true on a closed network)")]
    NoCredentials,
    #[error("insecure_no_auth = true contradicts the secrets or tokens that are set")]
    CredentialsAndInsecure,
    #[error("tokens[{0}] is too short: use at least {MIN_TOKEN_CHARS} random characters")]
    ShortToken(usize),
}

impl DoorConfig {
    pub fn open(self) -> Result<NativeDoor, DoorError> {
        let has_credentials = !(self.secrets.is_empty() && self.tokens.is_empty());
        match (has_credentials, self.insecure_no_auth) {
            (false, false) => return Err(DoorError::NoCredentials),
            (true, true) => return Err(DoorError::CredentialsAndInsecure),
            _ => {}
        }
        if let Some(index) = self
            .tokens
            .iter()
            // A pending token (not read by `config check`) is not judged.
            .position(|t| {
                !t.is_pending()
                    && String::from_utf8_lossy(t.expose()).chars().count() < MIN_TOKEN_CHARS
            })
        {
            return Err(DoorError::ShortToken(index));
        }
        Ok(NativeDoor {
            credentials: Credentials {
                secrets: self.secrets,
                tokens: self.tokens,
            },
        })
    }
}
