use std::time::Duration;

use gate_conduit::http::Client;
use gate_conduit::Conduit;
use gate_core::token::{too_short, MIN_TOKEN_CHARS};
use gate_core::Secret;
use serde::{Deserialize, Serialize};

use crate::resolve::Resolver;

/// A Phabricator door as written in `[sources.Phabricator.doors.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhabricatorDoorConfig {
    /// The Herald webhook's HMAC key (shown on the webhook's page).
    #[serde(default, serialize_with = "Secret::serialize_optional")]
    pub hook_key: Option<Secret>,
    /// Accept unsigned Herald webhooks when no `hook_key` is set, and feed
    /// hooks when no `token` is set.
    #[serde(default)]
    pub insecure_no_signature: bool,
    /// Accept legacy `feed.http-hooks` form posts (they cannot be signed).
    #[serde(default)]
    pub accept_feed_hooks: bool,
    /// Token that feed hooks must present (`?token=` or `X-Gate-Token`);
    /// required with `accept_feed_hooks` unless `insecure_no_signature`.
    #[serde(default, serialize_with = "Secret::serialize_optional")]
    pub token: Option<Secret>,
    /// The instance, for object names, links and projects.
    #[serde(default)]
    pub conduit_url: Option<String>,
    /// The instance's address, for links when Conduit is not configured
    /// (or cannot say); `conduit_url` serves when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_url: Option<String>,
    #[serde(default, serialize_with = "Secret::serialize_optional")]
    pub conduit_token: Option<Secret>,
    /// How long an object's projects are reused before asking again.
    #[serde(default = "default_cache_ttl_seconds")]
    pub cache_ttl_seconds: u64,
    /// Per Conduit call; calls run while the sender waits.
    #[serde(default = "default_conduit_timeout_ms")]
    pub conduit_timeout_ms: u64,
}

fn default_cache_ttl_seconds() -> u64 {
    300
}

fn default_conduit_timeout_ms() -> u64 {
    2000
}

/// A door ready for requests.
#[derive(Debug)]
pub struct PhabricatorDoor {
    pub(crate) config: PhabricatorDoorConfig,
    pub(crate) resolver: Option<Resolver>,
}

impl PhabricatorDoor {
    /// The instance's home page, for links Conduit did not give: its
    /// `instance_url`, else its `conduit_url`, else none.
    pub(crate) fn instance_link(&self) -> String {
        self.config
            .instance_url
            .as_deref()
            .or(self.config.conduit_url.as_deref())
            .map(|url| format!("{}/", url.trim_end_matches('/')))
            .unwrap_or_default()
    }

    pub fn open(config: PhabricatorDoorConfig) -> Result<Self, String> {
        if config.hook_key.is_none() && !config.insecure_no_signature && !config.accept_feed_hooks {
            return Err(
                "hook_key is required (or insecure_no_signature = true, or accept_feed_hooks = true)"
                    .into(),
            );
        }
        match &config.token {
            Some(_) if !config.accept_feed_hooks => {
                return Err("token is only used with accept_feed_hooks = true".into());
            }
            Some(token) if too_short(token) => {
                return Err(format!(
                    "token is too short: use at least {MIN_TOKEN_CHARS} random characters"
                ));
            }
            None if config.accept_feed_hooks && !config.insecure_no_signature => {
                return Err(
                    "accept_feed_hooks needs a token (or insecure_no_signature = true)".into(),
                );
            }
            _ => {}
        }
        if let Some(url) = &config.instance_url {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || url.contains(char::is_whitespace) {
                return Err(format!(
                    "instance_url must be an http(s) address, got {url:?}"
                ));
            }
        }
        let resolver = match (&config.conduit_url, &config.conduit_token) {
            (None, None) => None,
            (Some(_), None) => return Err("conduit_url needs conduit_token".into()),
            (None, Some(_)) => return Err("conduit_token needs conduit_url".into()),
            (Some(url), Some(token)) => {
                if config.conduit_timeout_ms == 0 {
                    return Err("conduit_timeout_ms must be greater than 0".into());
                }
                let client = Client::shared().map_err(|e| e.to_string())?;
                let conduit = Conduit::new(
                    url,
                    token.clone(),
                    client,
                    Duration::from_millis(config.conduit_timeout_ms),
                )
                .map_err(|e| format!("conduit_url: {e}"))?;
                Some(Resolver::new(
                    conduit,
                    Duration::from_secs(config.cache_ttl_seconds),
                ))
            }
        };
        Ok(Self { config, resolver })
    }
}
