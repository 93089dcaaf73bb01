use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// The group rules of one door, as written in the configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// Group when no rule matches; the source's own default when absent.
    #[serde(default)]
    pub default_group: Option<String>,
    /// Group for administrative events (ping, membership, repository...);
    /// when absent they follow the rules like any event.
    #[serde(default)]
    pub admin_group: Option<String>,
    /// Ordered rules; the first that matches wins.
    #[serde(default)]
    pub groups: Vec<GroupRule>,
}

/// One rule: a group and what selects it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRule {
    pub group: String,
    /// Glob patterns (`*`, `?`, `[abc]`, `{a,b}`) on the repository or
    /// project, tried on the full name (`org/repo`) and on the last segment.
    #[serde(default, alias = "projects")]
    pub repositories: Vec<String>,
    /// Case-insensitive words looked for in the notification text.
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// What a rule is matched against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    /// Repository or project names the event is about (full names first).
    pub repositories: &'a [&'a str],
    pub text: &'a str,
    /// Ping, membership, repository administration and the like.
    pub administrative: bool,
}

/// Compiled group rules of one door.
#[derive(Debug, Clone)]
pub struct GroupMapping {
    default_group: String,
    admin_group: Option<String>,
    rules: Vec<CompiledRule>,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    group: String,
    repositories: Vec<GlobMatcher>,
    keywords: Vec<String>,
}

impl GroupMapping {
    /// Compile and validate; `fallback` is the source's default group.
    pub fn compile(
        config: &MappingConfig,
        fallback: &str,
        location: &str,
    ) -> Result<Self, ConfigError> {
        let err = |message: String| ConfigError::new(location, message);
        let default_group = config
            .default_group
            .clone()
            .unwrap_or_else(|| fallback.to_owned());
        check_group_name(&default_group).map_err(|m| err(format!("default_group: {m}")))?;
        if let Some(admin) = &config.admin_group {
            check_group_name(admin).map_err(|m| err(format!("admin_group: {m}")))?;
        }
        let rules = config
            .groups
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                let here = |m: String| err(format!("groups[{index}]: {m}"));
                check_group_name(&rule.group).map_err(here)?;
                if rule.repositories.is_empty() && rule.keywords.is_empty() {
                    return Err(here(format!(
                        "rule for group {:?} has neither repositories nor keywords",
                        rule.group
                    )));
                }
                let repositories = rule
                    .repositories
                    .iter()
                    .map(|pattern| {
                        Glob::new(pattern)
                            .map(|g| g.compile_matcher())
                            .map_err(|e| here(format!("bad glob {pattern:?}: {}", e.kind())))
                    })
                    .collect::<Result<_, _>>()?;
                if rule.keywords.iter().any(|k| k.trim().is_empty()) {
                    return Err(here("empty keyword".into()));
                }
                Ok(CompiledRule {
                    group: rule.group.clone(),
                    repositories,
                    keywords: rule.keywords.iter().map(|k| k.to_lowercase()).collect(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            default_group,
            admin_group: config.admin_group.clone(),
            rules,
        })
    }

    /// A mapping with no rules: everything goes to `group`.
    pub fn single(group: &str) -> Self {
        Self {
            default_group: group.to_owned(),
            admin_group: None,
            rules: Vec::new(),
        }
    }

    /// Every group this mapping can answer, for checks against a list of
    /// known groups.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.default_group.as_str())
            .chain(self.admin_group.as_deref())
            .chain(self.rules.iter().map(|r| r.group.as_str()))
    }

    pub fn group_for(&self, subject: &Subject<'_>) -> &str {
        if subject.administrative {
            if let Some(admin) = &self.admin_group {
                return admin;
            }
        }
        // Every rule's repositories before any rule's keywords: what the
        // event is about outweighs a word its text happens to contain (the
        // original service resolved Phabricator groups this way too).
        if let Some(rule) = self
            .rules
            .iter()
            .find(|rule| rule.matches_repository(subject.repositories))
        {
            return &rule.group;
        }
        let text = subject.text.to_lowercase();
        self.rules
            .iter()
            .find(|rule| rule.matches_keyword(&text))
            .map_or(&self.default_group, |rule| &rule.group)
    }
}

impl CompiledRule {
    fn matches_repository(&self, repositories: &[&str]) -> bool {
        repositories.iter().any(|name| {
            let short = name.rsplit('/').next().unwrap_or(name);
            self.repositories
                .iter()
                .any(|glob| glob.is_match(name) || glob.is_match(short))
        })
    }

    fn matches_keyword(&self, lowercase_text: &str) -> bool {
        self.keywords
            .iter()
            .any(|k| lowercase_text.contains(k.as_str()))
    }
}

fn check_group_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        Err("group name is empty".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(toml_text: &str) -> Result<GroupMapping, ConfigError> {
        let config: MappingConfig = toml::from_str(toml_text).expect("mapping toml");
        GroupMapping::compile(&config, "ci", "sources.GitHub.doors.acme")
    }

    fn subject<'a>(repos: &'a [&'a str], text: &'a str) -> Subject<'a> {
        Subject {
            repositories: repos,
            text,
            administrative: false,
        }
    }

    const RULES: &str = r#"
        admin_group = "admin"
        [[groups]]
        group = "infra"
        repositories = ["infra-*", "acme/ops"]
        [[groups]]
        group = "web"
        repositories = ["*-site"]
        keywords = ["Deploy"]
        [[groups]]
        group = "catch"
        repositories = ["infra-tools"]
    "#;

    #[test]
    fn first_matching_rule_wins() {
        let m = mapping(RULES).expect("valid");
        assert_eq!(m.group_for(&subject(&["acme/infra-tools"], "")), "infra");
        assert_eq!(m.group_for(&subject(&["acme/ops"], "")), "infra");
        assert_eq!(m.group_for(&subject(&["acme/main-site"], "")), "web");
    }

    #[test]
    fn every_repository_rule_comes_before_any_keyword() {
        let m = mapping(
            r#"
            [[groups]]
            group = "docker"
            keywords = ["docker"]
            [[groups]]
            group = "ops"
            repositories = ["Servers"]
            "#,
        )
        .expect("valid");
        assert_eq!(
            m.group_for(&subject(&["Servers"], "Upgrade Docker on ysul")),
            "ops"
        );
        assert_eq!(
            m.group_for(&subject(&["Web"], "Upgrade Docker on ysul")),
            "docker"
        );
    }

    #[test]
    fn keywords_default_and_admin() {
        let m = mapping(RULES).expect("valid");
        assert_eq!(
            m.group_for(&subject(&["acme/x"], "please deploy now")),
            "web"
        );
        assert_eq!(m.group_for(&subject(&["acme/x"], "nothing")), "ci");
        let admin = Subject {
            administrative: true,
            ..subject(&["acme/infra-a"], "")
        };
        assert_eq!(m.group_for(&admin), "admin");
    }

    #[test]
    fn lists_every_group_it_can_answer() {
        let m = mapping(RULES).expect("valid");
        assert_eq!(
            m.groups().collect::<Vec<_>>(),
            ["ci", "admin", "infra", "web", "catch"]
        );
    }

    #[test]
    fn invalid_rules_are_config_errors() {
        let err = mapping("[[groups]]\ngroup = \"x\"\nrepositories = [\"a[\"]").unwrap_err();
        assert_eq!(err.location, "sources.GitHub.doors.acme");
        assert!(
            err.message.starts_with("groups[0]: bad glob \"a[\""),
            "{err}"
        );
        let err = mapping("[[groups]]\ngroup = \"x\"").unwrap_err();
        assert!(
            err.message.contains("neither repositories nor keywords"),
            "{err}"
        );
        let err = mapping("default_group = \" \"").unwrap_err();
        assert_eq!(err.message, "default_group: group name is empty");
    }
}
