//! A door's settings, as written in the configuration and as prepared for
//! requests.

use gate_core::Secret;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::outcomes::LastOutcomes;
use crate::token::MIN_TOKEN_CHARS;

/// `[sources.Jenkins.doors.<door>]` beside the group-mapping keys.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DoorConfig {
    #[serde(default, serialize_with = "Secret::serialize_optional")]
    pub token: Option<Secret>,
    /// Accept unauthenticated requests; for closed networks only.
    #[serde(default)]
    pub insecure_no_token: bool,
    /// Job name patterns whose successful or in-progress builds are dropped
    /// (except the first success after a failure, which says it is fixed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_failures: Vec<String>,
}

/// A door ready for requests.
#[derive(Debug)]
pub struct JenkinsDoor {
    /// `None` only when the door was opened with `insecure_no_token`.
    pub token: Option<Secret>,
    pub only_failures: Option<GlobSet>,
    pub outcomes: LastOutcomes,
}

/// Why a door cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoorError {
    #[error("token is required: the Notification plugin cannot sign, so the door URL must carry an unguessable `?token=` (or set insecure_no_token = true on a closed network)")]
    MissingToken,
    #[error("token is too short: use at least {MIN_TOKEN_CHARS} random characters")]
    ShortToken,
    #[error("token and insecure_no_token = true contradict each other")]
    TokenAndInsecure,
    #[error("only_failures: bad glob {pattern:?}: {reason}")]
    BadGlob { pattern: String, reason: String },
}

impl DoorConfig {
    pub fn open(self) -> Result<JenkinsDoor, DoorError> {
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
        Ok(JenkinsDoor {
            token,
            only_failures: globs(&self.only_failures)?,
            outcomes: LastOutcomes::default(),
        })
    }
}

fn globs(patterns: &[String]) -> Result<Option<GlobSet>, DoorError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| DoorError::BadGlob {
            pattern: pattern.clone(),
            reason: e.kind().to_string(),
        })?;
        builder.add(glob);
    }
    builder.build().map(Some).map_err(|e| DoorError::BadGlob {
        pattern: patterns.join(", "),
        reason: e.kind().to_string(),
    })
}

impl JenkinsDoor {
    /// Whether this job reports only unsuccessful results; matched on the
    /// full name (`folder/job`) and on the last segment, like group rules.
    pub fn only_failures_for(&self, job: &str) -> bool {
        self.only_failures.as_ref().is_some_and(|set| {
            let short = job.rsplit('/').next().unwrap_or(job);
            set.is_match(job) || set.is_match(short)
        })
    }
}
