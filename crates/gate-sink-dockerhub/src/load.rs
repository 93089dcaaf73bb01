//! From the configuration to a validated map and endpoints, without any
//! network access (what `config check` runs).

use std::path::Path;

use crate::map::{Format, TriggerMap};
use crate::DockerHubSinkConfig;

/// The map of every configured file and inline table, merged.
pub fn trigger_map(config: &DockerHubSinkConfig) -> Result<TriggerMap, String> {
    let given = config.triggers_file.is_some()
        || config.tokens_file.is_some()
        || config.triggers.is_some()
        || config.tokens.is_some();
    if !given {
        return Err(
            "no map: set triggers_file (DockerHubTriggers.json), tokens_file \
             (DockerHubTokens.json), triggers or tokens"
                .into(),
        );
    }
    let mut map = TriggerMap::default();
    if let Some(path) = &config.triggers_file {
        map.merge(read(path, Format::Triggers, "triggers_file")?);
    }
    if let Some(path) = &config.tokens_file {
        map.merge(read(path, Format::Tokens, "tokens_file")?);
    }
    for inline in [&config.triggers, &config.tokens].into_iter().flatten() {
        map.merge(inline.clone());
    }
    Ok(map)
}

fn read(path: &Path, format: Format, key: &str) -> Result<TriggerMap, String> {
    let at = format!("{key} {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{at}: cannot read: {e}"))?;
    // Parsed as a plain value first: serde_json then reports only syntax
    // errors, whose messages never quote the file's content (its tokens).
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{at}: not valid JSON: {e}"))?;
    TriggerMap::parse(&value, format, &at)
}

/// An `http`/`https` base URL without query, as `scheme://host[/prefix]`
/// with no trailing slash (paths are appended to it).
pub fn base_url(key: &str, text: &str) -> Result<String, String> {
    let uri: http::Uri = text
        .parse()
        .map_err(|_| format!("{key}: {text:?} is not a valid URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("{key}: must start with http:// or https://"));
    }
    if uri.authority().is_none_or(|a| a.host().is_empty()) {
        return Err(format!("{key}: has no host"));
    }
    if uri.query().is_some() {
        return Err(format!("{key}: must not have a query"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_normalised() {
        assert_eq!(
            base_url("base_url", "http://127.0.0.1:9/proxy/").as_deref(),
            Ok("http://127.0.0.1:9/proxy")
        );
        assert_eq!(
            base_url("base_url", "ftp://x"),
            Err("base_url: must start with http:// or https://".into())
        );
        assert_eq!(
            base_url("base_url", "https://x/?a=b"),
            Err("base_url: must not have a query".into())
        );
        assert!(base_url("base_url", "not a url").is_err());
    }
}
