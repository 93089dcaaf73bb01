//! A payload read by path, for the many events whose text needs a few
//! fields each: missing or mistyped fields read as empty, so a renderer
//! decides what it cannot do without (and falls back to the generic text).

use serde_json::{Map, Value};

use crate::text::{reply_snippet, snippet, web_root};

/// Who to name when a payload has no sender.
pub const SOMEONE: &str = "someone";

/// Top-level keys every event may carry; the object an event is about is
/// another one.
const CONTEXT_KEYS: [&str; 7] = [
    "repository",
    "organization",
    "sender",
    "installation",
    "enterprise",
    "changes",
    "requester",
];

/// Context keys and the struct names the typed renderers give them (for
/// the same error message whichever renderer reads the payload).
const CONTEXT_SHAPES: [(&str, &str); 4] = [
    ("repository", "Repo"),
    ("sender", "User"),
    ("organization", "Org"),
    ("installation", "Installation"),
];

#[derive(Debug)]
pub(crate) struct Payload {
    value: Value,
}

static NULL: Value = Value::Null;

impl Payload {
    /// Parse a payload; the context objects every event may carry must be
    /// objects (or null), as for the typed renderers.
    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        let value: Value = serde_json::from_str(json)?;
        for (key, name) in CONTEXT_SHAPES {
            let kind = match value.get(key) {
                None | Some(Value::Null | Value::Object(_)) => continue,
                Some(Value::Array(_)) => "sequence",
                Some(Value::String(_)) => "string",
                Some(Value::Number(_)) => "number",
                Some(Value::Bool(_)) => "boolean",
            };
            return Err(serde::de::Error::custom(format!(
                "invalid type: {kind}, expected struct {name}"
            )));
        }
        Ok(Self { value })
    }

    /// The value at a dotted path (`alert.rule.id`, `pages.0.title`).
    pub fn at(&self, path: &str) -> &Value {
        path.split('.')
            .try_fold(&self.value, |value, key| match value {
                Value::Object(map) => map.get(key),
                Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            })
            .unwrap_or(&NULL)
    }

    /// The string at `path`, `""` when absent or not a string.
    pub fn str(&self, path: &str) -> &str {
        self.at(path).as_str().unwrap_or_default()
    }

    /// The first non-blank string among `paths`.
    pub fn first(&self, paths: &[&str]) -> &str {
        paths
            .iter()
            .map(|p| self.str(p))
            .find(|s| !s.trim().is_empty())
            .unwrap_or_default()
    }

    pub fn num(&self, path: &str) -> Option<u64> {
        self.at(path).as_u64()
    }

    pub fn flag(&self, path: &str) -> bool {
        self.at(path).as_bool().unwrap_or(false)
    }

    /// `#12` for a number at `path`, `""` without one.
    pub fn number(&self, path: &str) -> String {
        self.num(path).map(|n| format!("#{n}")).unwrap_or_default()
    }

    /// User-written text at `path`, as one short line.
    pub fn snippet(&self, path: &str) -> String {
        snippet(self.str(path))
    }

    /// What someone wrote to others at `path` (a comment), quotes skipped.
    pub fn reply(&self, path: &str) -> String {
        reply_snippet(self.str(path))
    }

    pub fn action(&self) -> &str {
        self.str("action")
    }

    pub fn sender(&self) -> &str {
        Some(self.str("sender.login"))
            .filter(|s| !s.is_empty())
            .unwrap_or(SOMEONE)
    }

    /// `repository.full_name`, `""` when the event is not about one.
    pub fn repo(&self) -> &str {
        self.str("repository.full_name")
    }

    pub fn repo_url(&self) -> &str {
        self.str("repository.html_url")
    }

    pub fn org(&self) -> &str {
        self.str("organization.login")
    }

    /// Where the event happened: the repository, else the organization, the
    /// enterprise or the installation's account.
    pub fn place(&self) -> String {
        if !self.repo().is_empty() {
            self.repo().to_owned()
        } else if !self.org().is_empty() {
            format!("organization {}", self.org())
        } else if !self.str("enterprise.name").is_empty() {
            format!("enterprise {}", self.str("enterprise.name"))
        } else if !self.str("installation.account.login").is_empty() {
            self.str("installation.account.login").to_owned()
        } else {
            "GitHub".to_owned()
        }
    }

    /// The web root of the instance (`https://github.com` or a GitHub
    /// Enterprise host), from any html URL the payload carries.
    pub fn web_root(&self) -> &str {
        [
            "repository.html_url",
            "sender.html_url",
            "organization.html_url",
            "installation.account.html_url",
        ]
        .iter()
        .find_map(|p| web_root(self.str(p)))
        .unwrap_or("https://github.com")
    }

    /// The organization's page, built on the instance's web root.
    pub fn org_url(&self) -> String {
        match self.org() {
            "" => String::new(),
            org => format!("{}/{org}", self.web_root()),
        }
    }

    /// The page of the repository, else the organization, else the sender.
    pub fn place_url(&self) -> String {
        [self.repo_url().to_owned(), self.org_url()]
            .into_iter()
            .chain([self.str("sender.html_url").to_owned()])
            .find(|url| !url.is_empty())
            .unwrap_or_default()
    }

    /// The most specific page the payload names: the `html_url` of the
    /// object the event is about (any top-level object other than the
    /// context every event carries), else the place.
    pub fn best_link(&self) -> String {
        let Value::Object(map) = &self.value else {
            return String::new();
        };
        object_url(map).unwrap_or_else(|| self.place_url())
    }
}

/// The `html_url` of the first top-level object (or first item of a list)
/// that is not context.
fn object_url(map: &Map<String, Value>) -> Option<String> {
    map.iter()
        .filter(|(key, _)| !CONTEXT_KEYS.contains(&key.as_str()))
        .filter_map(|(_, value)| match value {
            Value::Array(items) => items.first(),
            other => Some(other),
        })
        .filter_map(|value| value.get("html_url")?.as_str())
        .find(|url| !url.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_objects_and_arrays() {
        let p =
            Payload::parse(r#"{"a":{"b":[{"c":"x"}],"n":4},"sender":{"login":"hubot"},"s":"  "}"#)
                .expect("json");
        assert_eq!(p.str("a.b.0.c"), "x");
        assert_eq!(p.str("a.b.1.c"), "");
        assert_eq!(p.str("a.n"), "");
        assert_eq!(p.number("a.n"), "#4");
        assert_eq!(p.first(&["s", "a.b.0.c"]), "x");
        assert_eq!(p.sender(), "hubot");
        assert_eq!(p.place(), "GitHub");
    }

    #[test]
    fn best_link_prefers_the_object_over_the_context() {
        let p = Payload::parse(
            r#"{"repository":{"full_name":"a/b","html_url":"https://ghe.test/a/b"},
                "thing":{"html_url":"https://ghe.test/a/b/thing/1"}}"#,
        )
        .expect("json");
        assert_eq!(p.best_link(), "https://ghe.test/a/b/thing/1");
        let p = Payload::parse(
            r#"{"organization":{"login":"acme"},"sender":{"login":"x","html_url":"https://ghe.test/x"}}"#,
        )
        .expect("json");
        assert_eq!(p.best_link(), "https://ghe.test/acme");
        assert_eq!(p.place(), "organization acme");
    }
}
