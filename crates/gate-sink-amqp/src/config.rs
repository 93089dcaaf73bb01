use gate_core::Secret;
use serde::{Deserialize, Serialize};

/// `[sinks.<name>]` with `kind = "amqp"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:port/vhost`; a secret since it holds the
    /// password (it may be an `env:`/`file:` reference).
    pub url: Secret,
    /// Durable topic exchange for notifications.
    #[serde(default = "default_exchange")]
    pub exchange: String,
    /// Declare the exchange on connect (durable topic). Off when the broker's
    /// topology is managed elsewhere and the user may not declare.
    #[serde(default = "default_true")]
    pub declare_exchange: bool,
    /// Optional exchange that receives the raw source payload with the key
    /// `<door>.<group>.<event>` (e.g. `github_events`).
    #[serde(default)]
    pub raw_exchange: Option<String>,
    /// How long to wait for the broker's confirm; below GitHub's 10 s
    /// delivery timeout so the gate can still answer in time.
    #[serde(default = "default_confirm_timeout_ms")]
    pub confirm_timeout_ms: u64,
    /// How long one connection attempt may take.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// After a failed connection attempt, requests fail fast for this long
    /// instead of each trying to connect again.
    #[serde(default = "default_retry_interval_ms")]
    pub reconnect_interval_ms: u64,
}

fn default_exchange() -> String {
    "notifications".into()
}
fn default_true() -> bool {
    true
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
