//! Organisation, access and installation events: collaborators, teams,
//! members, blocks, keys, protection rules and rulesets, GitHub App
//! installations, hooks, Marketplace, sponsorships, token requests and
//! custom properties.

use super::payload::Payload;
use super::said::{aside, detail, first_url, sentence, Said};
use crate::text::words;

const CRUD: &[(&str, &str)] = &[
    ("created", "created"),
    ("edited", "edited"),
    ("updated", "updated"),
    ("deleted", "deleted"),
];

/// `<organization page>/settings/<page>` on the organization, else the place.
fn org_settings(p: &Payload, page: &str) -> String {
    match p.org() {
        "" => p.place_url(),
        org => format!("{}/organizations/{org}/settings/{page}", p.web_root()),
    }
}

fn repo_settings(p: &Payload, page: &str) -> String {
    match p.repo_url() {
        "" => org_settings(p, page),
        repo => format!("{repo}/settings/{page}"),
    }
}

pub fn member(p: &Payload) -> Option<Said> {
    let member = p.str("member.login");
    if member.is_empty() {
        return None;
    }
    let place = p.place();
    let permission = p.first(&["changes.permission.to", "changes.role_name.to"]);
    let sender = p.sender();
    let text = match p.action() {
        "added" => format!(
            "{sender} added {member} as a collaborator to {place}{}",
            aside(permission)
        ),
        "removed" => format!("{sender} removed collaborator {member} from {place}"),
        "edited" => format!(
            "{sender} changed the access of {member} to {place}{}",
            aside(permission)
        ),
        _ => sentence(p, &[], &format!("collaborator {member} of {place}")),
    };
    let link = first_url([p.str("member.html_url"), &repo_settings(p, "access")]);
    Some(Said::new(text, link).title(member))
}

pub fn team(p: &Payload) -> Option<Said> {
    let team = p.str("team.name");
    if team.is_empty() {
        return None;
    }
    let org = p.org();
    let sender = p.sender();
    let repo = p.repo();
    let text = match p.action() {
        "added_to_repository" => format!("{sender} gave team {team} access to {repo}"),
        "removed_from_repository" => {
            format!("{sender} removed the access of team {team} to {repo}")
        }
        _ => sentence(p, CRUD, &format!("team {team} in organization {org}")),
    };
    let link = match p.action() {
        "deleted" => format!("{}/orgs/{org}/teams", p.web_root()),
        _ => first_url([p.str("team.html_url"), &p.place_url()]),
    };
    Some(Said::new(text, link).title(team))
}

pub fn team_add(p: &Payload) -> Option<Said> {
    let team = p.str("team.name");
    if team.is_empty() {
        return None;
    }
    let text = format!("{} gave team {team} access to {}", p.sender(), p.place());
    let link = first_url([p.str("team.html_url"), &p.place_url()]);
    Some(Said::new(text, link).title(team))
}

pub fn organization(p: &Payload) -> Option<Said> {
    let org = p.org();
    if org.is_empty() {
        return None;
    }
    let sender = p.sender();
    let user = p.first(&[
        "membership.user.login",
        "invitation.login",
        "invitation.email",
    ]);
    let role = words(p.first(&["membership.role", "invitation.role"]));
    let text = match p.action() {
        "member_added" => format!(
            "{sender} added {user} to organization {org}{}",
            aside(&role)
        ),
        "member_invited" => {
            format!(
                "{sender} invited {user} to organization {org}{}",
                aside(&role)
            )
        }
        "member_removed" => format!("{sender} removed {user} from organization {org}"),
        "renamed" => format!(
            "{sender} renamed organization {} to {org}",
            p.str("changes.login.from")
        ),
        "deleted" => format!("{sender} deleted organization {org}"),
        _ => sentence(p, &[], &format!("organization {org}")),
    };
    let link = match p.action() {
        "member_added" | "member_removed" => {
            first_url([p.str("membership.user.html_url"), &p.org_url()])
        }
        "member_invited" => {
            format!("{}/orgs/{org}/people/pending_invitations", p.web_root())
        }
        _ => p.org_url(),
    };
    Some(Said::new(text, link).title(org))
}

pub fn org_block(p: &Payload) -> Option<Said> {
    let user = p.str("blocked_user.login");
    if user.is_empty() {
        return None;
    }
    let place = p.place();
    let text = sentence(
        p,
        &[("blocked", "blocked"), ("unblocked", "unblocked")],
        &format!("{user} in {place}"),
    );
    let link = first_url([p.str("blocked_user.html_url"), &p.place_url()]);
    Some(Said::new(text, link).title(user))
}

pub fn public(p: &Payload) -> Option<Said> {
    if p.repo().is_empty() {
        return None;
    }
    let text = format!("{} made {} public", p.sender(), p.repo());
    Some(Said::new(text, p.repo_url()))
}

pub fn deploy_key(p: &Payload) -> Option<Said> {
    let title = p.snippet("key.title");
    let place = p.place();
    let sender = p.sender();
    let access = if p.flag("key.read_only") {
        "read-only"
    } else {
        "read-write"
    };
    let text = match p.action() {
        "created" => format!("{sender} added {access} deploy key {title} to {place}"),
        "deleted" => format!("{sender} removed deploy key {title} from {place}"),
        _ => sentence(p, &[], &format!("deploy key {title} of {place}")),
    };
    Some(Said::new(text, repo_settings(p, "keys")).title(title))
}

pub fn branch_protection_rule(p: &Payload) -> Option<Said> {
    let name = p.str("rule.name");
    if name.is_empty() {
        return None;
    }
    let what = format!("branch protection rule {name} in {}", p.place());
    let link = match (p.action(), p.num("rule.id")) {
        ("deleted", _) | (_, None) => repo_settings(p, "branches"),
        (_, Some(id)) => repo_settings(p, &format!("branch_protection_rules/{id}")),
    };
    Some(Said::new(sentence(p, CRUD, &what), link).title(name))
}

pub fn branch_protection_configuration(p: &Payload) -> Option<Said> {
    let what = format!("branch protection in {}", p.place());
    let text = sentence(
        p,
        &[("enabled", "enabled"), ("disabled", "disabled")],
        &what,
    );
    Some(Said::new(text, repo_settings(p, "branches")))
}

pub fn repository_ruleset(p: &Payload) -> Option<Said> {
    let name = p.str("repository_ruleset.name");
    if name.is_empty() {
        return None;
    }
    let target = words(p.str("repository_ruleset.target"));
    let what = format!("ruleset {name}{} in {}", aside(&target), p.place());
    let link = match (p.action(), p.num("repository_ruleset.id")) {
        ("deleted", _) | (_, None) => repo_settings(p, "rules"),
        (_, Some(id)) => repo_settings(p, &format!("rules/{id}")),
    };
    Some(Said::new(sentence(p, CRUD, &what), link).title(name))
}

/// The app an installation is of, for texts.
fn app(p: &Payload) -> String {
    match (p.str("installation.app_slug"), p.num("installation.app_id")) {
        ("", Some(id)) => format!("GitHub App {id}"),
        ("", None) => "a GitHub App".to_owned(),
        (slug, _) => format!("GitHub App {slug}"),
    }
}

fn installation_url(p: &Payload) -> String {
    first_url([
        p.str("installation.html_url"),
        p.str("installation.account.html_url"),
        p.str("sender.html_url"),
    ])
}

pub fn installation(p: &Payload) -> Option<Said> {
    p.at("installation").as_object()?;
    let app = app(p);
    let account = p.str("installation.account.login");
    let on = if account.is_empty() {
        String::new()
    } else {
        format!(" on {account}")
    };
    let sender = p.sender();
    let count = p.at("repositories").as_array().map(Vec::len);
    let repos = match count {
        Some(1) => " (1 repository)".to_owned(),
        Some(n) if n > 1 => format!(" ({n} repositories)"),
        _ => String::new(),
    };
    let text = match p.action() {
        "created" => format!("{sender} installed {app}{on}{repos}"),
        "deleted" => format!("{sender} uninstalled {app}{on}"),
        "suspend" => format!("{sender} suspended {app}{on}"),
        "unsuspend" => format!("{sender} unsuspended {app}{on}"),
        "new_permissions_accepted" => format!("{sender} accepted new permissions for {app}{on}"),
        _ => sentence(p, &[], &format!("the installation of {app}{on}")),
    };
    Some(Said::new(text, installation_url(p)).title(app))
}

pub fn installation_repositories(p: &Payload) -> Option<Said> {
    p.at("installation").as_object()?;
    let app = app(p);
    let names = |key: &str| -> Vec<String> {
        p.at(key)
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("full_name")?.as_str().map(str::to_owned))
            .collect()
    };
    let list = |names: Vec<String>| match names.len() {
        0 => "no repository".to_owned(),
        1..=3 => names.join(", "),
        n => format!("{} (+{} more)", names[..3].join(", "), n - 3),
    };
    let sender = p.sender();
    let text = match p.action() {
        "added" => format!(
            "{sender} gave {app} access to {}",
            list(names("repositories_added"))
        ),
        "removed" => format!(
            "{sender} removed the access of {app} to {}",
            list(names("repositories_removed"))
        ),
        _ => sentence(p, &[], &format!("the repositories of {app}")),
    };
    Some(Said::new(text, installation_url(p)).title(app))
}

pub fn installation_target(p: &Payload) -> Option<Said> {
    let login = p.first(&["account.login", "installation.account.login"]);
    if login.is_empty() {
        return None;
    }
    let old = p.str("changes.login.from");
    let text = match p.action() {
        "renamed" if !old.is_empty() => {
            format!(
                "{} renamed account {old} to {login}, where {} is installed",
                p.sender(),
                app(p)
            )
        }
        _ => sentence(
            p,
            &[],
            &format!("account {login}, where {} is installed", app(p)),
        ),
    };
    let link = first_url([p.str("account.html_url"), &installation_url(p)]);
    Some(Said::new(text, link).title(login))
}

pub fn github_app_authorization(p: &Payload) -> Option<Said> {
    let text = match p.action() {
        "revoked" => format!(
            "{} revoked their authorization of the GitHub App",
            p.sender()
        ),
        _ => sentence(p, &[], "their authorization of the GitHub App"),
    };
    Some(Said::new(text, p.str("sender.html_url")))
}

pub fn meta(p: &Payload) -> Option<Said> {
    let hook = p
        .num("hook_id")
        .or(p.num("hook.id"))
        .map(|id| format!("webhook {id}"))
        .unwrap_or_else(|| "a webhook".to_owned());
    let place = p.place();
    let text = match p.action() {
        "deleted" => format!("{} deleted {hook} of {place}", p.sender()),
        _ => sentence(p, &[], &format!("{hook} of {place}")),
    };
    Some(Said::new(text, repo_settings(p, "hooks")))
}

pub fn marketplace_purchase(p: &Payload) -> Option<Said> {
    let plan = p.str("marketplace_purchase.plan.name");
    let account = p.str("marketplace_purchase.account.login");
    if plan.is_empty() || account.is_empty() {
        return None;
    }
    let what = format!("the Marketplace plan {plan} for {account}");
    let when = p
        .str("effective_date")
        .get(..10)
        .unwrap_or_default()
        .to_owned();
    let text = match p.action() {
        "purchased" => format!("{} bought {what}", p.sender()),
        "cancelled" => format!("{} cancelled {what}", p.sender()),
        "changed" => format!("{} changed to {what}", p.sender()),
        "pending_change" => format!("{} will change to {what} on {when}", p.sender()),
        "pending_change_cancelled" => {
            format!("{} cancelled the pending change to {what}", p.sender())
        }
        _ => sentence(p, &[], &what),
    };
    let link = format!("{}/{account}", p.web_root());
    Some(Said::new(text, link).title(plan))
}

pub fn sponsorship(p: &Payload) -> Option<Said> {
    let sponsor = p.str("sponsorship.sponsor.login");
    let sponsored = p.str("sponsorship.sponsorable.login");
    if sponsor.is_empty() || sponsored.is_empty() {
        return None;
    }
    let tier = p.str("sponsorship.tier.name");
    let old_tier = p.str("changes.tier.from.name");
    let when = p
        .str("effective_date")
        .get(..10)
        .unwrap_or_default()
        .to_owned();
    let on = if when.is_empty() {
        String::new()
    } else {
        format!(" on {when}")
    };
    let text = match p.action() {
        "created" => format!("{sponsor} started sponsoring {sponsored}{}", aside(tier)),
        "cancelled" => format!("{sponsor} stopped sponsoring {sponsored}"),
        "pending_cancellation" => format!("{sponsor} will stop sponsoring {sponsored}{on}"),
        "tier_changed" => {
            format!("{sponsor} changed the sponsorship of {sponsored} from {old_tier} to {tier}")
        }
        "pending_tier_change" => format!(
            "{sponsor} will change the sponsorship of {sponsored} from {old_tier} to {tier}{on}"
        ),
        "edited" => format!("{sponsor} edited the sponsorship of {sponsored}"),
        _ => sentence(
            p,
            &[],
            &format!("the sponsorship of {sponsored} by {sponsor}"),
        ),
    };
    let link = first_url([
        p.str("sponsorship.sponsorable.html_url"),
        p.str("sender.html_url"),
    ]);
    Some(Said::new(text, link).title(tier))
}

pub fn personal_access_token_request(p: &Payload) -> Option<Said> {
    let owner = p.str("personal_access_token_request.owner.login");
    let what = format!(
        "the fine-grained token request of {owner} for {}",
        p.place()
    );
    let sender = p.sender();
    let text = match p.action() {
        "created" => format!("{owner} requested a fine-grained token for {}", p.place()),
        "approved" => format!("{sender} approved {what}"),
        "denied" => format!("{sender} denied {what}"),
        "cancelled" => format!("{sender} cancelled {what}"),
        _ => sentence(p, &[], &what),
    };
    Some(Said::new(text, org_settings(p, "personal-access-token-requests")).title(owner))
}

pub fn custom_property(p: &Payload) -> Option<Said> {
    let name = p.str("definition.property_name");
    if name.is_empty() {
        return None;
    }
    let verbs = [
        ("created", "created"),
        ("updated", "updated"),
        ("deleted", "deleted"),
    ];
    let what = format!("custom property {name} of {}", p.place());
    let text = match p.action() {
        "promoted_to_enterprise" => format!("{} promoted {what} to the enterprise", p.sender()),
        _ => sentence(p, &verbs, &what),
    };
    Some(Said::new(text, org_settings(p, "custom-properties")).title(name))
}

pub fn custom_property_values(p: &Payload) -> Option<Said> {
    let names: Vec<&str> = p
        .at("new_property_values")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("property_name")?.as_str())
        .collect();
    let what = format!("the custom properties of {}", p.place());
    let text = format!(
        "{}{}",
        sentence(p, &[("updated", "updated")], &what),
        detail(&names.join(", "))
    );
    Some(Said::new(text, repo_settings(p, "custom-properties")))
}
