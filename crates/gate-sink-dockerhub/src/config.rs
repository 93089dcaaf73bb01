use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

use crate::map::{Format, TriggerMap};

/// `[sinks.<name>]` with `kind = "dockerhub"`. At least one of the four
/// maps must be given; they are merged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerHubSinkConfig {
    /// The production `DockerHubTriggers.json`: per GitHub repository, the
    /// `source` and `trigger` ids of Docker Hub's build trigger URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers_file: Option<PathBuf>,
    /// The original's `DockerHubTokens.json`: `{"owner/repo": "<token>"}`
    /// for Docker Hub's legacy trigger URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_file: Option<PathBuf>,
    /// The same map as `triggers_file`, inline. Ids may be `env:`, `file:`
    /// or `vault:` references here and in the files alike.
    #[serde(
        default,
        deserialize_with = "inline_triggers",
        skip_serializing_if = "Option::is_none"
    )]
    pub triggers: Option<TriggerMap>,
    /// The same map as `tokens_file`, inline.
    #[serde(
        default,
        deserialize_with = "inline_tokens",
        skip_serializing_if = "Option::is_none"
    )]
    pub tokens: Option<TriggerMap>,
    /// Where the build trigger API lives (tests, proxies).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Where the legacy trigger API lives.
    #[serde(default = "default_legacy_base_url")]
    pub legacy_base_url: String,
    /// Per trigger call; below the gateway's delivery deadline.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn inline_triggers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TriggerMap>, D::Error> {
    inline(d, Format::Triggers, "triggers")
}

fn inline_tokens<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TriggerMap>, D::Error> {
    inline(d, Format::Tokens, "tokens")
}

fn inline<'de, D: Deserializer<'de>>(
    d: D,
    format: Format,
    key: &str,
) -> Result<Option<TriggerMap>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    TriggerMap::parse(&value, format, key)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn default_base_url() -> String {
    "https://hub.docker.com".into()
}

fn default_legacy_base_url() -> String {
    "https://registry.hub.docker.com".into()
}

fn default_timeout_ms() -> u64 {
    5000
}
