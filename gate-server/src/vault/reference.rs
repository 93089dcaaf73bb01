//! `vault:MOUNT/PATH#KEY` references inside a configuration table: finding
//! them, and putting the values read in their place.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::error::SecretsError;

pub const PREFIX: &str = "vault:";

/// One secret in a KV v2 engine. The first path segment is the mount
/// (`secret/gate/github#webhook` is key `webhook` of `gate/github` in the
/// engine mounted at `secret/`), as in `bao kv get -mount=secret gate/github`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    pub mount: String,
    pub path: String,
    pub key: String,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}#{}", self.mount, self.path, self.key)
    }
}

impl Reference {
    /// Parse the part after `vault:`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (location, key) = spec
            .split_once('#')
            .ok_or_else(|| "missing #KEY".to_owned())?;
        if key.is_empty() {
            return Err("empty key".into());
        }
        let (mount, path) = location
            .trim_matches('/')
            .split_once('/')
            .ok_or_else(|| "missing PATH after the mount".to_owned())?;
        for segment in mount.split('/').chain(path.split('/')) {
            check_segment(segment)?;
        }
        Ok(Self {
            mount: mount.to_owned(),
            path: path.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The secret (mount and path) this key belongs to, read once for all
    /// of its keys.
    pub fn secret(&self) -> (String, String) {
        (self.mount.clone(), self.path.clone())
    }
}

/// Segments go into the request URL as they are, so only characters that
/// need no escaping are accepted, and no `.`/`..` that would change the path.
fn check_segment(segment: &str) -> Result<(), String> {
    if segment.is_empty() || segment == "." || segment == ".." {
        return Err(format!("bad path segment {segment:?}"));
    }
    match segment
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+' | '=')))
    {
        Some(bad) => Err(format!("character {bad:?} is not allowed in the path")),
        None => Ok(()),
    }
}

/// Every `vault:` string of the table with its location
/// (`sources.GitHub.doors.acme.secrets[0]`), in a stable order. The
/// top-level `[vault]` section is left out: its own credentials cannot come
/// from the vault they open.
pub fn collect(table: &toml::Table) -> Result<BTreeMap<String, Reference>, SecretsError> {
    let mut found = BTreeMap::new();
    for (key, value) in table {
        if key != "vault" {
            walk(value, key.clone(), &mut found)?;
        }
    }
    Ok(found)
}

fn walk(
    value: &toml::Value,
    location: String,
    found: &mut BTreeMap<String, Reference>,
) -> Result<(), SecretsError> {
    match value {
        toml::Value::String(text) => {
            if let Some(spec) = text.strip_prefix(PREFIX) {
                let reference =
                    Reference::parse(spec).map_err(|reason| SecretsError::BadReference {
                        location: location.clone(),
                        reference: text.clone(),
                        reason,
                    })?;
                found.insert(location, reference);
            }
        }
        toml::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, format!("{location}[{index}]"), found)?;
            }
        }
        toml::Value::Table(table) => {
            for (key, item) in table {
                walk(item, format!("{location}.{key}"), found)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Put the value read for each reference in its place (the walk of
/// [`collect`] again, mutably). A reference without a value is left as it
/// is; the caller has checked that every one was read.
pub fn fill(table: &mut toml::Table, values: &HashMap<Reference, String>) {
    for (key, value) in table.iter_mut() {
        if key != "vault" {
            fill_value(value, values);
        }
    }
}

fn fill_value(value: &mut toml::Value, values: &HashMap<Reference, String>) {
    match value {
        toml::Value::String(text) => {
            let found = text
                .strip_prefix(PREFIX)
                .and_then(|spec| Reference::parse(spec).ok())
                .and_then(|reference| values.get(&reference));
            if let Some(found) = found {
                found.clone_into(text);
            }
        }
        toml::Value::Array(items) => items.iter_mut().for_each(|v| fill_value(v, values)),
        toml::Value::Table(table) => table.iter_mut().for_each(|(_, v)| fill_value(v, values)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mount_path_and_key() {
        let r = Reference::parse("secret/gate/github#webhook").expect("valid");
        assert_eq!(
            (r.mount.as_str(), r.path.as_str(), r.key.as_str()),
            ("secret", "gate/github", "webhook")
        );
        assert_eq!(r.to_string(), "secret/gate/github#webhook");
    }

    #[test]
    fn refuses_incomplete_or_unsafe_references() {
        for (spec, reason) in [
            ("secret/gate", "missing #KEY"),
            ("secret/gate#", "empty key"),
            ("secret#k", "missing PATH after the mount"),
            ("secret/../sys#k", "bad path segment \"..\""),
            ("secret/a?b#k", "character '?' is not allowed in the path"),
            ("secret//a#k", "bad path segment \"\""),
        ] {
            assert_eq!(Reference::parse(spec).unwrap_err(), reason, "{spec}");
        }
    }

    #[test]
    fn collects_and_fills_nested_references_but_not_the_vault_section() {
        let mut table: toml::Table = toml::from_str(
            r#"
            [vault]
            token = "vault:secret/x#y"
            [sinks.rabbit]
            url = "vault:secret/amqp#url"
            [sources.GitHub.doors.acme]
            secrets = ["inline", "vault:secret/gate/github#webhook"]
            "#,
        )
        .expect("toml");
        let found = collect(&table).expect("valid");
        let locations: Vec<&str> = found.keys().map(String::as_str).collect();
        assert_eq!(
            locations,
            ["sinks.rabbit.url", "sources.GitHub.doors.acme.secrets[1]"]
        );
        let values = HashMap::from([
            (found["sinks.rabbit.url"].clone(), "amqp://x".to_owned()),
            (
                found["sources.GitHub.doors.acme.secrets[1]"].clone(),
                "s3cret".to_owned(),
            ),
        ]);
        fill(&mut table, &values);
        let secrets = &table["sources"]["GitHub"]["doors"]["acme"]["secrets"];
        assert_eq!(secrets[1].as_str(), Some("s3cret"));
        assert_eq!(secrets[0].as_str(), Some("inline"));
        assert_eq!(table["sinks"]["rabbit"]["url"].as_str(), Some("amqp://x"));
        assert_eq!(table["vault"]["token"].as_str(), Some("vault:secret/x#y"));
    }

    #[test]
    fn a_bad_reference_names_its_location() {
        let table: toml::Table =
            toml::from_str("[sinks.a]\nurl = \"vault:nokey\"\n").expect("toml");
        let err = collect(&table).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sinks.a.url: invalid vault reference \"vault:nokey\": missing #KEY (expected vault:MOUNT/PATH#KEY)"
        );
    }
}
