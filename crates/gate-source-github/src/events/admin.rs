//! Administrative events: `repository` and `membership`.

use std::borrow::Cow;

use serde::Deserialize;

use super::ping::Org;
use super::{login, unknown_action, Rendered, Repo, User};

#[derive(Debug, Deserialize)]
struct RepositoryEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
    #[serde(borrow, default)]
    changes: Option<Changes<'a>>,
}

/// `changes.repository.name.from` on `renamed`.
#[derive(Debug, Deserialize)]
struct Changes<'a> {
    #[serde(borrow, default)]
    repository: Option<RepoChanges<'a>>,
}

#[derive(Debug, Deserialize)]
struct RepoChanges<'a> {
    #[serde(borrow, default)]
    name: Option<From<'a>>,
}

#[derive(Debug, Deserialize)]
struct From<'a> {
    #[serde(borrow)]
    from: Cow<'a, str>,
}

pub fn render_repository(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: RepositoryEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let repo = &event.repository.full_name;
    let old_name = event
        .changes
        .as_ref()
        .and_then(|c| c.repository.as_ref())
        .and_then(|r| r.name.as_ref())
        .map(|n| n.from.as_ref());
    let text = match (event.action.as_ref(), old_name) {
        ("renamed", Some(old)) => {
            // The owner did not change: show the old full name.
            let owner = repo.split_once('/').map_or("", |(owner, _)| owner);
            format!("{sender} renamed repository {owner}/{old} to {repo}")
        }
        ("publicized", _) => format!("{sender} made {repo} public"),
        ("privatized", _) => format!("{sender} made {repo} private"),
        (
            action @ ("created" | "deleted" | "archived" | "unarchived" | "edited" | "renamed"
            | "transferred"),
            _,
        ) => format!("{sender} {action} repository {repo}"),
        (action, _) => unknown_action(sender, action, &format!("repository {repo}")),
    };
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(text, event.repository.url()),
    )
}

#[derive(Debug, Deserialize)]
struct MembershipEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow, default)]
    member: Option<User<'a>>,
    #[serde(borrow)]
    team: Team<'a>,
    #[serde(borrow, default)]
    organization: Option<Org<'a>>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

#[derive(Debug, Deserialize)]
struct Team<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
}

pub fn render_membership(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: MembershipEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let member = event.member.as_ref().map_or("someone", |u| &u.login);
    let team = &event.team.name;
    let of_org = event
        .organization
        .as_ref()
        .map(|o| format!(" of {}", o.login))
        .unwrap_or_default();
    let text = match event.action.as_ref() {
        "added" => format!("{sender} added {member} to team {team}{of_org}"),
        "removed" => format!("{sender} removed {member} from team {team}{of_org}"),
        action => unknown_action(sender, action, &format!("team {team}{of_org}")),
    };
    let link = event.team.html_url.as_deref().unwrap_or_default();
    Ok(Rendered::new(sender, None, &event.action)
        .say(text, link)
        .fact("member", member)
        .fact("team", team.as_ref()))
}
