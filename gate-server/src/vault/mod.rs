//! Secrets from Vault/OpenBao (KV version 2): a configuration string
//! `vault:MOUNT/PATH#KEY` is replaced by that key's value before the
//! configuration is interpreted, so every plugin sees a plain value and
//! `gate_core::Secret` itself never talks to a vault. References plugins
//! meet in files of their own are found by a first, offline validation and
//! read with the others; plugins get their values through
//! `gate_core::SecretResolver` ([`SecretValues`]). Values are read again at
//! every load (start and reload); the token is kept and renewed.
//! [`load_offline`] reads nothing (`config check`).

mod api;
mod error;
mod reference;
mod resolver;
mod session;
mod settings;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::path::Path;

use serde_json::{Map, Value};

pub use error::SecretsError;
pub use reference::Reference;
pub use resolver::SecretValues;
pub use session::SessionInfo;
pub use settings::VaultSettings;

use crate::config::{Config, LoadError};
use api::ReadError;
use session::Session;

/// Each secret (mount, path) read in one load, or why it could not be.
type SecretsRead = BTreeMap<(String, String), Result<Map<String, Value>, ReadError>>;

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
/// What `serve` (and its reloads), `simulate`, `config check --online` and
/// the operator commands use. Must run inside the Tokio runtime.
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

/// Load without contacting the vault (`config check`, `config show`): every
/// `vault:` reference, in the TOML file or met by a plugin in a file of its
/// own, is checked for its form and left unread (a pending secret), and
/// [`crate::Gateway::check`] reports a `[vault]` section that could not
/// reach a vault when some reference needs one.
pub fn load_offline(
    path: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, LoadError> {
    let env: Vec<(String, String)> = env.into_iter().collect();
    let (name, text) = Config::read(path)?;
    let table = Config::parse_table(&name, &text, env.iter().cloned())?;
    let found = reference::collect(&table)?;
    let vault = usable(&table, &env);
    Config::from_table_with(&name, table, SecretValues::checking(found.values(), vault))
}

/// Whether the `[vault]` settings and the environment name a vault and
/// credentials (checked without contacting it).
fn usable(table: &toml::Table, env: &[(String, String)]) -> Result<(), String> {
    match VaultSettings::from_table(table).and_then(|s| s.resolve(env)) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("no vault configured (set [vault] address or VAULT_ADDR)".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// The `vault:` references plugins meet while validated, in files of their
/// own (a Docker Hub trigger map): a validation without any I/O but reading
/// those files, whose errors the real build reports again.
fn met_by_plugins(name: &str, table: &toml::Table) -> BTreeSet<Reference> {
    let checking = SecretValues::checking([], Ok(()));
    match Config::from_table_with(name, table.clone(), checking) {
        Ok(config) => met_in(config),
        Err(_) => BTreeSet::new(),
    }
}

/// [`met_by_plugins`] for a configuration already interpreted.
fn met_in(mut config: Config) -> BTreeSet<Reference> {
    let checking = SecretValues::checking([], Ok(()));
    config.secrets = checking.clone();
    if let Ok(registry) = crate::registry() {
        let _ = crate::Gateway::validate(config, &registry);
    }
    checking.met()
}

/// Replace the `vault:` references still in a configuration read without
/// [`load_with_secrets`] (`Config::parse`, `Config::load`, or built in code):
/// those of the sinks' and doors' tables, which plugins interpret only when
/// the gateway is built. Uses the configuration's `[vault]` section, else
/// `VAULT_ADDR`/`VAULT_TOKEN` from `env`, and the process's session, as
/// `serve` does; the references plugins meet in files of their own are read
/// too, for the gateway's build. (Typed sections such as `[dedup] redis_url` are
/// interpreted by the parse itself: a `vault:` there needs
/// [`load_with_secrets`].)
pub async fn resolve_config(
    config: &mut Config,
    env: &[(String, String)],
) -> Result<(), SecretsError> {
    // A configuration from `load_with_secrets` has its plugins' references
    // read already (`serve` hands it over): they are not read twice. Else
    // they are found before the tables are taken apart, since plugins
    // validate from them.
    let read_at_load = config.secrets.is_read();
    let mut in_files = if read_at_load {
        BTreeSet::new()
    } else {
        met_in(config.clone())
    };
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
        Ok(found) => {
            in_files.retain(|r| !found.values().any(|known| known == r));
            let settings = match &config.vault {
                Some(settings) => settings.clone(),
                None => VaultSettings::from_table(&toml::Table::new())?,
            };
            let mut loader = LOADER.lock().await;
            loader
                .resolve(&mut table, &settings, &found, &in_files, env)
                .await
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
    let values = resolved?;
    // Plugins' own files (a Docker Hub trigger map) get theirs when built.
    if !read_at_load {
        config.secrets = SecretValues::read(values);
    }
    Ok(())
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

    /// Read the file, resolve every `vault:` reference (the TOML file's and
    /// those plugins meet in their own files), then interpret. The
    /// configuration carries the values read for the plugins' references.
    pub async fn load(
        &mut self,
        path: Option<&Path>,
        env: Vec<(String, String)>,
    ) -> Result<Config, LoadError> {
        let (name, text) = Config::read(path)?;
        let mut table = Config::parse_table(&name, &text, env.iter().cloned())?;
        let in_table = reference::collect(&table)?;
        let mut in_files = met_by_plugins(&name, &table);
        // Secret settings of the TOML file are met too: those are in_table's.
        in_files.retain(|r| !in_table.values().any(|known| known == r));
        let settings = VaultSettings::from_table(&table)?;
        let values = self
            .resolve(&mut table, &settings, &in_table, &in_files, &env)
            .await?;
        Config::from_table_with(&name, table, SecretValues::read(values))
    }

    /// Replace every `vault:` string of `table` (outside `[vault]`) by its
    /// value, and read the references of `in_files` too: their failures are
    /// kept for the plugin, which names where it met them.
    async fn resolve(
        &mut self,
        table: &mut toml::Table,
        settings: &VaultSettings,
        found: &BTreeMap<String, Reference>,
        in_files: &BTreeSet<Reference>,
        env: &[(String, String)],
    ) -> Result<HashMap<Reference, Result<String, String>>, SecretsError> {
        if found.is_empty() && in_files.is_empty() {
            return Ok(HashMap::new());
        }
        let settings = match settings.resolve(env)? {
            Some(settings) => settings,
            None => match found.iter().next() {
                Some((location, first)) => {
                    return Err(SecretsError::NoAddress {
                        location: location.clone(),
                        reference: first.to_string(),
                    })
                }
                None => {
                    let reason = "no vault configured (set [vault] address or VAULT_ADDR)";
                    return Ok(in_files
                        .iter()
                        .map(|r| (r.clone(), Err(reason.to_owned())))
                        .collect());
                }
            },
        };
        let session = self.session_for(settings).await?;

        // One read per secret, however many of its keys are used.
        let mut secrets: SecretsRead = BTreeMap::new();
        for reference in found.values().chain(in_files) {
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
        let values: HashMap<Reference, Result<String, String>> = found
            .values()
            .chain(in_files)
            .map(|reference| (reference.clone(), value_of(reference, &secrets)))
            .collect();
        let mut plain = HashMap::new();
        for (location, reference) in found {
            match &values[reference] {
                Ok(value) => {
                    plain.insert(reference.clone(), value.clone());
                }
                Err(reason) => {
                    return Err(SecretsError::Read {
                        location: location.clone(),
                        reference: format!("vault:{reference}"),
                        reason: reason.clone(),
                    })
                }
            }
        }
        reference::fill(table, &plain);
        tracing::info!(
            references = values.len(),
            in_plugin_files = in_files.len(),
            secrets = secrets.len(),
            "vault: secrets read"
        );
        Ok(values)
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

/// The value of one key of a secret read, or why there is none (naming the
/// reference's parts, never a value).
fn value_of(reference: &Reference, secrets: &SecretsRead) -> Result<String, String> {
    let data = match secrets.get(&reference.secret()) {
        Some(Ok(data)) => data,
        Some(Err(ReadError::NotFound)) | None => {
            return Err(format!(
                "no secret at {}/{} (KV v2 path {}/data/{})",
                reference.mount, reference.path, reference.mount, reference.path
            ))
        }
        Some(Err(ReadError::Other(reason))) => return Err(reason.clone()),
    };
    match data.get(&reference.key) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        Some(Value::String(_)) => Err(format!("key {:?} is empty", reference.key)),
        Some(_) => Err(format!("key {:?} is not a string", reference.key)),
        None => Err(format!(
            "no key {:?} in {}/{}",
            reference.key, reference.mount, reference.path
        )),
    }
}
