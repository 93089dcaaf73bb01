//! Secrets from Vault/OpenBao (KV version 2): a configuration string
//! `vault:MOUNT/PATH#KEY` is replaced by that key's value before the
//! configuration is interpreted, so every plugin sees a plain value and
//! `gate_core::Secret` itself never talks to a vault. Values are read again
//! at every load (start and reload); the token is kept and renewed.

mod api;
mod error;
mod reference;
mod session;
mod settings;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::Path;

use serde_json::{Map, Value};

pub use error::SecretsError;
pub use reference::Reference;
pub use session::SessionInfo;
pub use settings::VaultSettings;

use crate::config::{Config, LoadError};
use api::ReadError;
use session::Session;

/// Loads configurations and keeps the vault session between loads.
#[derive(Debug, Default)]
pub struct SecretsLoader {
    session: Option<Session>,
    /// Sessions opened so far (a reload that reuses the token adds none).
    logins: u64,
}

/// The process's loader, so that a reload reuses (and keeps renewing) the
/// token of the previous load.
static LOADER: tokio::sync::Mutex<SecretsLoader> = tokio::sync::Mutex::const_new(SecretsLoader {
    session: None,
    logins: 0,
});

/// Read the file (or the embedded default), apply the environment
/// overrides, replace `vault:` references by their values, then interpret.
/// What `serve`, `config check` and `config show` use; call it again to
/// reload. Must run inside the Tokio runtime.
///
/// The environment is collected before anything is awaited, so the future
/// is `Send` even for `std::env::vars()`.
pub fn load_with_secrets<'a>(
    path: Option<&'a Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> impl Future<Output = Result<Config, LoadError>> + Send + 'a {
    let env: Vec<(String, String)> = env.into_iter().collect();
    async move { LOADER.lock().await.load(path, env).await }
}

/// Replace the `vault:` references still in a configuration read without
/// [`load_with_secrets`] (`Config::parse`, `Config::load`, or built in code):
/// those of the sinks' and doors' tables, which plugins interpret only when
/// the gateway is built. Uses the configuration's `[vault]` section, else
/// `VAULT_ADDR`/`VAULT_TOKEN` from `env`, and the process's session, as
/// `serve` does. (Typed sections such as `[dedup] redis_url` are
/// interpreted by the parse itself: a `vault:` there needs
/// [`load_with_secrets`].)
pub async fn resolve_config(
    config: &mut Config,
    env: &[(String, String)],
) -> Result<(), SecretsError> {
    let mut sources = toml::Table::new();
    for (kind, section) in &mut config.sources {
        let doors = into_table(std::mem::take(&mut section.doors));
        sources.insert(
            kind.clone(),
            toml::Value::Table(into_table([("doors", doors)])),
        );
    }
    let mut table = into_table([
        ("sinks", into_table(std::mem::take(&mut config.sinks))),
        ("sources", sources),
    ]);
    let resolved = match reference::collect(&table) {
        Ok(found) if found.is_empty() => Ok(()),
        Ok(_) => {
            let settings = match &config.vault {
                Some(settings) => settings.clone(),
                None => VaultSettings::from_table(&toml::Table::new())?,
            };
            let mut loader = LOADER.lock().await;
            loader.resolve_with(&mut table, &settings, env).await
        }
        Err(error) => Err(error),
    };
    // Put the tables back whatever happened: the configuration stays whole.
    config.sinks = tables_of(table.remove("sinks"));
    for (kind, entry) in tables_of(table.remove("sources")) {
        if let Some(section) = config.sources.get_mut(&kind) {
            section.doors = tables_of(entry.get("doors").cloned());
        }
    }
    resolved
}

/// Named tables as one TOML table.
fn into_table<K: Into<String>>(tables: impl IntoIterator<Item = (K, toml::Table)>) -> toml::Table {
    tables
        .into_iter()
        .map(|(name, table)| (name.into(), toml::Value::Table(table)))
        .collect()
}

/// The tables inside a TOML table value, by name (the inverse of [`into_table`]).
fn tables_of(value: Option<toml::Value>) -> BTreeMap<String, toml::Table> {
    let Some(toml::Value::Table(table)) = value else {
        return BTreeMap::new();
    };
    table
        .into_iter()
        .filter_map(|(name, value)| match value {
            toml::Value::Table(table) => Some((name, table)),
            _ => None,
        })
        .collect()
}

impl SecretsLoader {
    pub fn new() -> Self {
        Self::default()
    }

    pub async fn load(
        &mut self,
        path: Option<&Path>,
        env: Vec<(String, String)>,
    ) -> Result<Config, LoadError> {
        let (name, text) = Config::read(path)?;
        let mut table = Config::parse_table(&name, &text, env.iter().cloned())?;
        self.resolve(&mut table, &env).await?;
        Config::from_table(&name, table)
    }

    /// Replace every `vault:` string of `table` (outside `[vault]`).
    pub async fn resolve(
        &mut self,
        table: &mut toml::Table,
        env: &[(String, String)],
    ) -> Result<(), SecretsError> {
        if reference::collect(table)?.is_empty() {
            return Ok(());
        }
        let settings = VaultSettings::from_table(table)?;
        self.resolve_with(table, &settings, env).await
    }

    /// [`SecretsLoader::resolve`] with the `[vault]` settings given apart
    /// (a configuration already interpreted keeps them typed).
    async fn resolve_with(
        &mut self,
        table: &mut toml::Table,
        settings: &VaultSettings,
        env: &[(String, String)],
    ) -> Result<(), SecretsError> {
        let found = reference::collect(table)?;
        let Some((first_location, first)) = found.iter().next() else {
            return Ok(());
        };
        let settings = settings
            .resolve(env)?
            .ok_or_else(|| SecretsError::NoAddress {
                location: first_location.clone(),
                reference: first.to_string(),
            })?;
        let session = self.session_for(settings).await?;

        // One read per secret, however many of its keys are used.
        let mut secrets: BTreeMap<(String, String), Result<Map<String, Value>, ReadError>> =
            BTreeMap::new();
        for reference in found.values() {
            if let Entry::Vacant(slot) = secrets.entry(reference.secret()) {
                let read = session
                    .api
                    .read_kv(&session.token, &reference.mount, &reference.path)
                    .await;
                slot.insert(read);
            }
        }
        // A refused token (revoked, or expired early) must not be reused:
        // the next load logs in again.
        let refused = secrets
            .values()
            .any(|read| matches!(read, Err(ReadError::Other(reason)) if reason.starts_with("403")));
        if refused {
            self.session = None;
        }
        let mut values = HashMap::new();
        for (location, reference) in &found {
            let failed = |reason: String| SecretsError::Read {
                location: location.clone(),
                reference: format!("vault:{reference}"),
                reason,
            };
            let data = match secrets.get(&reference.secret()) {
                Some(Ok(data)) => data,
                Some(Err(ReadError::NotFound)) | None => {
                    return Err(failed(format!(
                        "no secret at {}/{} (KV v2 path {}/data/{})",
                        reference.mount, reference.path, reference.mount, reference.path
                    )))
                }
                Some(Err(ReadError::Other(reason))) => return Err(failed(reason.clone())),
            };
            match data.get(&reference.key) {
                Some(Value::String(value)) if !value.is_empty() => {
                    values.insert(reference.clone(), value.clone());
                }
                Some(Value::String(_)) => {
                    return Err(failed(format!("key {:?} is empty", reference.key)))
                }
                Some(_) => return Err(failed(format!("key {:?} is not a string", reference.key))),
                None => {
                    return Err(failed(format!(
                        "no key {:?} in {}/{}",
                        reference.key, reference.mount, reference.path
                    )))
                }
            }
        }
        reference::fill(table, &values);
        tracing::info!(
            references = found.len(),
            secrets = secrets.len(),
            "vault: secrets read"
        );
        Ok(())
    }

    /// The previous session when it has the same settings and its token is
    /// still valid; else a new login (the old session's renewal stops).
    async fn session_for(
        &mut self,
        settings: settings::Resolved,
    ) -> Result<&Session, SecretsError> {
        let reusable = self
            .session
            .as_ref()
            .is_some_and(|s| s.settings == settings && s.is_fresh());
        if !reusable {
            self.session = None;
            self.session = Some(Session::open(settings).await?);
            self.logins += 1;
        }
        self.session.as_ref().ok_or(SecretsError::NoCredentials)
    }

    /// How many times a load had to log in (or look a token up) anew.
    pub fn logins(&self) -> u64 {
        self.logins
    }

    /// The current session, if a load used the vault.
    pub fn session_info(&self) -> Option<SessionInfo> {
        self.session.as_ref().map(Session::info)
    }
}
