//! Why secrets could not be read. Every message names the reference
//! (`mount/path#key`) and where it is in the configuration, never a value:
//! these errors end up in logs and on the terminal.

/// A problem resolving `vault:` references while loading the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    #[error("{location}: invalid vault reference {reference:?}: {reason} (expected vault:MOUNT/PATH#KEY)")]
    BadReference {
        location: String,
        reference: String,
        reason: String,
    },
    #[error("vault: {0}")]
    Settings(String),
    #[error("{location}: {reference}: no vault configured (set [vault] address or VAULT_ADDR)")]
    NoAddress { location: String, reference: String },
    #[error(
        "vault: no credentials (set vault.token, vault.role_id + vault.secret_id, or VAULT_TOKEN)"
    )]
    NoCredentials,
    #[error("vault login failed: {0}")]
    Login(String),
    #[error("{location}: cannot read {reference}: {reason}")]
    Read {
        location: String,
        reference: String,
        reason: String,
    },
}
