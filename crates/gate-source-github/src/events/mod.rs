//! One renderer per GitHub event: each parses only the fields it needs
//! (borrowed from the payload text) and says who did what, where, with the
//! best link. Unknown events and actions get a generic text, never an error.

use std::borrow::Cow;

use serde::Deserialize;

use crate::facts::Facts;

mod admin;
mod checks;
mod collab;
mod delivery;
mod generic;
mod issues;
mod org;
mod payload;
mod ping;
mod pull_request;
mod push;
mod refs;
mod release;
mod said;
mod security;
mod social;

use payload::Payload;
use said::Renderer;

/// What an event renderer makes of a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub link: String,
    /// Full name of the repository the event is about, for group rules.
    pub repository: Option<String>,
    /// Values for the door's text template.
    pub facts: Facts,
}

impl Rendered {
    /// Start with the facts every event has.
    fn new(sender: &str, repository: Option<&Repo<'_>>, action: &str) -> Self {
        let mut facts = Facts::default();
        facts.set("sender", sender);
        facts.set("repository", repository.map_or("", |r| &r.full_name));
        facts.set("action", action);
        Self {
            text: String::new(),
            link: String::new(),
            repository: repository.map(|r| r.full_name.clone().into_owned()),
            facts,
        }
    }

    /// Start from names already read (payload-path renderers).
    fn plain(sender: &str, repository: &str, action: &str) -> Self {
        let mut facts = Facts::default();
        facts.set("sender", sender);
        facts.set("repository", repository);
        facts.set("action", action);
        Self {
            text: String::new(),
            link: String::new(),
            repository: Some(repository.to_owned()).filter(|r| !r.is_empty()),
            facts,
        }
    }

    fn say(mut self, text: String, link: impl Into<String>) -> Self {
        self.text = text;
        self.link = link.into();
        self
    }

    fn fact(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.facts.set(name, value);
        self
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Repo<'a> {
    #[serde(borrow)]
    pub full_name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub html_url: Option<Cow<'a, str>>,
}

impl Repo<'_> {
    pub fn url(&self) -> &str {
        self.html_url.as_deref().unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct User<'a> {
    #[serde(borrow)]
    pub login: Cow<'a, str>,
    #[serde(borrow, default)]
    pub html_url: Option<Cow<'a, str>>,
}

/// Who to name when a payload has no sender.
const SOMEONE: &str = payload::SOMEONE;

pub(crate) fn login<'a>(user: &'a Option<User<'_>>) -> &'a str {
    user.as_ref().map_or(SOMEONE, |u| &u.login)
}

const COMMON: [&str; 5] = ["sender", "repository", "event", "action", "url"];

macro_rules! with_common {
    ($($extra:literal),*) => {
        &["sender", "repository", "event", "action", "url", $($extra),*]
    };
}

/// Events with their own renderer and the template placeholders each offers.
/// `default` is the template for every other event.
pub const EVENTS: &[(&str, &[&str])] = &[
    ("ping", &COMMON),
    (
        "push",
        with_common!("ref", "branch", "tag", "count", "message", "sha"),
    ),
    ("create", with_common!("ref", "branch", "tag")),
    ("delete", with_common!("ref", "branch", "tag")),
    ("fork", with_common!("fork")),
    ("watch", &COMMON),
    ("star", &COMMON),
    ("issues", with_common!("number", "title", "state")),
    ("issue_comment", with_common!("number", "title", "message")),
    ("commit_comment", with_common!("sha", "message")),
    (
        "pull_request",
        with_common!("number", "title", "branch", "state"),
    ),
    (
        "pull_request_review",
        with_common!("number", "title", "state", "message"),
    ),
    ("release", with_common!("tag", "title")),
    ("status", with_common!("sha", "state", "title", "message")),
    ("check_run", with_common!("sha", "state", "title", "branch")),
    (
        "workflow_run",
        with_common!("number", "title", "state", "branch", "sha"),
    ),
    ("repository", &COMMON),
    ("membership", with_common!("member", "team")),
    ("default", &COMMON),
];

/// Events rendered from a few payload paths each; their templates may use
/// `{title}` (the object's title or name) beside the common placeholders.
const BY_PATH: &[(&str, Renderer)] = &[
    (
        "branch_protection_configuration",
        org::branch_protection_configuration,
    ),
    ("branch_protection_rule", org::branch_protection_rule),
    ("check_suite", delivery::check_suite),
    ("code_scanning_alert", security::code_scanning_alert),
    ("custom_property", org::custom_property),
    ("custom_property_values", org::custom_property_values),
    ("dependabot_alert", security::dependabot_alert),
    ("deploy_key", org::deploy_key),
    ("deployment", delivery::deployment),
    (
        "deployment_protection_rule",
        delivery::deployment_protection_rule,
    ),
    ("deployment_review", delivery::deployment_review),
    ("deployment_status", delivery::deployment_status),
    ("discussion", collab::discussion),
    (
        "exemption_request_push_ruleset",
        security::exemption_request_push_ruleset,
    ),
    (
        "exemption_request_secret_scanning",
        security::exemption_request_secret_scanning,
    ),
    ("discussion_comment", collab::discussion_comment),
    ("github_app_authorization", org::github_app_authorization),
    ("gollum", collab::gollum),
    ("installation", org::installation),
    ("installation_repositories", org::installation_repositories),
    ("installation_target", org::installation_target),
    ("issue_dependencies", collab::issue_dependencies),
    ("label", collab::label),
    ("marketplace_purchase", org::marketplace_purchase),
    ("member", org::member),
    ("merge_group", delivery::merge_group),
    ("meta", org::meta),
    ("milestone", collab::milestone),
    ("org_block", org::org_block),
    ("organization", org::organization),
    ("package", delivery::package_event),
    ("page_build", delivery::page_build),
    (
        "personal_access_token_request",
        org::personal_access_token_request,
    ),
    ("project", collab::project),
    ("project_card", collab::project_card),
    ("project_column", collab::project_column),
    ("projects_v2", collab::projects_v2),
    ("projects_v2_item", collab::projects_v2_item),
    (
        "projects_v2_status_update",
        collab::projects_v2_status_update,
    ),
    ("public", org::public),
    (
        "pull_request_review_comment",
        collab::pull_request_review_comment,
    ),
    (
        "pull_request_review_thread",
        collab::pull_request_review_thread,
    ),
    ("registry_package", delivery::registry_package),
    ("repository_advisory", security::repository_advisory),
    ("repository_dispatch", delivery::repository_dispatch),
    ("repository_import", delivery::repository_import),
    ("repository_ruleset", org::repository_ruleset),
    (
        "repository_vulnerability_alert",
        security::repository_vulnerability_alert,
    ),
    ("secret_scanning_alert", security::secret_scanning_alert),
    (
        "secret_scanning_alert_location",
        security::secret_scanning_alert_location,
    ),
    ("secret_scanning_scan", security::secret_scanning_scan),
    ("security_advisory", security::security_advisory),
    ("security_and_analysis", security::security_and_analysis),
    ("sponsorship", org::sponsorship),
    ("sub_issues", collab::sub_issues),
    ("team", org::team),
    ("team_add", org::team_add),
    ("workflow_dispatch", delivery::workflow_dispatch),
    ("workflow_job", delivery::workflow_job),
];

const WITH_TITLE: &[&str] = with_common!("title");

/// The placeholders a template for `key` (an event, or `default`) may use.
pub fn placeholders(key: &str) -> Option<&'static [&'static str]> {
    EVENTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, p)| *p)
        .or_else(|| BY_PATH.iter().any(|(k, _)| *k == key).then_some(WITH_TITLE))
}

/// Every key a door's `templates` table accepts.
pub fn template_keys() -> impl Iterator<Item = &'static str> {
    EVENTS
        .iter()
        .map(|(k, _)| *k)
        .chain(BY_PATH.iter().map(|(k, _)| *k))
}

/// Events about the organisation or the hook itself rather than code; they
/// go to the door's admin group when it has one.
pub fn is_administrative(event: &str) -> bool {
    matches!(
        event,
        "ping"
            | "membership"
            | "repository"
            | "organization"
            | "member"
            | "team"
            | "team_add"
            | "meta"
            | "installation"
            | "installation_repositories"
            | "installation_target"
            | "org_block"
            | "deploy_key"
            | "branch_protection_rule"
            | "branch_protection_configuration"
            | "repository_ruleset"
            | "security_and_analysis"
            | "github_app_authorization"
            | "personal_access_token_request"
            | "custom_property"
            | "custom_property_values"
    )
}

/// Render `event` from its JSON payload. Errors are payloads that do not
/// have the shape GitHub documents for the event.
pub fn render(event: &str, json: &str) -> Result<Rendered, serde_json::Error> {
    let mut rendered = match event {
        "ping" => ping::render(json),
        "push" => push::render(json),
        "create" => refs::render_create(json),
        "delete" => refs::render_delete(json),
        "fork" => social::render_fork(json),
        "watch" | "star" => social::render_star(event, json),
        "issues" => issues::render_issue(json),
        "issue_comment" => issues::render_issue_comment(json),
        "commit_comment" => issues::render_commit_comment(json),
        "pull_request" => pull_request::render(json),
        "pull_request_review" => pull_request::render_review(json),
        "release" => release::render(json),
        "status" => checks::render_status(json),
        "check_run" => checks::render_check_run(json),
        "workflow_run" => checks::render_workflow_run(json),
        "repository" => admin::render_repository(json),
        "membership" => admin::render_membership(json),
        _ => by_path(event, json),
    }?;
    rendered.text = crate::text::one_line(&rendered.text);
    rendered.facts.set("event", event);
    rendered.facts.set("url", rendered.link.clone());
    Ok(rendered)
}

/// Events rendered from payload paths, and the generic text for the others
/// (and for payloads that lack what their event's text needs).
fn by_path(event: &str, json: &str) -> Result<Rendered, serde_json::Error> {
    let payload = Payload::parse(json)?;
    let said = BY_PATH
        .iter()
        .find(|(k, _)| *k == event)
        .and_then(|(_, renderer)| renderer(&payload));
    Ok(match said {
        Some(said) => Rendered::plain(payload.sender(), payload.repo(), payload.action())
            .say(said.text, said.link)
            .fact("title", said.title),
        None => generic::render(event, &payload),
    })
}

/// The text for an action a renderer has no sentence for.
pub(crate) fn unknown_action(sender: &str, action: &str, what: &str) -> String {
    format!("{sender} updated {what} ({})", crate::text::words(action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_set_starts_with_the_common_names() {
        for (event, names) in EVENTS {
            assert_eq!(names.get(..COMMON.len()), Some(&COMMON[..]), "{event}");
        }
        assert_eq!(placeholders("push").map(<[_]>::len), Some(11));
        assert_eq!(placeholders("pull"), None);
    }

    /// Every fact a renderer sets must be usable in a template for its event,
    /// or templates would silently lack values.
    #[test]
    fn renderers_set_only_their_documented_placeholders() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../payloads/github");
        let mut checked = 0;
        let mut specific = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("payload folder") {
            let path = entry.expect("entry").path();
            let name = path.to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".expected.json") else {
                continue;
            };
            let expected: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("expected"))
                    .expect("json");
            let event = expected["headers"]["X-GitHub-Event"]
                .as_str()
                .expect("event");
            let body = std::fs::read_to_string(format!("{stem}.json")).expect("payload");
            let rendered = render(event, &body).expect("renders");
            let allowed = placeholders(event).unwrap_or(&COMMON);
            for fact in rendered.facts.names() {
                assert!(allowed.contains(&fact), "{stem}: {fact} not allowed");
            }
            let text = expected["notifications"][0]["text"]
                .as_str()
                .unwrap_or_default();
            if !text.contains(" triggered ") {
                specific.insert(event.to_owned());
            }
            checked += 1;
        }
        assert!(checked > 40, "only {checked} payloads");
        let missing: Vec<&str> = template_keys()
            .filter(|k| *k != "default" && !specific.contains(*k))
            .collect();
        assert!(
            missing.is_empty(),
            "no golden sample with a specific text: {missing:?}"
        );
    }

    /// The events of GitHub's webhook documentation (docs.github.com,
    /// "Webhook events and payloads"); each has a text of its own.
    const DOCUMENTED: &[&str] = &[
        "branch_protection_configuration",
        "branch_protection_rule",
        "check_run",
        "check_suite",
        "code_scanning_alert",
        "commit_comment",
        "create",
        "custom_property",
        "custom_property_values",
        "delete",
        "dependabot_alert",
        "deploy_key",
        "deployment",
        "deployment_protection_rule",
        "deployment_review",
        "deployment_status",
        "discussion",
        "discussion_comment",
        "exemption_request_push_ruleset",
        "exemption_request_secret_scanning",
        "fork",
        "github_app_authorization",
        "gollum",
        "installation",
        "installation_repositories",
        "installation_target",
        "issue_comment",
        "issue_dependencies",
        "issues",
        "label",
        "marketplace_purchase",
        "member",
        "membership",
        "merge_group",
        "meta",
        "milestone",
        "org_block",
        "organization",
        "package",
        "page_build",
        "personal_access_token_request",
        "ping",
        "project",
        "project_card",
        "project_column",
        "projects_v2",
        "projects_v2_item",
        "projects_v2_status_update",
        "public",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "pull_request_review_thread",
        "push",
        "registry_package",
        "release",
        "repository",
        "repository_advisory",
        "repository_dispatch",
        "repository_import",
        "repository_ruleset",
        "repository_vulnerability_alert",
        "secret_scanning_alert",
        "secret_scanning_alert_location",
        "secret_scanning_scan",
        "security_advisory",
        "security_and_analysis",
        "sponsorship",
        "star",
        "status",
        "sub_issues",
        "team",
        "team_add",
        "watch",
        "workflow_dispatch",
        "workflow_job",
        "workflow_run",
    ];

    #[test]
    fn every_documented_event_has_a_renderer() {
        let missing: Vec<&&str> = DOCUMENTED
            .iter()
            .filter(|e| placeholders(e).is_none())
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
        assert!(placeholders("widget_polished").is_none());
    }
}
