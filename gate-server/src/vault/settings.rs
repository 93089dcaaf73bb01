//! The `[vault]` section and the `VAULT_ADDR` / `VAULT_TOKEN` environment
//! variables, merged into what a session needs.

use std::time::Duration;

use gate_core::Secret;
use serde::{Deserialize, Serialize};

use super::error::SecretsError;

/// `[vault]`: where the KV v2 secrets of `vault:` references are read, and
/// how to log in. Values given here win over the environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSettings {
    /// `https://vault.acme.example:8200`; else `VAULT_ADDR`.
    #[serde(default)]
    pub address: Option<String>,
    /// A token; else AppRole when `role_id` is set; else `VAULT_TOKEN`.
    #[serde(
        default,
        serialize_with = "Secret::serialize_optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub token: Option<Secret>,
    /// AppRole login: both `role_id` and `secret_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    #[serde(
        default,
        serialize_with = "Secret::serialize_optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub secret_id: Option<Secret>,
    /// Where the AppRole auth method is mounted.
    #[serde(default = "default_auth_mount")]
    pub auth_mount: String,
    /// Enterprise/OpenBao namespace (`X-Vault-Namespace`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Per request to the vault.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_auth_mount() -> String {
    "approle".into()
}
fn default_timeout_ms() -> u64 {
    5_000
}

/// How to obtain a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Token(Secret),
    AppRole {
        mount: String,
        role_id: String,
        secret_id: Secret,
    },
}

/// Everything a session needs; equal settings can share a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Without the trailing `/`.
    pub address: String,
    pub namespace: Option<String>,
    pub auth: Auth,
    pub timeout: Duration,
}

impl VaultSettings {
    /// The `[vault]` table of the configuration, if any.
    pub fn from_table(table: &toml::Table) -> Result<Self, SecretsError> {
        match table.get("vault") {
            None => Ok(Self {
                auth_mount: default_auth_mount(),
                timeout_ms: default_timeout_ms(),
                ..Self::default()
            }),
            Some(value) => value
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| SecretsError::Settings(e.message().to_owned())),
        }
    }

    /// Merge with `VAULT_ADDR`/`VAULT_TOKEN` from `env`. `None` when no
    /// address is known at all (the caller names the reference then).
    pub fn resolve(&self, env: &[(String, String)]) -> Result<Option<Resolved>, SecretsError> {
        let var = |name: &str| {
            env.iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
        };
        let Some(address) = self.address.clone().or_else(|| var("VAULT_ADDR")) else {
            return Ok(None);
        };
        let address = address.trim_end_matches('/').to_owned();
        if !(address.starts_with("http://") || address.starts_with("https://")) {
            return Err(SecretsError::Settings(format!(
                "address {address:?} must start with http:// or https://"
            )));
        }
        if self.timeout_ms == 0 {
            return Err(SecretsError::Settings(
                "timeout_ms must be greater than 0".into(),
            ));
        }
        let auth = match (&self.token, &self.role_id, &self.secret_id) {
            (Some(token), _, _) => Auth::Token(token.clone()),
            (None, Some(role_id), Some(secret_id)) => Auth::AppRole {
                mount: self.auth_mount.trim_matches('/').to_owned(),
                role_id: role_id.clone(),
                secret_id: secret_id.clone(),
            },
            (None, Some(_), None) => {
                return Err(SecretsError::Settings("role_id needs secret_id".into()))
            }
            (None, None, Some(_)) => {
                return Err(SecretsError::Settings("secret_id needs role_id".into()))
            }
            (None, None, None) => match var("VAULT_TOKEN") {
                Some(token) => Auth::Token(
                    Secret::resolve(&token)
                        .map_err(|e| SecretsError::Settings(format!("VAULT_TOKEN: {e}")))?,
                ),
                None => return Err(SecretsError::NoCredentials),
            },
        };
        Ok(Some(Resolved {
            address,
            namespace: self.namespace.clone(),
            auth,
            timeout: Duration::from_millis(self.timeout_ms),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> VaultSettings {
        VaultSettings::from_table(&toml::from_str(text).expect("toml")).expect("settings")
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn environment_fills_what_the_section_leaves_out() {
        let resolved = settings("")
            .resolve(&env(&[
                ("VAULT_ADDR", "http://127.0.0.1:8200/"),
                ("VAULT_TOKEN", "t0ken"),
            ]))
            .expect("valid")
            .expect("address");
        assert_eq!(resolved.address, "http://127.0.0.1:8200");
        assert_eq!(
            resolved.auth,
            Auth::Token(Secret::resolve("t0ken").expect("inline"))
        );
        assert_eq!(resolved.timeout, Duration::from_secs(5));
    }

    #[test]
    fn the_section_wins_and_approle_needs_both_ids() {
        let resolved = settings(
            "[vault]\naddress = \"https://vault.acme.example\"\nrole_id = \"r\"\nsecret_id = \"s\"\n",
        )
        .resolve(&env(&[("VAULT_ADDR", "http://other"), ("VAULT_TOKEN", "t")]))
        .expect("valid")
        .expect("address");
        assert_eq!(resolved.address, "https://vault.acme.example");
        assert!(matches!(resolved.auth, Auth::AppRole { ref mount, .. } if mount == "approle"));

        let err = settings("[vault]\naddress = \"http://v\"\nrole_id = \"r\"\n")
            .resolve(&[])
            .unwrap_err();
        assert_eq!(err.to_string(), "vault: role_id needs secret_id");
    }

    #[test]
    fn no_address_means_no_vault_and_no_credentials_is_an_error() {
        assert_eq!(settings("").resolve(&[]).expect("valid"), None);
        let err = settings("[vault]\naddress = \"http://v\"\n")
            .resolve(&[])
            .unwrap_err();
        assert_eq!(err, SecretsError::NoCredentials);
        let err = settings("[vault]\naddress = \"v:8200\"\ntoken = \"t\"\n")
            .resolve(&[])
            .unwrap_err();
        assert!(err.to_string().contains("must start with http://"), "{err}");
    }
}
