//! Security: code scanning, Dependabot and secret scanning alerts,
//! advisories, vulnerability alerts and the security settings.

use super::payload::Payload;
use super::said::{aside, detail, first_url, sentence, Said};
use crate::text::words;

/// `<repository>/security/<kind>/<n>`, the alert page GitHub shows.
fn alert_page(p: &Payload, kind: &str) -> String {
    match (p.repo_url(), p.num("alert.number")) {
        ("", _) => p.place_url(),
        (repo, Some(n)) => format!("{repo}/security/{kind}/{n}"),
        (repo, None) => format!("{repo}/security/{kind}"),
    }
}

pub fn code_scanning_alert(p: &Payload) -> Option<Said> {
    let number = p.num("alert.number")?;
    let place = p.place();
    let what = format!("code scanning alert #{number} in {place}");
    let rule = p.first(&["alert.rule.description", "alert.rule.name", "alert.rule.id"]);
    let severity = p.first(&["alert.rule.security_severity_level", "alert.rule.severity"]);
    let tool = p.str("alert.tool.name");
    let head = match p.action() {
        "created" if !tool.is_empty() => format!("{tool} opened {what}"),
        "appeared_in_branch" => format!(
            "{what} appeared in {}",
            p.str("ref")
                .strip_prefix("refs/heads/")
                .unwrap_or(p.str("ref"))
        ),
        _ => sentence(
            p,
            &[
                ("created", "opened"),
                ("reopened", "reopened"),
                ("reopened_by_user", "reopened"),
                ("closed_by_user", "closed"),
                ("fixed", "fixed"),
                ("assigned", "assigned"),
                ("unassigned", "unassigned"),
                ("updated_assignment", "reassigned"),
            ],
            &what,
        ),
    };
    let link = first_url([p.str("alert.html_url"), &alert_page(p, "code-scanning")]);
    let text = format!("{head}{}{}", detail(rule), aside(severity));
    Some(Said::new(text, link).title(rule))
}

pub fn dependabot_alert(p: &Payload) -> Option<Said> {
    let number = p.num("alert.number")?;
    let what = format!("Dependabot alert #{number} in {}", p.place());
    let summary = p.snippet("alert.security_advisory.summary");
    let package = p.str("alert.dependency.package.name");
    let severity = p.first(&["alert.security_advisory.severity", "alert.severity"]);
    let facts = [package, severity]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let head = sentence(
        p,
        &[
            ("created", "opened"),
            ("dismissed", "dismissed"),
            ("fixed", "fixed"),
            ("reintroduced", "reintroduced"),
            ("reopened", "reopened"),
            ("auto_dismissed", "auto-dismissed"),
            ("auto_reopened", "auto-reopened"),
            ("assignees_changed", "reassigned"),
        ],
        &what,
    );
    let link = first_url([p.str("alert.html_url"), &alert_page(p, "dependabot")]);
    let text = format!("{head}{}{}", detail(&summary), aside(&facts));
    Some(Said::new(text, link).title(summary))
}

pub fn secret_scanning_alert(p: &Payload) -> Option<Said> {
    let number = p.num("alert.number")?;
    let what = format!("secret scanning alert #{number} in {}", p.place());
    let kind = p.first(&["alert.secret_type_display_name", "alert.secret_type"]);
    let head = match p.action() {
        "publicly_leaked" => format!("{what} was leaked publicly"),
        _ => sentence(
            p,
            &[
                ("created", "opened"),
                ("reopened", "reopened"),
                ("resolved", "resolved"),
                ("revoked", "revoked"),
                ("validated", "validated"),
                ("assigned", "assigned"),
                ("unassigned", "unassigned"),
            ],
            &what,
        ),
    };
    let link = first_url([p.str("alert.html_url"), &alert_page(p, "secret-scanning")]);
    Some(Said::new(format!("{head}{}", aside(kind)), link).title(kind))
}

pub fn secret_scanning_alert_location(p: &Payload) -> Option<Said> {
    let number = p.num("alert.number")?;
    let path = p.str("location.details.path");
    let kind = words(p.str("location.type"));
    let found = [kind.as_str(), path]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let text = format!(
        "secret scanning alert #{number} in {} found in a new location{}",
        p.place(),
        aside(&found)
    );
    let link = first_url([p.str("alert.html_url"), &alert_page(p, "secret-scanning")]);
    Some(Said::new(text, link).title(path))
}

pub fn secret_scanning_scan(p: &Payload) -> Option<Said> {
    let kind = p.str("type");
    let scan = if kind.is_empty() {
        "secret scanning scan".to_owned()
    } else {
        format!("secret scanning {kind} scan")
    };
    let source = words(p.str("source"));
    let text = match p.action() {
        "completed" => format!("{scan} of {} completed{}", p.place(), aside(&source)),
        _ => sentence(p, &[], &format!("{scan} of {}", p.place())),
    };
    let link = match p.repo_url() {
        "" => p.place_url(),
        repo => format!("{repo}/security/secret-scanning"),
    };
    Some(Said::new(text, link))
}

/// `security_advisory` (GitHub's database) and `repository_advisory`.
fn advisory(p: &Payload, key: &str, verbs: &[(&str, &str)], place: &str) -> Option<Said> {
    let at = |field: &str| format!("{key}.{field}");
    let id = p.first(&[&at("ghsa_id"), &at("cve_id")]);
    if id.is_empty() {
        return None;
    }
    let summary = p.snippet(&at("summary"));
    let severity = p.str(&at("severity"));
    let actor = if p.str("sender.login").is_empty() {
        "GitHub"
    } else {
        p.sender()
    };
    let action = p.action();
    let head = match verbs.iter().find(|(a, _)| *a == action) {
        Some((_, verb)) => format!("{actor} {verb} security advisory {id}{place}"),
        None => super::unknown_action(actor, action, &format!("security advisory {id}{place}")),
    };
    let link = first_url([
        p.str(&at("html_url")),
        &format!("{}/advisories/{id}", p.web_root()),
    ]);
    let text = format!("{head}{}{}", detail(&summary), aside(severity));
    Some(Said::new(text, link).title(summary))
}

pub fn security_advisory(p: &Payload) -> Option<Said> {
    let verbs = [
        ("published", "published"),
        ("updated", "updated"),
        ("withdrawn", "withdrew"),
        ("performed", "re-analysed"),
    ];
    advisory(p, "security_advisory", &verbs, "")
}

pub fn repository_advisory(p: &Payload) -> Option<Said> {
    let place = format!(" in {}", p.place());
    advisory(
        p,
        "repository_advisory",
        &[("published", "published"), ("reported", "reported")],
        &place,
    )
}

pub fn repository_vulnerability_alert(p: &Payload) -> Option<Said> {
    let package = p.str("alert.affected_package_name");
    if package.is_empty() {
        return None;
    }
    let range = p.str("alert.affected_range");
    let id = p.first(&["alert.external_identifier", "alert.ghsa_id"]);
    let severity = p.str("alert.severity");
    let place = p.place();
    let what = format!("the vulnerability alert for {package} in {place}");
    let text = match p.action() {
        "create" => format!(
            "vulnerability alert for {package}{} in {place}",
            aside(range)
        ),
        "dismiss" => {
            let who = p.first(&["alert.dismisser.login", "sender.login"]);
            format!("{who} dismissed {what}")
        }
        "resolve" => format!("{} resolved", what.trim_start_matches("the ")),
        _ => sentence(p, &[("reopen", "reopened")], &what),
    };
    let facts = [id, severity]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let link = match p.num("alert.number") {
        Some(_) => alert_page(p, "dependabot"),
        None => first_url([p.str("alert.external_reference"), &p.place_url()]),
    };
    Some(Said::new(format!("{text}{}", detail(&facts)), link).title(package))
}

pub fn security_and_analysis(p: &Payload) -> Option<Said> {
    let before = p.at("changes.from.security_and_analysis").as_object();
    let mut changed: Vec<String> = before
        .into_iter()
        .flatten()
        .map(|(feature, _)| {
            let now = p.str(&format!(
                "repository.security_and_analysis.{feature}.status"
            ));
            let verb = match now {
                "enabled" => "enabled",
                "disabled" => "disabled",
                _ => "changed",
            };
            format!("{verb} {}", words(feature))
        })
        .collect();
    changed.sort();
    let text = if changed.is_empty() {
        format!(
            "{} changed the security and analysis settings of {}",
            p.sender(),
            p.place()
        )
    } else {
        format!("{} {} in {}", p.sender(), changed.join(", "), p.place())
    };
    let link = match p.repo_url() {
        "" => p.place_url(),
        repo => format!("{repo}/settings/security_analysis"),
    };
    Some(Said::new(text, link))
}

/// `exemption_request_push_ruleset`, `exemption_request_secret_scanning`:
/// requests to bypass push rules or push protection, and their answers.
fn exemption(p: &Payload, what: &str) -> Option<Said> {
    let number = p
        .num("exemption_request.number")
        .or(p.num("exemption_request.id"))?;
    let request = format!("bypass request #{number} for {what} in {}", p.place());
    let comment = p.reply("exemption_request.requester_comment");
    let sender = p.sender();
    let text = match p.action() {
        "created" => format!(
            "{} asked to bypass {what} in {} (#{number}){}",
            p.first(&["exemption_request.requester_login", "sender.login"]),
            p.place(),
            detail(&comment)
        ),
        "completed" => format!(
            "{request} completed{}",
            aside(&words(p.str("exemption_request.status")))
        ),
        "cancelled" => format!("{sender} cancelled {request}"),
        "response_submitted" => format!(
            "{sender} answered {request}{}",
            aside(&words(p.str("exemption_response.status")))
        ),
        "response_dismissed" => format!("{sender} dismissed an answer to {request}"),
        _ => sentence(p, &[], &request),
    };
    let link = first_url([p.str("exemption_request.html_url"), &p.place_url()]);
    Some(Said::new(text, link).title(comment))
}

pub fn exemption_request_push_ruleset(p: &Payload) -> Option<Said> {
    exemption(p, "push rules")
}

pub fn exemption_request_secret_scanning(p: &Payload) -> Option<Said> {
    exemption(p, "secret scanning push protection")
}
