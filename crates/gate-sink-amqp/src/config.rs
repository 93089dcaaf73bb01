use std::path::PathBuf;

use gate_core::Secret;
use serde::{Deserialize, Serialize};

/// `[sinks.<name>]` with `kind = "amqp"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:port/vhost` (or `amqps://`); a secret since
    /// it holds the password (it may be an `env:`/`file:` reference).
    #[serde(default)]
    pub url: Option<Secret>,
    /// Several brokers (the nodes of a cluster), tried in order; on a lost
    /// connection the sink moves on to the next one. Instead of `url`.
    #[serde(default)]
    pub urls: Vec<Secret>,
    /// Durable topic exchange for notifications.
    #[serde(default = "default_exchange")]
    pub exchange: String,
    /// Declare the exchanges (and the catch-all queue) on connect. Off when
    /// the broker's topology is managed elsewhere and the user may not declare.
    #[serde(default = "default_true")]
    pub declare_exchange: bool,
    /// Optional exchange that receives the raw source payload with the key
    /// `<door>.<group>.<event>` (e.g. `github_events`). It is its own stream:
    /// the gateway knows it as the sink `<name>.raw`, with its own action.
    #[serde(default)]
    pub raw_exchange: Option<String>,
    /// What to do with a message no queue is bound for.
    #[serde(default)]
    pub unroutable: Unroutable,
    /// Declare `exchange` with the catch-all exchange as its
    /// `alternate-exchange`, so the broker itself keeps what no queue wants.
    /// Off: the exchange is declared plain (consumers that declare it
    /// themselves without that argument keep working) and the sink keeps
    /// what the broker returns to it.
    #[serde(default = "default_true")]
    pub alternate_exchange: bool,
    /// Fanout exchange of the catch-all (default `<exchange>.unroutable`).
    #[serde(default)]
    pub catch_all_exchange: Option<String>,
    /// Durable queue bound to it (default `<exchange>.unroutable`).
    #[serde(default)]
    pub catch_all_queue: Option<String>,
    /// Bound of the catch-all queue, in messages. When it is full the broker
    /// refuses further unroutable messages and the gateway spools them.
    #[serde(default = "default_catch_all_max_length")]
    pub catch_all_max_length: u64,
    /// `quorum` (replicated, for clusters) or `classic`.
    #[serde(default)]
    pub catch_all_queue_type: QueueType,
    /// `/ready` warns while at least this many messages went to the
    /// catch-all (or were dropped) in the last minute (0: never).
    #[serde(default = "default_unroutable_warn_per_minute")]
    pub unroutable_warn_per_minute: u64,
    /// PEM file of the certificate authorities that signed the brokers'
    /// certificates (`amqps://`), in addition to the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (chain) presented to the broker.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file` (PKCS#8, PKCS#1 or SEC1). Its contents
    /// are never printed.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// `plain` (user and password of the URL) or `external` (the client
    /// certificate identifies the user; RabbitMQ's rabbitmq_auth_mechanism_ssl).
    #[serde(default)]
    pub auth_mechanism: AuthMechanism,
    /// How long to wait for the broker's confirm; below GitHub's 10 s
    /// delivery timeout so the gate can still answer in time.
    #[serde(default = "default_confirm_timeout_ms")]
    pub confirm_timeout_ms: u64,
    /// How long one connection attempt (to one address) may take.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// After a failed connection attempt, requests fail fast for this long
    /// instead of each trying to connect again.
    #[serde(default = "default_retry_interval_ms")]
    pub reconnect_interval_ms: u64,
}

/// What happens to a message that no queue is bound for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unroutable {
    /// The catch-all queue keeps it, where an operator can see and replay
    /// it: the exchange's alternate exchange routes it there (or, when the
    /// exchange exists without one, the sink publishes it there itself).
    #[default]
    Keep,
    /// Drop it: the action is `skipped` with error type `unroutable`.
    Drop,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueType {
    #[default]
    Quorum,
    Classic,
}

impl QueueType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Quorum => "quorum",
            Self::Classic => "classic",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMechanism {
    #[default]
    Plain,
    External,
}

impl AmqpConfig {
    /// The broker addresses, in the order they are tried.
    pub(crate) fn addresses(&self) -> Vec<&Secret> {
        self.url.iter().chain(&self.urls).collect()
    }

    pub(crate) fn catch_all_exchange(&self) -> String {
        self.catch_all_exchange
            .clone()
            .unwrap_or_else(|| format!("{}.unroutable", self.exchange))
    }

    pub(crate) fn catch_all_queue(&self) -> String {
        self.catch_all_queue
            .clone()
            .unwrap_or_else(|| format!("{}.unroutable", self.exchange))
    }

    /// Every problem of the settings themselves (no file, no network).
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match (&self.url, self.urls.is_empty()) {
            (None, true) => problems.push("set url (one broker) or urls (several)".to_owned()),
            (Some(_), false) => problems.push("set url or urls, not both".to_owned()),
            _ => {}
        }
        if self.exchange.trim().is_empty() {
            problems.push("exchange must not be empty".into());
        }
        if self.confirm_timeout_ms == 0 || self.confirm_timeout_ms >= 10_000 {
            problems.push(
                "confirm_timeout_ms must be between 1 and 9999 (GitHub gives up after 10 s)".into(),
            );
        }
        if self.unroutable == Unroutable::Keep {
            if self.catch_all_exchange() == self.exchange {
                problems.push("catch_all_exchange must differ from exchange".into());
            }
            if self.catch_all_max_length == 0 {
                problems.push("catch_all_max_length must be at least 1".into());
            }
        }
        if self.cert_file.is_some() != self.key_file.is_some() {
            problems.push("cert_file and key_file go together".into());
        }
        if self.auth_mechanism == AuthMechanism::External && self.cert_file.is_none() {
            problems.push(
                "auth_mechanism = \"external\" needs a client certificate (cert_file, key_file)"
                    .into(),
            );
        }
        problems
    }
}

fn default_exchange() -> String {
    "notifications".into()
}
fn default_true() -> bool {
    true
}
fn default_catch_all_max_length() -> u64 {
    100_000
}
fn default_unroutable_warn_per_minute() -> u64 {
    1
}
fn default_confirm_timeout_ms() -> u64 {
    5_000
}
fn default_connect_timeout_ms() -> u64 {
    2_000
}
fn default_retry_interval_ms() -> u64 {
    1_000
}
