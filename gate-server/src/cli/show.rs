//! `gate-server config show`: the whole effective configuration (every
//! section, defaults included, secrets redacted as `"set"`) and where each
//! value came from: the file, an environment override (named), or the
//! default.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::config::{Config, ENV_PREFIX};

/// `config` is the loaded configuration (overrides applied) whose
/// `described` sources and sinks come from `Gateway::validate` (or
/// `Gateway::describe`); `file` is the file's own table, before any override.
pub fn effective(
    config: &Config,
    described: &Value,
    file: &toml::Table,
    env: &[(String, String)],
) -> Value {
    let mut shown = json!({
        "server": config.server,
        "spool": config.spool,
        "dedup": config.dedup,
        "compat": config.compat,
        "vault": config.vault,
        "github_recovery": config.github_recovery,
        "deliveries": config.deliveries,
        "sinks": described["sinks"],
        "sources": described["sources"],
    });
    let overrides: Vec<(Vec<String>, &str)> = env
        .iter()
        .filter_map(|(var, _)| {
            let path = var.strip_prefix(ENV_PREFIX)?;
            Some((
                path.split("__").map(str::to_ascii_lowercase).collect(),
                var.as_str(),
            ))
        })
        .collect();
    let mut origins = BTreeMap::new();
    let mut path = Vec::new();
    collect_origins(&shown, &mut path, &mut |path| {
        let origin = origin_of(path, file, &overrides);
        origins.insert(path.join("."), origin);
    });
    shown["origins"] = json!(origins);
    shown
}

/// Calls `visit` with the path of every leaf (arrays are leaves).
fn collect_origins(value: &Value, path: &mut Vec<String>, visit: &mut impl FnMut(&[String])) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(key.clone());
                collect_origins(child, path, visit);
                path.pop();
            }
        }
        _ => visit(path),
    }
}

fn origin_of(path: &[String], file: &toml::Table, overrides: &[(Vec<String>, &str)]) -> String {
    let lowered: Vec<String> = path.iter().map(|s| s.to_ascii_lowercase()).collect();
    // The last override of a key wins, as when they were applied.
    if let Some((_, var)) = overrides
        .iter()
        .rev()
        .find(|(segments, _)| lowered.starts_with(segments))
    {
        return format!("environment {var}");
    }
    if in_table(file, path) {
        return "file".to_owned();
    }
    // A door without its own `sinks` inherits its source's, then the server's.
    if let [sources, kind, doors, _, sinks] = path {
        if sources == "sources" && doors == "doors" && sinks == "sinks" {
            let source_sinks = [sources.clone(), kind.clone(), sinks.clone()];
            let origin = origin_of(&source_sinks, file, overrides);
            if origin != "default" {
                return origin;
            }
            return origin_of(&["server".into(), "default_sinks".into()], file, overrides);
        }
    }
    "default".to_owned()
}

/// Whether `path` names a value of the file (segments matched ignoring
/// case, as the overrides match them).
fn in_table(table: &toml::Table, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    let Some(value) = table
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(first))
        .map(|(_, value)| value)
    else {
        return false;
    };
    match value {
        toml::Value::Table(child) => in_table(child, rest),
        _ => true,
    }
}
