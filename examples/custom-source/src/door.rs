//! Door configuration: `[sources.Gitea.doors.<name>]`. The common keys
//! (`sinks`, `default_group`, `admin_group`, `groups`) are handled by the
//! gateway and gate-core; only this source's own keys are declared here.

use gate_core::Secret;
use serde::{Deserialize, Serialize};

/// A door as written in the configuration. `deny_unknown_fields` turns a
/// typo into a configuration error instead of a silently ignored key.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DoorConfig {
    /// The webhook's secret as set in Gitea; several allow rotation. Each
    /// may be inline or a reference (`env:NAME`, `file:PATH`) and shows as
    /// `"set"` in `/config`.
    #[serde(default)]
    pub secrets: Vec<Secret>,
}

/// A door ready for requests.
#[derive(Debug)]
pub struct GiteaDoor {
    pub secrets: Vec<Secret>,
}

impl GiteaDoor {
    /// A door without a secret would accept anyone's pushes: refuse it when
    /// the configuration is loaded, not at the first request.
    pub fn open(config: DoorConfig) -> Result<Self, String> {
        if config.secrets.is_empty() {
            return Err(
                "no webhook secret: set `secrets = [\"...\"]` to the secret of the Gitea webhook"
                    .into(),
            );
        }
        Ok(Self {
            secrets: config.secrets,
        })
    }
}
