//! The repository → image triggers map, read from the production files
//! (`DockerHubTriggers.json`, legacy `DockerHubTokens.json`) or from inline
//! tables, with a clear error naming the place of every bad value (never the
//! value: ids and tokens are credentials).

use std::collections::BTreeMap;

use gate_core::Secret;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::filter::{Patterns, RefFilter};

/// Which Docker Hub API a trigger calls. Shown as `"api": "build"` with
/// its credentials as `"set"`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "api", rename_all = "lowercase")]
pub enum Api {
    /// `POST <base_url>/api/build/v1/source/<source>/trigger/<trigger>/call/`.
    Build { source: Secret, trigger: Secret },
    /// `POST <legacy_base_url>/u/<image>/trigger/<token>/`, body `{"build": true}`.
    Legacy { token: Secret },
}

/// One image to build when its repository is pushed to.
#[derive(Debug, Clone, Serialize)]
pub struct Trigger {
    /// Docker Hub `namespace/name`; shown as the action's target.
    pub image: String,
    #[serde(flatten)]
    pub api: Api,
    #[serde(flatten)]
    pub filter: RefFilter,
    /// Send the pushed branch or tag (`source_type`, `source_name`) so that
    /// Docker Hub runs only the build rules of that ref.
    pub send_ref: bool,
}

impl Trigger {
    /// The credentials of this trigger, to scrub them from any message.
    pub fn secrets(&self) -> Vec<&Secret> {
        match &self.api {
            Api::Build { source, trigger } => vec![source, trigger],
            Api::Legacy { token } => vec![token],
        }
    }
}

/// Which of the two formats an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"owner/repo": {"source": ..., "trigger": ...}}` or a list of them.
    Triggers,
    /// `{"owner/repo": "<token>"}`, or `{"token": ...}` objects, or a list.
    Tokens,
}

/// A map's entries, by `owner/repo` as written (looked up without regard
/// to case, as GitHub names are).
#[derive(Debug, Clone, Default)]
pub struct TriggerMap {
    entries: BTreeMap<String, Vec<Trigger>>,
}

impl Serialize for TriggerMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(serializer)
    }
}

impl TriggerMap {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> impl Iterator<Item = (&String, &Vec<Trigger>)> {
        self.entries.iter()
    }

    /// Parse a whole map. `at` prefixes error locations (a file path or a
    /// configuration key).
    pub fn parse(value: &Value, format: Format, at: &str) -> Result<Self, String> {
        let Value::Object(repositories) = value else {
            return Err(format!("{at}: must be an object of \"owner/repo\" entries"));
        };
        let mut entries = BTreeMap::new();
        for (repository, entry) in repositories {
            let here = format!("{at}: {repository:?}");
            check_repository(repository).map_err(|e| format!("{here}: {e}"))?;
            let triggers = match entry {
                Value::Array(list) if list.is_empty() => {
                    return Err(format!("{here}: empty list (remove the entry instead)"))
                }
                Value::Array(list) => list
                    .iter()
                    .enumerate()
                    .map(|(i, item)| one(item, format, repository, &format!("{here}[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?,
                item => vec![one(item, format, repository, &here)?],
            };
            entries.insert(repository.clone(), triggers);
        }
        Ok(Self { entries })
    }

    /// Add `other`'s entries (a repository in both keeps all its triggers).
    pub fn merge(&mut self, other: TriggerMap) {
        for (repository, triggers) in other.entries {
            self.entries.entry(repository).or_default().extend(triggers);
        }
    }

    /// Every trigger of `repository`, whatever its case.
    pub fn lookup(&self, repository: &str) -> Vec<&Trigger> {
        self.entries
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(repository))
            .flat_map(|(_, triggers)| triggers)
            .collect()
    }
}

fn one(item: &Value, format: Format, repository: &str, at: &str) -> Result<Trigger, String> {
    let fields = match (item, format) {
        (Value::String(token), Format::Tokens) => {
            let mut fields = Map::new();
            fields.insert("token".into(), Value::String(token.clone()));
            fields
        }
        (Value::Object(fields), _) => fields.clone(),
        (_, Format::Tokens) => {
            return Err(format!(
                "{at}: must be a token string or an object with \"token\""
            ))
        }
        (Value::String(_), Format::Triggers) => {
            return Err(format!(
                "{at}: a token string is the DockerHubTokens.json format (tokens_file or tokens), \
                 here an object with \"source\" and \"trigger\" is expected"
            ))
        }
        (_, Format::Triggers) => {
            return Err(format!(
                "{at}: must be an object with \"source\" and \"trigger\""
            ))
        }
    };
    if format == Format::Tokens && (fields.contains_key("source") || fields.contains_key("trigger"))
    {
        return Err(format!(
            "{at}: \"source\" and \"trigger\" are the DockerHubTriggers.json format \
             (triggers_file or triggers), here a token is expected"
        ));
    }
    let allowed: &[&str] = match format {
        Format::Triggers => &["source", "trigger", "image", "branches", "tags", "send_ref"],
        Format::Tokens => &["token", "image", "branches", "tags", "send_ref"],
    };
    if let Some(unknown) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "{at}: unknown key {unknown:?} (expected one of {})",
            allowed.join(", ")
        ));
    }
    let api = match format {
        Format::Triggers => Api::Build {
            source: id(&fields, "source", at)?,
            trigger: id(&fields, "trigger", at)?,
        },
        Format::Tokens => Api::Legacy {
            token: id(&fields, "token", at)?,
        },
    };
    let image = match fields.get("image") {
        None => repository.to_owned(),
        Some(Value::String(image)) => image.clone(),
        Some(_) => return Err(format!("{at}.image: must be a string")),
    };
    check_image(&image).map_err(|e| format!("{at}.image: {e}"))?;
    let send_ref = match fields.get("send_ref") {
        None => false,
        Some(Value::Bool(send)) => *send,
        Some(_) => return Err(format!("{at}.send_ref: must be true or false")),
    };
    let filter = RefFilter {
        branches: patterns(&fields, "branches", at)?,
        tags: patterns(&fields, "tags", at)?,
    };
    Ok(Trigger {
        image,
        api,
        filter,
        send_ref,
    })
}

/// A credential: resolved like every secret (inline, `env:`, `file:`), then
/// checked to be a plain URL path segment, since it is put in the URL.
fn id(fields: &Map<String, Value>, key: &str, at: &str) -> Result<Secret, String> {
    let spec = match fields.get(key) {
        Some(Value::String(spec)) => spec,
        Some(_) => return Err(format!("{at}.{key}: must be a string")),
        None => return Err(format!("{at}: missing \"{key}\"")),
    };
    // `vault:` ids go to the host's resolver (read at load, pending while
    // `config check` runs): the same references as in the TOML file.
    let secret = Secret::resolve(spec).map_err(|e| format!("{at}.{key}: {e}"))?;
    if secret.is_pending() {
        return Ok(secret);
    }
    let value = secret.expose();
    let plain = value
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !plain || value.iter().all(|b| *b == b'.') {
        return Err(format!(
            "{at}.{key}: must be letters, digits, '-', '_' or '.' (it goes into the URL)"
        ));
    }
    Ok(secret)
}

fn patterns(fields: &Map<String, Value>, key: &str, at: &str) -> Result<Option<Patterns>, String> {
    let Some(value) = fields.get(key) else {
        return Ok(None);
    };
    let globs = match value {
        Value::String(glob) => vec![glob.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{at}.{key}: must be a list of strings"))?,
        _ => return Err(format!("{at}.{key}: must be a list of strings")),
    };
    Patterns::new(globs)
        .map(Some)
        .map_err(|e| format!("{at}.{key}: {e}"))
}

/// GitHub's `owner/repo`.
fn check_repository(name: &str) -> Result<(), String> {
    match name.split_once('/') {
        Some((owner, repo))
            if !owner.is_empty()
                && !repo.is_empty()
                && !repo.contains('/')
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')) =>
        {
            Ok(())
        }
        _ => Err("must be a GitHub repository \"owner/repo\"".into()),
    }
}

/// Docker Hub's `namespace/name` (it also goes into the legacy URL).
fn check_image(image: &str) -> Result<(), String> {
    let valid = image.len() <= 255
        && image.split_once('/').is_some_and(|(namespace, name)| {
            !namespace.is_empty() && !name.is_empty() && !name.contains('/')
        })
        && image.split('/').all(|part| part != "." && part != "..")
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{image:?} is not a Docker Hub image \"namespace/name\""
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SOURCE: &str = "9b2a6f0e-1c4d-4e8a-9f3b-5d7c8e1a2b3c";
    const TRIGGER: &str = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";

    #[test]
    fn reads_the_production_triggers_file_unchanged() {
        // As Salt renders it: one object per repository, nothing else.
        let file = json!({
            "nasqueron/auth-grove": {"source": SOURCE, "trigger": TRIGGER},
            "nasqueron/notifications": {"source": SOURCE, "trigger": TRIGGER}
        });
        let map = TriggerMap::parse(&file, Format::Triggers, "f").expect("map");
        let triggers = map.lookup("Nasqueron/Notifications");
        assert_eq!(triggers.len(), 1);
        assert_eq!(triggers[0].image, "nasqueron/notifications");
        assert!(triggers[0].filter.is_open());
        assert!(!triggers[0].send_ref);
        assert!(matches!(&triggers[0].api, Api::Build { source, trigger }
            if source.expose() == SOURCE.as_bytes() && trigger.expose() == TRIGGER.as_bytes()));
        assert!(map.lookup("nasqueron/other").is_empty());
    }

    #[test]
    fn reads_the_legacy_tokens_file_and_extended_entries() {
        let legacy = json!({"acme/foo": "0000"});
        let map = TriggerMap::parse(&legacy, Format::Tokens, "f").expect("map");
        let foo = map.lookup("acme/foo");
        assert_eq!(foo[0].image, "acme/foo");
        assert!(matches!(&foo[0].api, Api::Legacy { token } if token.expose() == b"0000"));

        let extended = json!({"acme/widgets": [
            {"source": SOURCE, "trigger": TRIGGER, "branches": ["main"], "send_ref": true},
            {"image": "acme/widgets-alpine", "source": SOURCE, "trigger": TRIGGER, "tags": "v*"}
        ]});
        let map = TriggerMap::parse(&extended, Format::Triggers, "f").expect("map");
        let images: Vec<&str> = map
            .lookup("acme/widgets")
            .iter()
            .map(|t| t.image.as_str())
            .collect();
        assert_eq!(images, ["acme/widgets", "acme/widgets-alpine"]);
        let described = serde_json::to_string(&map).expect("describe");
        assert!(!described.contains(SOURCE), "{described}");
        assert!(!described.contains(TRIGGER), "{described}");
        assert!(described.contains(r#""branches":["main"]"#), "{described}");
    }

    #[test]
    fn errors_name_the_place_never_the_value() {
        let cases = [
            (json!([]), Format::Triggers, "f: must be an object of \"owner/repo\" entries"),
            (json!({"widgets": {"source": "s", "trigger": "t"}}), Format::Triggers,
             "f: \"widgets\": must be a GitHub repository \"owner/repo\""),
            (json!({"a/b": {"source": "s"}}), Format::Triggers, "f: \"a/b\": missing \"trigger\""),
            (json!({"a/b": "tok"}), Format::Triggers,
             "f: \"a/b\": a token string is the DockerHubTokens.json format (tokens_file or tokens), here an object with \"source\" and \"trigger\" is expected"),
            (json!({"a/b": 7}), Format::Triggers,
             "f: \"a/b\": must be an object with \"source\" and \"trigger\""),
            (json!({"a/b": {"source": "s", "trigger": "t"}}), Format::Tokens,
             "f: \"a/b\": \"source\" and \"trigger\" are the DockerHubTriggers.json format (triggers_file or triggers), here a token is expected"),
            (json!({"a/b": {"token": "x"}}), Format::Triggers,
             "f: \"a/b\": unknown key \"token\" (expected one of source, trigger, image, branches, tags, send_ref)"),
            (json!({"a/b": {"source": "s/../x", "trigger": "t"}}), Format::Triggers,
             "f: \"a/b\".source: must be letters, digits, '-', '_' or '.' (it goes into the URL)"),
            (json!({"a/b": {"source": "vault:apps/dh/x#source", "trigger": "t"}}), Format::Triggers,
             "f: \"a/b\".source: unsupported secret reference \"vault:\" (use env:NAME, file:PATH or an inline value)"),
            (json!({"a/b": {"source": "env:GATE_TEST_SURELY_UNSET_DH", "trigger": "t"}}), Format::Triggers,
             "f: \"a/b\".source: environment variable GATE_TEST_SURELY_UNSET_DH is not set"),
            (json!({"a/b": []}), Format::Tokens, "f: \"a/b\": empty list (remove the entry instead)"),
            (json!({"a/b": [{"token": "x", "image": "noslash"}]}), Format::Tokens,
             "f: \"a/b\"[0].image: \"noslash\" is not a Docker Hub image \"namespace/name\""),
            (json!({"a/b": {"token": "x", "branches": [1]}}), Format::Tokens,
             "f: \"a/b\".branches: must be a list of strings"),
            (json!({"a/b": {"token": "x", "tags": ["["]}}), Format::Tokens,
             "f: \"a/b\".tags: invalid pattern \"[\": unclosed character class; missing ']'"),
            (json!({"a/b": 7}), Format::Tokens,
             "f: \"a/b\": must be a token string or an object with \"token\""),
        ];
        for (value, format, expected) in cases {
            let err = TriggerMap::parse(&value, format, "f").expect_err(expected);
            assert_eq!(err, expected);
        }
    }

    #[test]
    fn merged_maps_keep_every_trigger() {
        let mut map = TriggerMap::parse(
            &json!({"a/b": {"source": "s", "trigger": "t"}}),
            Format::Triggers,
            "x",
        )
        .expect("map");
        map.merge(TriggerMap::parse(&json!({"a/b": "tok"}), Format::Tokens, "y").expect("map"));
        assert_eq!(map.lookup("A/B").len(), 2);
    }
}
