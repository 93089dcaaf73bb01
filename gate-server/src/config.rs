//! The configuration file: one TOML document, every value overridable by an
//! environment variable (`GATE__SERVER__LISTEN=0.0.0.0:8080`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Used when no file is given: every built-in source on a `demo` door that
/// needs no signature, delivering to a local JSON-lines file. Listening on
/// loopback only, so the unsigned doors are not reachable from elsewhere.
pub const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

/// Prefix of environment overrides; `__` separates key path segments.
pub const ENV_PREFIX: &str = "GATE__";

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: invalid TOML: {reason}")]
    Syntax { path: String, reason: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("environment override {name}: {reason}")]
    Override { name: String, reason: String },
    #[error(transparent)]
    Secrets(#[from] crate::vault::SecretsError),
}

/// The loaders that also resolve `vault:` references, or check them offline
/// (see `vault/mod.rs`).
pub use crate::vault::{load_offline, load_with_secrets};

/// The whole configuration, before plugins interpret their sections.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    /// Sink instances by name; each table has a `kind` and the plugin's keys.
    #[serde(default)]
    pub sinks: BTreeMap<String, toml::Table>,
    /// Sources by registered kind (`GitHub`, `DockerHub`...).
    #[serde(default)]
    pub sources: BTreeMap<String, SourceSection>,
    /// Where `vault:` references are read (see `load_with_secrets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<crate::vault::VaultSettings>,
    #[serde(default)]
    pub spool: SpoolConfig,
    #[serde(default)]
    pub dedup: DedupConfig,
    /// Recent deliveries per door (`GET /deliveries`, the page, the CLI).
    #[serde(default)]
    pub deliveries: crate::deliveries::DeliveriesConfig,
    /// Where each GitHub door's hook lives, to have GitHub redeliver what
    /// failed (`gate-server github redeliver`, periodic mode).
    #[serde(default)]
    pub github_recovery: gate_github_hooks::RecoveryConfig,
    /// What clients of the original Notifications Center rely on.
    #[serde(default)]
    pub compat: crate::compat::CompatConfig,
    /// How `vault:` references met by plugins (in files of their own) are
    /// answered: read at load, or only checked (`config check`).
    #[serde(skip)]
    pub secrets: crate::vault::SecretValues,
}

/// `[spool]`: where events wait when a sink cannot confirm them in time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolConfig {
    /// Without a spool, a sink failure is answered 503 and nothing is kept.
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default = "default_spool_path")]
    pub path: std::path::PathBuf,
    /// When full, new failures are answered 503 (never dropped silently).
    #[serde(default = "default_spool_max_entries")]
    pub max_entries: u64,
    /// First wait before retrying a sink that failed; doubles up to the max.
    #[serde(default = "default_retry_initial_ms")]
    pub retry_initial_ms: u64,
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            path: default_spool_path(),
            max_entries: default_spool_max_entries(),
            retry_initial_ms: default_retry_initial_ms(),
            retry_max_ms: default_retry_max_ms(),
        }
    }
}

fn default_spool_path() -> std::path::PathBuf {
    "spool/gate.redb".into()
}
fn default_spool_max_entries() -> u64 {
    1_000_000
}
fn default_retry_initial_ms() -> u64 {
    500
}
fn default_retry_max_ms() -> u64 {
    30_000
}

/// `[dedup]`: delivery ids remembered to answer redeliveries "duplicate".
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupConfig {
    /// 0 disables deduplication.
    #[serde(default = "default_dedup_window_s")]
    pub window_seconds: u64,
    /// The memory store's bound (the Redis store expires ids by TTL).
    #[serde(default = "default_dedup_max_entries")]
    pub max_entries: usize,
    /// `memory` (this process) or `redis` (shared by several gateways).
    #[serde(default)]
    pub store: DedupStore,
    /// `redis://[user:password@]host:port[/db]` or `rediss://` (TLS).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "gate_core::Secret::serialize_optional"
    )]
    pub redis_url: Option<gate_core::Secret>,
    /// Prefix of every key, so gateways of different deployments can share
    /// one Redis.
    #[serde(default = "default_dedup_key_prefix")]
    pub key_prefix: String,
    /// A claim (delivery in progress) expires after this, freeing the id
    /// if its gateway died mid-delivery.
    #[serde(default = "default_dedup_claim_ttl_ms")]
    pub claim_ttl_ms: u64,
    /// Each Redis call must answer within this, else the delivery goes on
    /// without deduplication.
    #[serde(default = "default_dedup_redis_timeout_ms")]
    pub redis_timeout_ms: u64,
}

/// `[dedup] store`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DedupStore {
    #[default]
    Memory,
    Redis,
}

impl std::fmt::Display for DedupStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DedupStore::Memory => "memory",
            DedupStore::Redis => "redis",
        })
    }
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self {
            window_seconds: default_dedup_window_s(),
            max_entries: default_dedup_max_entries(),
            store: DedupStore::Memory,
            redis_url: None,
            key_prefix: default_dedup_key_prefix(),
            claim_ttl_ms: default_dedup_claim_ttl_ms(),
            redis_timeout_ms: default_dedup_redis_timeout_ms(),
        }
    }
}

impl DedupConfig {
    /// The Redis URL of `store = "redis"`, checked without connecting (and
    /// without a runtime: `config check`); `None` for the memory store.
    pub fn checked_redis_url(&self) -> Result<Option<&str>, String> {
        if self.store == DedupStore::Memory {
            return Ok(None);
        }
        let url = self
            .redis_url
            .as_ref()
            .ok_or("store = \"redis\" needs redis_url")?;
        let url = std::str::from_utf8(url.expose()).map_err(|_| "redis_url is not UTF-8")?;
        if self.claim_ttl_ms == 0 || self.redis_timeout_ms == 0 {
            return Err("claim_ttl_ms and redis_timeout_ms must be above 0".into());
        }
        // A pending URL (a `vault:` reference `config check` does not read)
        // has no form to check yet.
        if self
            .redis_url
            .as_ref()
            .is_some_and(gate_core::Secret::is_pending)
        {
            return Ok(Some(url));
        }
        crate::dedup::SharedStore::check_url(url)?;
        Ok(Some(url))
    }

    /// The shared store `store = "redis"` asks for (connected lazily; must
    /// run inside the Tokio runtime).
    pub fn shared_store(&self) -> Result<Option<crate::dedup::SharedStore>, String> {
        let Some(url) = self.checked_redis_url()? else {
            return Ok(None);
        };
        crate::dedup::SharedStore::new(
            url,
            &self.key_prefix,
            std::time::Duration::from_millis(self.claim_ttl_ms),
            std::time::Duration::from_millis(self.redis_timeout_ms),
        )
        .map(Some)
    }
}

fn default_dedup_key_prefix() -> String {
    "gate:dedup:".into()
}
fn default_dedup_claim_ttl_ms() -> u64 {
    30_000
}
fn default_dedup_redis_timeout_ms() -> u64 {
    500
}

fn default_dedup_window_s() -> u64 {
    24 * 3600
}
fn default_dedup_max_entries() -> usize {
    100_000
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// `text` or `json` log lines (`--log-format` and `GATE_LOG_FORMAT`
    /// win); read once at start.
    #[serde(default)]
    pub log_format: crate::launch::LogFormat,
    /// Largest accepted body; GitHub's own cap is 25 MiB.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// Serve `GET /config` (secrets always redacted).
    #[serde(default = "default_true")]
    pub expose_config: bool,
    /// A client must send its request headers within this time.
    #[serde(default = "default_header_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// Sinks used by doors that name none.
    #[serde(default)]
    pub default_sinks: Vec<String>,
    /// The groups consumers listen to. When set, a door whose rules,
    /// `default_group` or `admin_group` name another group is a
    /// configuration error: a typo would otherwise route to nobody.
    #[serde(default)]
    pub known_groups: Vec<String>,
    /// A sink that has not confirmed within this time is spooled (or, with
    /// no spool, failed), so the sender gets an answer before its own
    /// timeout (GitHub waits 10 s).
    #[serde(default = "default_delivery_deadline_ms")]
    pub delivery_deadline_ms: u64,
    /// The whole body must arrive within this time.
    #[serde(default = "default_body_timeout_ms")]
    pub body_read_timeout_ms: u64,
    /// Connections served at once; further clients wait to be accepted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Answer every gate with 503 and Retry-After (reload with SIGHUP).
    #[serde(default)]
    pub maintenance: bool,
    #[serde(default = "default_retry_after_s")]
    pub maintenance_retry_after_s: u64,
    /// Request body bytes held in memory at once, all requests together;
    /// past it, requests get 503 with Retry-After before their body is
    /// read. At least the largest `max_body_bytes` of any door.
    #[serde(default = "default_max_body_bytes_in_flight")]
    pub max_body_bytes_in_flight: u64,
    /// A new connection must send its first byte within this time (before
    /// HTTP/1 or HTTP/2 is even known).
    #[serde(default = "default_first_byte_timeout_ms")]
    pub first_byte_timeout_ms: u64,
    /// A connection with no request in progress is closed after this time
    /// (keep-alive, HTTP/1 and HTTP/2 alike); bytes that make no request
    /// (pings, partial headers) do not extend it.
    #[serde(default = "default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// Connections at once from one client address (an IPv6 /64 counts as
    /// one address); 0 for no cap. Raise it behind a reverse proxy, whose
    /// connections all come from one address.
    #[serde(default = "default_max_connections_per_address")]
    pub max_connections_per_address: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            log_format: crate::launch::LogFormat::default(),
            max_body_bytes: default_max_body_bytes(),
            expose_config: true,
            header_read_timeout_ms: default_header_timeout_ms(),
            default_sinks: Vec::new(),
            known_groups: Vec::new(),
            delivery_deadline_ms: default_delivery_deadline_ms(),
            body_read_timeout_ms: default_body_timeout_ms(),
            max_connections: default_max_connections(),
            maintenance: false,
            maintenance_retry_after_s: default_retry_after_s(),
            max_body_bytes_in_flight: default_max_body_bytes_in_flight(),
            first_byte_timeout_ms: default_first_byte_timeout_ms(),
            idle_timeout_ms: default_idle_timeout_ms(),
            max_connections_per_address: default_max_connections_per_address(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_max_body_bytes() -> u64 {
    25 * 1024 * 1024
}
fn default_true() -> bool {
    true
}
fn default_header_timeout_ms() -> u64 {
    10_000
}
fn default_delivery_deadline_ms() -> u64 {
    8_000
}
fn default_body_timeout_ms() -> u64 {
    30_000
}
fn default_max_connections() -> usize {
    1_024
}
fn default_retry_after_s() -> u64 {
    60
}
fn default_max_body_bytes_in_flight() -> u64 {
    256 * 1024 * 1024
}
fn default_first_byte_timeout_ms() -> u64 {
    5_000
}
fn default_idle_timeout_ms() -> u64 {
    30_000
}
fn default_max_connections_per_address() -> usize {
    128
}

/// `[sources.<Kind>]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    /// Sinks for this source's doors that name none (else the server's).
    #[serde(default)]
    pub sinks: Vec<String>,
    /// Doors by name: the last URL segment, `/gate/<Kind>/<door>`.
    #[serde(default)]
    pub doors: BTreeMap<String, toml::Table>,
}

impl Config {
    /// Read a file, or the embedded default when `path` is `None`, then apply
    /// the environment overrides.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, LoadError> {
        let (name, text) = Self::read(path)?;
        Self::parse(&name, &text, env)
    }

    /// The file's name (for messages) and text, or the embedded default.
    pub fn read(path: Option<&Path>) -> Result<(String, String), LoadError> {
        Ok(match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| LoadError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                (path.display().to_string(), text)
            }
            None => (
                "<default configuration>".to_owned(),
                DEFAULT_CONFIG.to_owned(),
            ),
        })
    }

    pub fn parse(
        name: &str,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, LoadError> {
        Self::from_table(name, Self::parse_table(name, text, env)?)
    }

    /// The TOML table with the environment overrides applied, before
    /// interpretation (secret references are resolved on it).
    pub fn parse_table(
        name: &str,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<toml::Table, LoadError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| LoadError::Syntax {
            path: name.to_owned(),
            reason: one_line(&e),
        })?;
        for (var, value) in env {
            if let Some(path) = var.strip_prefix(ENV_PREFIX) {
                apply_override(&mut table, path, &value).map_err(|reason| LoadError::Override {
                    name: var.clone(),
                    reason,
                })?;
            }
        }
        Ok(table)
    }

    pub fn from_table(name: &str, table: toml::Table) -> Result<Self, LoadError> {
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| LoadError::Invalid {
                path: name.to_owned(),
                reason: one_line(&e),
            })
    }

    /// [`Config::from_table`] with `secrets` answering the `vault:`
    /// references of its secret settings, and kept for the plugins.
    pub fn from_table_with(
        name: &str,
        table: toml::Table,
        secrets: crate::vault::SecretValues,
    ) -> Result<Self, LoadError> {
        let mut config = secrets.scope(|| Self::from_table(name, table))?;
        config.secrets = secrets;
        Ok(config)
    }
}

/// The first line, without the value it complains about (a secret may be
/// written in the wrong place; see `gate_core::without_values`).
fn one_line(error: &toml::de::Error) -> String {
    let message = gate_core::without_values(error.message().lines().next().unwrap_or("invalid"));
    match error.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message,
    }
}

/// Set `a__b__c` in the table. Segments match existing keys
/// case-insensitively (environment names are usually upper-case while source
/// kinds are `GitHub`); new keys are lower-cased. The value is read as TOML
/// when it parses (`25`, `true`, `["a", "b"]`), else as a string.
fn apply_override(table: &mut toml::Table, path: &str, raw: &str) -> Result<(), String> {
    let segments: Vec<&str> = path.split("__").collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err("empty key segment".into());
    }
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let (last, parents) = segments.split_last().ok_or("empty name")?;
    let mut current = table;
    for segment in parents {
        let key = existing_key(current, segment);
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("{key} is not a table"))?;
    }
    let key = existing_key(current, last);
    current.insert(key, value);
    Ok(())
}

fn existing_key(table: &toml::Table, segment: &str) -> String {
    table
        .keys()
        .find(|k| k.eq_ignore_ascii_case(segment))
        .cloned()
        .unwrap_or_else(|| segment.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let config = Config::parse("t", "", []).expect("valid");
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.server.max_body_bytes, 25 * 1024 * 1024);
        assert!(config.server.expose_config);
    }

    #[test]
    fn environment_overrides_any_value() {
        let text = "[sources.GitHub.doors.acme]\nsecrets = [\"a\"]\n";
        let config = Config::parse(
            "t",
            text,
            env(&[
                ("GATE__SERVER__LISTEN", "0.0.0.0:9000"),
                ("GATE__SERVER__MAX_BODY_BYTES", "1024"),
                (
                    "GATE__SOURCES__GITHUB__DOORS__ACME__SECRETS",
                    "[\"b\", \"c\"]",
                ),
                ("GATE__SINKS__RABBIT__KIND", "amqp"),
                ("OTHER", "ignored"),
            ]),
        )
        .expect("valid");
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.server.max_body_bytes, 1024);
        let door = &config.sources["GitHub"].doors["acme"];
        assert_eq!(door["secrets"].as_array().map(Vec::len), Some(2));
        assert_eq!(config.sinks["rabbit"]["kind"].as_str(), Some("amqp"));
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let err = Config::parse("gate.toml", "[server\n", []).unwrap_err();
        assert!(
            err.to_string().starts_with("gate.toml: invalid TOML:"),
            "{err}"
        );
        let err = Config::parse("gate.toml", "[server]\nlisten = \"nowhere\"\n", []).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("gate.toml: invalid socket address"),
            "{err}"
        );
        let err = Config::parse("gate.toml", "[servr]\n", []).unwrap_err();
        assert!(err.to_string().contains("unknown field `servr`"), "{err}");
        let err = Config::parse("t", "", env(&[("GATE__SERVER____X", "1")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment override GATE__SERVER____X: empty key segment"
        );
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let err = Config::load(Some(Path::new("/nonexistent/gate.toml")), []).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/gate.toml:"),
            "{err}"
        );
    }
}
