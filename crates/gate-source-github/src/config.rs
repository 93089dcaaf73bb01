//! Door configuration: secrets, signature policy and text templates.

use std::collections::{BTreeMap, HashMap};

use gate_core::Secret;
use serde::{Deserialize, Serialize};

use crate::events;
use crate::template::{Template, TemplateError};

/// A door as written under `[sources.GitHub.doors.<name>]`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DoorConfig {
    /// Webhook secrets; any of them verifies a request (rotation).
    #[serde(default)]
    pub secrets: Vec<Secret>,
    /// Accept the legacy `X-Hub-Signature` (HMAC-SHA1) when no SHA-256 one is sent.
    #[serde(default)]
    pub allow_sha1: bool,
    /// Accept requests without a signature (tests, trusted networks only).
    #[serde(default)]
    pub insecure_no_signature: bool,
    /// Text template per event name (or `default` for events without one).
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoorError {
    #[error(
        "no webhook secret: set `secrets = [\"...\"]` to the secret configured on GitHub, \
         or `insecure_no_signature = true` to accept unsigned requests"
    )]
    NoSecret,
    #[error("templates.{event}: no such event (templates exist for: {known})")]
    UnknownTemplateEvent { event: String, known: String },
    #[error("templates.{event}: {source}")]
    Template {
        event: String,
        source: TemplateError,
    },
}

/// A door ready for requests.
#[derive(Debug)]
pub struct GitHubDoor {
    pub secrets: Vec<Secret>,
    pub allow_sha1: bool,
    pub insecure_no_signature: bool,
    templates: HashMap<String, Template>,
}

impl GitHubDoor {
    pub fn open(config: DoorConfig) -> Result<Self, DoorError> {
        if config.secrets.is_empty() && !config.insecure_no_signature {
            return Err(DoorError::NoSecret);
        }
        let templates = config
            .templates
            .into_iter()
            .map(|(event, text)| {
                let Some(allowed) = events::placeholders(&event) else {
                    let known = events::template_keys().collect::<Vec<_>>();
                    return Err(DoorError::UnknownTemplateEvent {
                        event,
                        known: known.join(", "),
                    });
                };
                match Template::parse(&text, allowed) {
                    Ok(template) => Ok((event, template)),
                    Err(source) => Err(DoorError::Template { event, source }),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            secrets: config.secrets,
            allow_sha1: config.allow_sha1,
            insecure_no_signature: config.insecure_no_signature,
            templates,
        })
    }

    /// The template for `event`: its own, else `default` for events that have
    /// no renderer of their own.
    pub fn template_for(&self, event: &str) -> Option<&Template> {
        self.templates.get(event).or_else(|| {
            events::placeholders(event)
                .is_none()
                .then(|| self.templates.get("default"))
                .flatten()
        })
    }
}
