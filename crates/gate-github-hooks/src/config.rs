//! `[github_recovery]`: where each GitHub door's hook lives and how to
//! reach GitHub's API for it.

use std::collections::BTreeMap;
use std::sync::Arc;

use gate_core::Secret;
use ring::signature::RsaKeyPair;
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::{load_rsa_key, Credentials};

/// The whole section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryConfig {
    /// GitHub's API root (GitHub Enterprise Server: `https://HOST/api/v3`).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// Periodic mode of `serve`: a recovery pass over every door of this
    /// section this often. 0, the default, turns it off.
    #[serde(default)]
    pub interval_seconds: u64,
    /// How far back each periodic pass looks.
    #[serde(default = "default_lookback_seconds")]
    pub lookback_seconds: u64,
    /// An event whose deliveries failed this many times is left alone (a
    /// gateway that refuses it on purpose would otherwise be asked forever).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: usize,
    /// Per GitHub door (the name under `[sources.GitHub.doors]`).
    #[serde(default)]
    pub doors: BTreeMap<String, HookConfig>,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            api_url: default_api_url(),
            interval_seconds: 0,
            lookback_seconds: default_lookback_seconds(),
            max_attempts: default_max_attempts(),
            doors: BTreeMap::new(),
        }
    }
}

fn default_api_url() -> String {
    "https://api.github.com".into()
}
fn default_lookback_seconds() -> u64 {
    6 * 3_600
}
fn default_max_attempts() -> usize {
    5
}

/// `[github_recovery.doors.<door>]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookConfig {
    /// An organisation hook: the organisation's login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// A repository hook: `owner/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The hook's id (the number in its settings page's URL).
    pub hook_id: u64,
    /// A personal access token (classic: `admin:org_hook` or `admin:repo_hook`;
    /// fine-grained: webhooks read and write).
    #[serde(
        default,
        serialize_with = "Secret::serialize_optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub token: Option<Secret>,
    /// Or a GitHub App installed on the organisation or repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<AppConfig>,
}

/// `[github_recovery.doors.<door>.app]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The app's id or client id (both are accepted by GitHub as issuer).
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    pub installation_id: u64,
    /// The app's private key, PEM (PKCS#1 as GitHub downloads it, or PKCS#8).
    pub private_key: Secret,
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Number(u64),
        Text(String),
    }
    Ok(match Id::deserialize(deserializer)? {
        Id::Number(n) => n.to_string(),
        Id::Text(t) => t,
    })
}

/// Where the hook lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookLocation {
    Org(String),
    Repo { owner: String, name: String },
}

/// A door's hook, checked and ready for API calls.
#[derive(Debug, Clone)]
pub struct Hook {
    pub location: HookLocation,
    pub hook_id: u64,
    pub credentials: Credentials,
}

impl Hook {
    /// Check a door's settings; the message names the bad key.
    pub fn open(config: &HookConfig) -> Result<Self, String> {
        let location = match (&config.org, &config.repo) {
            (Some(org), None) => {
                check_segment("org", org)?;
                HookLocation::Org(org.clone())
            }
            (None, Some(repo)) => {
                let (owner, name) = repo
                    .split_once('/')
                    .ok_or_else(|| format!("repo {repo:?}: write it as owner/name"))?;
                check_segment("repo", owner)?;
                check_segment("repo", name)?;
                HookLocation::Repo {
                    owner: owner.to_owned(),
                    name: name.to_owned(),
                }
            }
            _ => return Err("set exactly one of `org` or `repo`".into()),
        };
        if config.hook_id == 0 {
            return Err("hook_id must be the hook's id, not 0".into());
        }
        let credentials = match (&config.token, &config.app) {
            (Some(token), None) => Credentials::Token(token.clone()),
            // A pending key (a `vault:` reference `config check` does not
            // read) cannot be parsed yet; a hook is never called while checking.
            (None, Some(app)) if app.private_key.is_pending() => {
                Credentials::Token(app.private_key.clone())
            }
            (None, Some(app)) => {
                if app.id.trim().is_empty() {
                    return Err("app.id is empty".into());
                }
                let key: Arc<RsaKeyPair> = Arc::new(
                    load_rsa_key(&app.private_key).map_err(|e| format!("app.private_key: {e}"))?,
                );
                Credentials::App {
                    id: app.id.clone(),
                    installation_id: app.installation_id,
                    key,
                }
            }
            _ => return Err("set exactly one of `token` or `[app]`".into()),
        };
        Ok(Self {
            location,
            hook_id: config.hook_id,
            credentials,
        })
    }

    /// `/orgs/{org}/hooks/{id}` or `/repos/{owner}/{repo}/hooks/{id}`.
    pub fn path(&self) -> String {
        match &self.location {
            HookLocation::Org(org) => format!("/orgs/{org}/hooks/{}", self.hook_id),
            HookLocation::Repo { owner, name } => {
                format!("/repos/{owner}/{name}/hooks/{}", self.hook_id)
            }
        }
    }
}

/// Logins and repository names are letters, digits, `-`, `_` and `.`; the
/// check also keeps them from rewriting the API path.
fn check_segment(key: &str, value: &str) -> Result<(), String> {
    let valid = !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(format!("{key}: {value:?} is not a GitHub name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(text: &str) -> Result<Hook, String> {
        let config: HookConfig = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        Hook::open(&config)
    }

    #[test]
    fn org_and_repo_hooks_have_their_paths() {
        let org = open("org = \"acme\"\nhook_id = 12\ntoken = \"t\"").expect("org");
        assert_eq!(org.path(), "/orgs/acme/hooks/12");
        let repo = open("repo = \"acme/web.site\"\nhook_id = 7\ntoken = \"t\"").expect("repo");
        assert_eq!(repo.path(), "/repos/acme/web.site/hooks/7");
    }

    #[test]
    fn bad_settings_say_which_key() {
        let both = open("org = \"a\"\nrepo = \"a/b\"\nhook_id = 1\ntoken = \"t\"").unwrap_err();
        assert!(both.contains("exactly one of `org` or `repo`"), "{both}");
        let path = open("repo = \"a/../b\"\nhook_id = 1\ntoken = \"t\"").unwrap_err();
        assert!(path.contains("not a GitHub name"), "{path}");
        let nocred = open("org = \"a\"\nhook_id = 1").unwrap_err();
        assert!(nocred.contains("`token` or `[app]`"), "{nocred}");
        let key = open(
            "org = \"a\"\nhook_id = 1\n[app]\nid = 5\ninstallation_id = 9\nprivate_key = \"not a pem\"",
        )
        .unwrap_err();
        assert!(key.starts_with("app.private_key:"), "{key}");
        assert!(
            !key.contains("not a pem"),
            "the key's text is never shown: {key}"
        );
    }

    #[test]
    fn the_token_never_serialises() {
        let config: HookConfig =
            toml::from_str("org = \"a\"\nhook_id = 1\ntoken = \"ghp_supersecret\"")
                .expect("config");
        let shown = serde_json::to_string(&config).expect("json");
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(!format!("{config:?}").contains("supersecret"));
    }
}
