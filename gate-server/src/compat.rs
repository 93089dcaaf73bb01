//! `[compat]`: what clients of the original PHP Notifications Center rely
//! on and this gateway does otherwise by default (see docs/migration.md).

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use gate_core::ConfigError;

/// The original's gate list, in its order (its `/config` lists them so).
pub const ORIGINAL_GATES: [&str; 5] = [
    "Notification",
    "DockerHub",
    "GitHub",
    "Jenkins",
    "Phabricator",
];

/// The sources whose doors were the original's `credentials.json` services.
const CREDENTIAL_SOURCES: [&str; 2] = ["GitHub", "Phabricator"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompatConfig {
    /// What `GET /config` answers without `?schema=`: this gateway's report
    /// (`full`) or the original's `gates`/`features`/`services` (`original`).
    #[serde(default)]
    pub config_report: ConfigSchema,
    /// `Source/door` entries in the order of the original `credentials.json`,
    /// for the `services` of the original report (a stored copy compares
    /// lists in order). When empty, GitHub then Phabricator doors by name.
    #[serde(default)]
    pub config_services: Vec<String>,
    /// Status of an answer whose event waits in the spool: 202 (accepted,
    /// not yet delivered) or 200 for senders that fail on anything else.
    /// A door's `spooled_status` overrides it.
    #[serde(default = "default_spooled_status")]
    pub spooled_status: u16,
}

impl Default for CompatConfig {
    fn default() -> Self {
        Self {
            config_report: ConfigSchema::default(),
            config_services: Vec::new(),
            spooled_status: default_spooled_status(),
        }
    }
}

fn default_spooled_status() -> u16 {
    202
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigSchema {
    #[default]
    Full,
    Original,
}

impl ConfigSchema {
    /// `?schema=original|full` of a `/config` request; `None` when absent.
    pub fn from_query(query: Option<&str>) -> Result<Option<Self>, String> {
        let Some(value) = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| pair.strip_prefix("schema="))
        else {
            return Ok(None);
        };
        match value {
            "full" => Ok(Some(Self::Full)),
            "original" => Ok(Some(Self::Original)),
            other => Err(format!("unknown schema {other:?} (full or original)")),
        }
    }
}

/// 200 or 202, from a configured number; `location` names it in errors.
pub fn spooled_status(value: u16, location: &str) -> Result<StatusCode, ConfigError> {
    match value {
        200 => Ok(StatusCode::OK),
        202 => Ok(StatusCode::ACCEPTED),
        other => Err(ConfigError::new(
            location,
            format!("spooled_status must be 200 or 202, not {other}"),
        )),
    }
}

/// One service of the original report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub gate: String,
    pub door: String,
    pub instance: String,
}

/// The `Source/door` services of the report: the configured order, else
/// every GitHub then Phabricator door of `doors` (the named doors) by name.
/// A configured entry naming no door is an error.
pub fn services(
    configured: &[String],
    doors: &[(String, String)],
    location: &str,
) -> Result<Vec<(String, String)>, Vec<ConfigError>> {
    if configured.is_empty() {
        return Ok(CREDENTIAL_SOURCES
            .iter()
            .flat_map(|kind| doors.iter().filter(move |(k, _)| k == kind))
            .cloned()
            .collect());
    }
    let mut errors = Vec::new();
    let mut found = Vec::new();
    for (index, entry) in configured.iter().enumerate() {
        let here = format!("{location}[{index}]");
        match entry.split_once('/') {
            Some((kind, door)) if doors.iter().any(|(k, d)| k == kind && d == door) => {
                found.push((kind.to_owned(), door.to_owned()));
            }
            Some(_) => errors.push(ConfigError::new(
                &here,
                format!("{entry:?} is not a configured door"),
            )),
            None => errors.push(ConfigError::new(
                &here,
                format!("{entry:?} must be written Source/door"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// The original's `/config`: deterministic (no time, no counters), so a
/// stored copy can be compared with JSON equality.
pub fn original_report(
    gates: &[&str],
    expose_config: bool,
    services: &[Service],
) -> serde_json::Value {
    let services: Vec<_> = services
        .iter()
        .map(|s| json!({ "gate": s.gate, "door": s.door, "instance": s.instance, "status": "" }))
        .collect();
    json!({
        "gates": gates,
        "features": [
            { "name": "Gate", "enabled": !gates.is_empty() },
            { "name": "GetConfig", "enabled": expose_config },
            { "name": "ActionsReport", "enabled": true },
        ],
        "services": services,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_query() {
        assert_eq!(ConfigSchema::from_query(None), Ok(None));
        assert_eq!(ConfigSchema::from_query(Some("a=1")), Ok(None));
        assert_eq!(
            ConfigSchema::from_query(Some("a=1&schema=original")),
            Ok(Some(ConfigSchema::Original))
        );
        assert!(ConfigSchema::from_query(Some("schema=xml")).is_err());
    }

    #[test]
    fn services_follow_the_configured_order_or_the_original_sources() {
        let doors = vec![
            ("GitHub".to_owned(), "A".to_owned()),
            ("GitHub".to_owned(), "B".to_owned()),
            ("Jenkins".to_owned(), "A".to_owned()),
            ("Phabricator".to_owned(), "A".to_owned()),
        ];
        let names = |v: Vec<(String, String)>| {
            v.into_iter()
                .map(|(k, d)| format!("{k}/{d}"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(services(&[], &doors, "compat").expect("ok")),
            ["GitHub/A", "GitHub/B", "Phabricator/A"]
        );
        let order = ["Phabricator/A".to_owned(), "GitHub/B".to_owned()];
        assert_eq!(
            names(services(&order, &doors, "compat").expect("ok")),
            ["Phabricator/A", "GitHub/B"]
        );
        let bad = ["GitHub/C".to_owned(), "nope".to_owned()];
        let errors = services(&bad, &doors, "compat.config_services").unwrap_err();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].location, "compat.config_services[0]");
    }
}
