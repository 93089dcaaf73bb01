use std::collections::BTreeMap;

use gate_core::Secret;
use serde::{Deserialize, Serialize};

use crate::TargetUrl;

/// `[sinks.<name>]` with `kind = "http"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSinkConfig {
    pub url: TargetUrl,
    #[serde(default)]
    pub body: BodyKind,
    /// Signs the body: `X-Gate-Signature: sha256=<hex HMAC-SHA256>`.
    #[serde(
        default,
        serialize_with = "Secret::serialize_optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub secret: Option<Secret>,
    /// Extra headers. Values are secrets (they often hold an
    /// `Authorization`), so they may be `env:`/`file:` references and show
    /// as `"set"`.
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Attempts after the first one.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First backoff; doubles at each retry, capped at `MAX_BACKOFF`.
    #[serde(default = "default_retry_backoff_ms")]
    pub retry_backoff_ms: u64,
}

/// What is posted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyKind {
    /// The notification, seven keys.
    #[default]
    Notification,
    /// The source payload as received (`rawContent`).
    Raw,
}

fn default_timeout_ms() -> u64 {
    5000
}

fn default_retries() -> u32 {
    3
}

fn default_retry_backoff_ms() -> u64 {
    200
}
