//! The original service's configuration as deployed: `credentials.json`,
//! the analyzer folders, the Docker Hub tokens file and the environment
//! (docs/migration.md lists where each comes from).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the original configuration cannot be read. The original answered 500
/// to every request touching such a file, so there is nothing to carry over.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: cannot read: {reason}")]
    Io { path: String, reason: String },
    #[error("{path}: invalid JSON: {reason}")]
    Json { path: String, reason: String },
    #[error("{path}: line {line}: expected NAME=VALUE")]
    EnvLine { path: String, line: usize },
}

/// One `credentials.json` service.
#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub gate: String,
    pub door: String,
    #[serde(default)]
    pub instance: Option<String>,
    /// `None` when the key is absent (the original failed with 500).
    #[serde(default)]
    pub secret: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Credentials {
    #[serde(default)]
    services: Vec<Service>,
}

/// One analyzer configuration file (`default.json` or `<door>.json`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analyzer {
    #[serde(default)]
    pub administrative_group: Option<String>,
    #[serde(default)]
    pub default_group: Option<String>,
    /// `None` when absent (the original failed with 500).
    #[serde(default)]
    pub map: Option<Vec<Mapping>>,
    #[serde(default)]
    pub notify_only_on_failure: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    pub group: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub words: Vec<String>,
    #[serde(default)]
    pub words_are_strong: Option<bool>,
}

/// The analyzer folder of one gate.
#[derive(Debug, Clone, Default)]
pub struct Analyzers {
    pub folder: String,
    pub default: Option<Analyzer>,
    /// `<door>.json` files, by door name.
    pub doors: BTreeMap<String, Analyzer>,
}

impl Analyzers {
    /// The file the original used for a door: its own, else `default.json`.
    pub fn for_door(&self, door: &str) -> Option<&Analyzer> {
        self.doors.get(door).or(self.default.as_ref())
    }
}

/// Everything read, before conversion.
#[derive(Debug, Clone, Default)]
pub struct Original {
    pub dir: PathBuf,
    /// `credentials.json` services in file order.
    pub services: Vec<Service>,
    pub github: Analyzers,
    pub jenkins: Analyzers,
    pub phabricator: Analyzers,
    /// `DockerHubTokens.json`: its path and `owner/repo` → token.
    pub dockerhub_tokens: Option<(PathBuf, BTreeMap<String, String>)>,
    /// `DockerHubTriggers.json` (written by the deployment, never read by
    /// the original).
    pub dockerhub_triggers: Option<PathBuf>,
    /// The environment the original ran with (only the names it reads).
    pub env: BTreeMap<String, String>,
}

/// Variables of the original service this import reads.
pub const ENV_NAMES: [&str; 17] = [
    "BROKER_DRIVER",
    "BROKER_HOST",
    "BROKER_PORT",
    "BROKER_USERNAME",
    "BROKER_PASSWORD",
    "BROKER_VHOST",
    "CREDENTIALS",
    "DOCKERHUB_TOKENS",
    "GITHUB_ANALYZER_CONFIG_DIR",
    "JENKINS_ANALYZER_CONFIG_DIR",
    "PHABRICATOR_ANALYZER_CONFIG_DIR",
    "MAILGUN_DOMAIN",
    "MAILGUN_SECRET",
    "MAILGUN_APIKEY",
    "SENTRY_DSN",
    "APP_ENV",
    "CACHE_DRIVER",
];

impl Original {
    /// Read `dir` (the original's `storage/app`) with `env` (the variables
    /// of its `.env` file and container, later entries winning).
    pub fn read(dir: &Path, env: BTreeMap<String, String>) -> Result<Self, ReadError> {
        if !dir.is_dir() {
            return Err(ReadError::Io {
                path: dir.display().to_string(),
                reason: "not a directory (give the original's storage/app folder)".into(),
            });
        }
        let setting = |name: &str, default: &str| {
            env.get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .unwrap_or_else(|| default.to_owned())
        };
        let credentials_path = dir.join(setting("CREDENTIALS", "credentials.json"));
        let services = match read_json::<Credentials>(&credentials_path)? {
            Some(credentials) => credentials.services,
            None => Vec::new(),
        };
        let tokens_path = dir.join(setting("DOCKERHUB_TOKENS", "DockerHubTokens.json"));
        let dockerhub_tokens = read_json::<BTreeMap<String, String>>(&tokens_path)?
            .map(|tokens| (tokens_path, tokens));
        let triggers = dir.join("DockerHubTriggers.json");
        Ok(Self {
            dir: dir.to_owned(),
            services,
            github: read_analyzers(
                dir,
                &setting("GITHUB_ANALYZER_CONFIG_DIR", "GitHubPayloadAnalyzer"),
            )?,
            jenkins: read_analyzers(
                dir,
                &setting("JENKINS_ANALYZER_CONFIG_DIR", "JenkinsPayloadAnalyzer"),
            )?,
            phabricator: read_analyzers(
                dir,
                &setting(
                    "PHABRICATOR_ANALYZER_CONFIG_DIR",
                    "PhabricatorPayloadAnalyzer",
                ),
            )?,
            dockerhub_tokens,
            dockerhub_triggers: triggers.is_file().then_some(triggers),
            env,
        })
    }
}

/// `None` when the file does not exist (the original treated a missing
/// file as empty).
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, ReadError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ReadError::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ReadError::Json {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

fn read_analyzers(dir: &Path, folder: &str) -> Result<Analyzers, ReadError> {
    let path = dir.join(folder);
    let mut analyzers = Analyzers {
        folder: folder.to_owned(),
        ..Analyzers::default()
    };
    let entries = match std::fs::read_dir(&path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(analyzers),
        Err(e) => {
            return Err(ReadError::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        }
    };
    for entry in entries {
        let entry = entry.map_err(|e| ReadError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let file = entry.path();
        let Some(door) = file
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let Some(analyzer) = read_json::<Analyzer>(&file)? else {
            continue;
        };
        if door == "default" {
            analyzers.default = Some(analyzer);
        } else {
            analyzers.doors.insert(door.to_owned(), analyzer);
        }
    }
    Ok(analyzers)
}

/// A `.env` file as Laravel reads it: `NAME=VALUE` lines, `#` comments,
/// optional `export `, values optionally quoted.
pub fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, ReadError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReadError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse_env(&text).map_err(|line| ReadError::EnvLine {
        path: path.display().to_string(),
        line,
    })
}

/// The variables of a `.env` text; `Err(line number)` on a line that is
/// not `NAME=VALUE`.
pub fn parse_env(text: &str) -> Result<BTreeMap<String, String>, usize> {
    let mut vars = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (name, value) = line.split_once('=').ok_or(index + 1)?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(index + 1);
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(quote @ ('"' | '\'')) if value.len() >= 2 && value.ends_with(quote) => {
                &value[1..value.len() - 1]
            }
            // An unquoted value ends at a comment.
            _ => value.split(" #").next().unwrap_or(value).trim_end(),
        };
        vars.insert(name.to_owned(), value.to_owned());
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_as_laravel_writes_them() {
        let vars = parse_env(
            "# broker\nBROKER_HOST=mq\nexport BROKER_VHOST=\"dev\"\nBROKER_PASSWORD='a b#c'\nAPP_KEY=x # comment\n\n",
        )
        .expect("valid");
        assert_eq!(vars["BROKER_HOST"], "mq");
        assert_eq!(vars["BROKER_VHOST"], "dev");
        assert_eq!(vars["BROKER_PASSWORD"], "a b#c");
        assert_eq!(vars["APP_KEY"], "x");
        assert_eq!(parse_env("A=1\nnot a line\n"), Err(2));
    }
}
