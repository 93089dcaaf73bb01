use aho_corasick::{AhoCorasick, MatchKind};
use globset::{Candidate, Glob, GlobSet, GlobSetBuilder};
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
    /// The group this rule selects.
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
    /// The notification text, for keyword rules.
    pub text: &'a str,
    /// Ping, membership, repository administration and the like.
    pub administrative: bool,
}

/// Compiled group rules of one door. Every glob of every rule is in one
/// [`GlobSet`] and every keyword in one Aho-Corasick automaton, so a request
/// costs about the same with a thousand rules as with one; each pattern
/// remembers its rule, and the lowest rule index wins (first match), the
/// repositories of every rule before the keywords of any.
#[derive(Debug, Clone)]
pub struct GroupMapping {
    default_group: String,
    admin_group: Option<String>,
    /// The group of each rule, in configuration order.
    rules: Vec<String>,
    globs: GlobSet,
    /// Rule index of each glob of `globs`.
    glob_rules: Vec<usize>,
    /// Lower-cased keywords, matched ASCII-case-insensitively (see
    /// `first_keyword_rule`); `None` when no rule has keywords.
    keywords: Option<AhoCorasick>,
    /// Rule index of each keyword of `keywords`.
    keyword_rules: Vec<usize>,
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
        let mut rules = Vec::with_capacity(config.groups.len());
        let mut globs = GlobSetBuilder::new();
        let mut glob_rules = Vec::new();
        let mut keywords = Vec::new();
        let mut keyword_rules = Vec::new();
        for (index, rule) in config.groups.iter().enumerate() {
            let here = |m: String| err(format!("groups[{index}]: {m}"));
            check_group_name(&rule.group).map_err(here)?;
            if rule.repositories.is_empty() && rule.keywords.is_empty() {
                return Err(here(format!(
                    "rule for group {:?} has neither repositories nor keywords",
                    rule.group
                )));
            }
            for pattern in &rule.repositories {
                let glob = Glob::new(pattern)
                    .map_err(|e| here(format!("bad glob {pattern:?}: {}", e.kind())))?;
                globs.add(glob);
                glob_rules.push(index);
            }
            if rule.keywords.iter().any(|k| k.trim().is_empty()) {
                return Err(here("empty keyword".into()));
            }
            for keyword in &rule.keywords {
                keywords.push(keyword.to_lowercase());
                keyword_rules.push(index);
            }
            rules.push(rule.group.clone());
        }
        let globs = globs
            .build()
            .map_err(|e| err(format!("groups: cannot compile the globs: {e}")))?;
        let keywords = if keywords.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&keywords)
                    .map_err(|e| err(format!("groups: cannot compile the keywords: {e}")))?,
            )
        };
        Ok(Self {
            default_group,
            admin_group: config.admin_group.clone(),
            rules,
            globs,
            glob_rules,
            keywords,
            keyword_rules,
        })
    }

    /// Every group this mapping can answer, for checks against a list of
    /// known groups.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.default_group.as_str())
            .chain(self.admin_group.as_deref())
            .chain(self.rules.iter().map(String::as_str))
    }

    /// The group of rule `index` (as returned by the `first_*_rule` methods).
    pub(crate) fn rule_group(&self, index: usize) -> Option<&str> {
        self.rules.get(index).map(String::as_str)
    }

    /// The group: the administrative group for administrative events when
    /// set, else the first rule (in configuration order) whose globs or
    /// keywords match, else the default group.
    pub fn group_for(&self, subject: &Subject<'_>) -> &str {
        if subject.administrative {
            if let Some(admin) = &self.admin_group {
                return admin;
            }
        }
        // Every rule's repositories before any rule's keywords: what the
        // event is about outweighs a word its text happens to contain (the
        // original service resolved Phabricator groups this way too).
        self.first_repository_rule(subject.repositories)
            .or_else(|| self.first_keyword_rule(subject.text))
            .and_then(|index| self.rule_group(index))
            .unwrap_or(&self.default_group)
    }

    /// The first rule (configuration order) with a glob matching one of
    /// `repositories`, each tried whole (`org/repo`) and by its last segment.
    pub(crate) fn first_repository_rule(&self, repositories: &[&str]) -> Option<usize> {
        if self.globs.is_empty() {
            return None;
        }
        let mut matched = Vec::new();
        let mut first: Option<usize> = None;
        for name in repositories {
            let short = name.rsplit('/').next().unwrap_or(name);
            let names = [Some(*name), (short != *name).then_some(short)];
            for candidate in names.into_iter().flatten() {
                self.globs
                    .matches_candidate_into(&Candidate::new(candidate), &mut matched);
                // Globs were added in rule order, so the lowest glob index
                // has the lowest rule index.
                if let Some(&glob) = matched.iter().min() {
                    let rule = self.glob_rules[glob];
                    first = Some(first.map_or(rule, |f| f.min(rule)));
                }
            }
        }
        first
    }

    /// The first rule (configuration order) with a keyword found in `text`,
    /// case-insensitively (Unicode lower case on both sides, as
    /// `str::to_lowercase`).
    pub(crate) fn first_keyword_rule(&self, text: &str) -> Option<usize> {
        let keywords = self.keywords.as_ref()?;
        // The keywords are lower-cased. On ASCII text, matching ASCII
        // case-insensitively equals matching the lower-cased text, without
        // making it; other text is lower-cased first (its lower case holds
        // no ASCII capitals, so the same automaton then matches exactly).
        let lowered;
        let haystack = if text.is_ascii() {
            text
        } else {
            lowered = text.to_lowercase();
            &lowered
        };
        let mut first: Option<usize> = None;
        for found in keywords.find_overlapping_iter(haystack) {
            let rule = self.keyword_rules[found.pattern().as_usize()];
            if rule == 0 {
                return Some(0);
            }
            first = Some(first.map_or(rule, |f| f.min(rule)));
        }
        first
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

    /// The matching as it was before compiling into sets, one rule at a time.
    struct Reference(Vec<(Vec<globset::GlobMatcher>, Vec<String>)>);

    impl Reference {
        fn new(config: &MappingConfig) -> Self {
            Self(
                config
                    .groups
                    .iter()
                    .map(|rule| {
                        let globs = rule
                            .repositories
                            .iter()
                            .map(|p| Glob::new(p).expect("glob").compile_matcher())
                            .collect();
                        let keywords = rule.keywords.iter().map(|k| k.to_lowercase()).collect();
                        (globs, keywords)
                    })
                    .collect(),
            )
        }

        fn rule(&self, repositories: &[&str], text: &str, use_keywords: bool) -> Option<usize> {
            let text = text.to_lowercase();
            self.0.iter().position(|(globs, keywords)| {
                let by_repository = repositories.iter().any(|name| {
                    let short = name.rsplit('/').next().unwrap_or(name);
                    globs.iter().any(|g| g.is_match(name) || g.is_match(short))
                });
                by_repository || use_keywords && keywords.iter().any(|k| text.contains(k.as_str()))
            })
        }
    }

    #[test]
    fn compiled_sets_choose_the_same_rule_as_rule_by_rule_matching() {
        const GLOBS: [&str; 12] = [
            "infra-*", "*-site", "acme/ops", "web?", "[ab]*", "{x,y}-z", "*", "**/deep", "org/*",
            "a*b", "docs", "*.rs",
        ];
        const KEYWORDS: [&str; 8] = ["Deploy", "fix", "ÉTÉ", "k", "σ", "i̇", "ops", "-z"];
        const NAMES: [&str; 12] = [
            "acme/infra-tools",
            "acme/main-site",
            "acme/ops",
            "web1",
            "a",
            "bz",
            "x-z",
            "org/a/deep",
            "docs",
            "acme/docs",
            "ab",
            "lib.rs",
        ];
        const TEXTS: [&str; 8] = [
            "please Deploy now",
            "FIX it",
            "été",
            "ÉTÉ chaud",
            "\u{212A}elvin",
            "ΟΔΟΣ",
            "İstanbul",
            "nothing",
        ];
        // A small deterministic generator: the same cases on every run.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |bound: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).expect("fits") % bound
        };
        let mut checked = 0;
        for _ in 0..300 {
            let groups = (0..1 + next(8))
                .map(|i| {
                    let mut repositories: Vec<String> = (0..next(4))
                        .map(|_| GLOBS[next(GLOBS.len())].to_owned())
                        .collect();
                    let keywords: Vec<String> = (0..next(3))
                        .map(|_| KEYWORDS[next(KEYWORDS.len())].to_owned())
                        .collect();
                    if repositories.is_empty() && keywords.is_empty() {
                        repositories.push(GLOBS[next(GLOBS.len())].to_owned());
                    }
                    GroupRule {
                        group: format!("g{i}"),
                        repositories,
                        keywords,
                    }
                })
                .collect();
            let config = MappingConfig {
                groups,
                ..MappingConfig::default()
            };
            let m = GroupMapping::compile(&config, "ci", "here").expect("valid");
            let reference = Reference::new(&config);
            for _ in 0..20 {
                let names: Vec<&str> = (0..next(3)).map(|_| NAMES[next(NAMES.len())]).collect();
                let text = TEXTS[next(TEXTS.len())];
                let by_repository = reference.rule(&names, "", false);
                let by_keyword = reference.rule(&[], text, true);
                // Every rule's repositories before any rule's keywords.
                let expected = by_repository.or(by_keyword);
                let got = m.group_for(&subject(&names, text));
                let want = expected.map_or("ci", |i| config.groups[i].group.as_str());
                assert_eq!(got, want, "{config:?} {names:?} {text:?}");
                assert_eq!(
                    m.first_repository_rule(&names),
                    by_repository,
                    "{config:?} {names:?}"
                );
                assert_eq!(
                    m.first_keyword_rule(text),
                    by_keyword,
                    "{config:?} {text:?}"
                );
                checked += usize::from(expected.is_some());
            }
        }
        // The cases must exercise matches, not only the default group.
        assert!(checked > 1000, "{checked} matching cases");
    }

    #[test]
    fn repositories_win_over_keywords_and_each_kind_reports_its_own() {
        let m = mapping(RULES).expect("valid");
        // Rule 0 by repository, rule 1 by keyword: rule 0 wins.
        let s = subject(&["acme/infra-x"], "Deploy");
        assert_eq!(m.first_repository_rule(s.repositories), Some(0));
        assert_eq!(m.first_keyword_rule(s.text), Some(1));
        assert_eq!(m.group_for(&s), "infra");
        assert_eq!(m.rule_group(2), Some("catch"));
        assert_eq!(m.rule_group(3), None);
        // A repository rule wins over a keyword rule even when it comes
        // after it (every repository rule before any keyword rule).
        let m = mapping(
            "[[groups]]\ngroup = \"words\"\nkeywords = [\"urgent\"]\n\
             [[groups]]\ngroup = \"repos\"\nrepositories = [\"acme/*\"]",
        )
        .expect("valid");
        let s = subject(&["acme/x"], "URGENT fix");
        assert_eq!(m.first_repository_rule(s.repositories), Some(1));
        assert_eq!(m.first_keyword_rule(s.text), Some(0));
        assert_eq!(m.group_for(&s), "repos");
        assert_eq!(m.group_for(&subject(&["other/x"], "URGENT fix")), "words");
        assert_eq!(m.group_for(&subject(&["acme/x"], "calm")), "repos");
        assert_eq!(m.group_for(&subject(&["other/x"], "calm")), "ci");
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
