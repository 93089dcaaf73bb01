//! A door's settings, as written in the configuration and as prepared for
//! requests.

use gate_core::Secret;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::network::{parse_cidr, AllowList, CidrError};
use crate::token::MIN_TOKEN_CHARS;

/// `[sources.DockerHub.doors.<door>]` beside the group-mapping keys.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DoorConfig {
    /// Required unless `insecure_no_token`; optional here only so that its
    /// absence gets a clear message.
    #[serde(default, serialize_with = "Secret::serialize_optional")]
    pub token: Option<Secret>,
    /// Accept requests without a token, as the original service did, while
    /// the webhook URLs on Docker Hub are changed to carry one. Anyone who
    /// can reach the door can then post notifications: the gateway warns
    /// about it at start and in `config check`.
    #[serde(default)]
    pub insecure_no_token: bool,
    /// Networks or addresses allowed to call the door; every address when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_ips: Option<Vec<String>>,
    /// Reverse proxies whose `X-Forwarded-For` names the real client.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
}

/// A door ready for requests.
#[derive(Debug)]
pub struct DockerHubDoor {
    /// `None` only when the door was opened with `insecure_no_token`.
    pub token: Option<Secret>,
    pub allow: Option<AllowList>,
}

/// Why a door cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoorError {
    #[error("token is required: Docker Hub cannot sign webhooks, so the door URL must carry an unguessable `?token=` (or set insecure_no_token = true while the URLs are migrated)")]
    MissingToken,
    #[error("token and insecure_no_token = true contradict each other")]
    TokenAndInsecure,
    #[error("token is too short: use at least {MIN_TOKEN_CHARS} random characters")]
    ShortToken,
    #[error("allow_ips is empty: omit it to allow every address")]
    EmptyAllowList,
    #[error("trusted_proxies has no effect without allow_ips")]
    ProxiesWithoutAllowList,
    #[error("{key}: {source}")]
    BadCidr {
        key: &'static str,
        source: CidrError,
    },
}

impl DoorConfig {
    pub fn open(self) -> Result<DockerHubDoor, DoorError> {
        let token = match (self.token, self.insecure_no_token) {
            (Some(_), true) => return Err(DoorError::TokenAndInsecure),
            (None, false) => return Err(DoorError::MissingToken),
            (None, true) => None,
            (Some(token), false) => {
                if gate_core::token::too_short(&token) {
                    return Err(DoorError::ShortToken);
                }
                Some(token)
            }
        };
        let allow = match self.allow_ips {
            None if self.trusted_proxies.is_empty() => None,
            None => return Err(DoorError::ProxiesWithoutAllowList),
            Some(allowed) if allowed.is_empty() => return Err(DoorError::EmptyAllowList),
            Some(allowed) => Some(AllowList::new(
                networks("allow_ips", &allowed)?,
                networks("trusted_proxies", &self.trusted_proxies)?,
            )),
        };
        Ok(DockerHubDoor { token, allow })
    }
}

fn networks(key: &'static str, items: &[String]) -> Result<Vec<IpNet>, DoorError> {
    items
        .iter()
        .map(|item| parse_cidr(item).map_err(|source| DoorError::BadCidr { key, source }))
        .collect()
}
