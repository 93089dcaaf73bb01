use gate_core::Secret;
use serde::{Deserialize, Serialize};

/// `[sinks.<name>]` with `kind = "phabricator"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhabricatorSinkConfig {
    /// The instance, e.g. `https://phabricator.example.com`.
    pub conduit_url: String,
    /// A Conduit API token (`api-...`) of a bot allowed to see the mirrors.
    pub token: Secret,
    /// How long the answer "which Diffusion repository mirrors this GitHub
    /// repository" is reused.
    #[serde(default = "default_cache_ttl_seconds")]
    pub cache_ttl_seconds: u64,
    /// Per Conduit call.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_cache_ttl_seconds() -> u64 {
    300
}

fn default_timeout_ms() -> u64 {
    3000
}
