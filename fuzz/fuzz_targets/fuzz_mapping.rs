//! Group rules: any rules compile or are refused with a configuration
//! error, never a panic, and the chosen group is always the admin group,
//! a rule's group or the default, following the first-match order.
#![no_main]

use gate_core::{GroupMapping, GroupRule, MappingConfig, Subject};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Rule {
    group: String,
    repositories: Vec<String>,
    keywords: Vec<String>,
}

#[derive(Debug, Arbitrary)]
struct Case {
    default_group: Option<String>,
    admin_group: Option<String>,
    rules: Vec<Rule>,
    repositories: Vec<String>,
    text: String,
    administrative: bool,
}

/// Keep compile time per input small: globs are compiled to regexes.
fn small(case: &Case) -> bool {
    case.rules.len() <= 8
        && case
            .rules
            .iter()
            .all(|r| r.repositories.len() <= 8 && r.repositories.iter().all(|p| p.len() <= 64))
}

fuzz_target!(|case: Case| {
    if !small(&case) {
        return;
    }
    let config = MappingConfig {
        default_group: case.default_group.clone(),
        admin_group: case.admin_group.clone(),
        groups: case
            .rules
            .iter()
            .map(|r| GroupRule {
                group: r.group.clone(),
                repositories: r.repositories.clone(),
                keywords: r.keywords.clone(),
            })
            .collect(),
    };
    let Ok(mapping) = GroupMapping::compile(&config, "fallback", "fuzz") else {
        return;
    };
    let repositories: Vec<&str> = case.repositories.iter().map(String::as_str).collect();
    let subject = Subject {
        repositories: &repositories,
        text: &case.text,
        administrative: case.administrative,
    };
    let group = mapping.group_for(&subject);
    let default = case.default_group.as_deref().unwrap_or("fallback");
    if case.administrative {
        if let Some(admin) = &case.admin_group {
            assert_eq!(group, admin);
            return;
        }
    }
    // A rule whose keyword is in the text matches, so the group is that
    // rule's or an earlier rule's.
    let text = case.text.to_lowercase();
    let keyword_rule = case.rules.iter().position(|r| {
        r.keywords
            .iter()
            .any(|k| text.contains(k.to_lowercase().as_str()))
    });
    let allowed = match keyword_rule {
        Some(index) => &case.rules[..=index],
        None => &case.rules[..],
    };
    assert!(
        allowed.iter().any(|r| r.group == group) || (keyword_rule.is_none() && group == default),
        "group {group:?} for {case:?}"
    );
    // With nothing to match, the default group.
    let nothing = Subject {
        repositories: &[],
        text: "",
        administrative: false,
    };
    if case.rules.iter().all(|r| r.keywords.is_empty()) {
        assert_eq!(mapping.group_for(&nothing), default);
    }
});
