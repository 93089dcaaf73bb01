//! Administrative events: `repository` and `membership`.

use std::borrow::Cow;

use serde::Deserialize;

use super::ping::Org;
use super::{login, unknown_action, Rendered, User};
use crate::text::snippet;

#[derive(Debug, Deserialize)]
struct RepositoryEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    repository: FullRepo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
    #[serde(borrow, default)]
    changes: Option<Changes<'a>>,
}

/// A repository with what its own events tell about it.
#[derive(Debug, Deserialize)]
struct FullRepo<'a> {
    #[serde(borrow)]
    full_name: Cow<'a, str>,
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
    #[serde(default)]
    fork: bool,
    #[serde(borrow, default)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    default_branch: Option<Cow<'a, str>>,
}

/// `changes.repository.name.from` on `renamed`, `changes.default_branch.from`
/// when the default branch changed.
#[derive(Debug, Deserialize)]
struct Changes<'a> {
    #[serde(borrow, default)]
    repository: Option<RepoChanges<'a>>,
    #[serde(borrow, default)]
    default_branch: Option<From<'a>>,
    #[serde(borrow, default)]
    owner: Option<OwnerChange<'a>>,
}

/// `changes.owner.from.{organization,user}.login` on `transferred`.
#[derive(Debug, Deserialize)]
struct OwnerChange<'a> {
    #[serde(borrow)]
    from: PreviousOwner<'a>,
}

#[derive(Debug, Deserialize)]
struct PreviousOwner<'a> {
    #[serde(borrow, default)]
    organization: Option<super::ping::Org<'a>>,
    #[serde(borrow, default)]
    user: Option<super::ping::Org<'a>>,
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
    let old_default = event
        .changes
        .as_ref()
        .and_then(|c| c.default_branch.as_ref())
        .map(|b| b.from.as_ref());
    let new_default = event
        .repository
        .default_branch
        .as_deref()
        .unwrap_or_default();
    let previous_owner = event
        .changes
        .as_ref()
        .and_then(|c| c.owner.as_ref())
        .and_then(|o| o.from.organization.as_ref().or(o.from.user.as_ref()))
        .map(|o| o.login.as_ref());
    let head = match (event.action.as_ref(), old_name) {
        ("edited", _) if old_default.is_some() => format!(
            "{sender} changed the default branch of {repo} from {} to {new_default}",
            old_default.unwrap_or_default()
        ),
        ("transferred", _) if previous_owner.is_some() => format!(
            "{sender} transferred repository {repo} from {}",
            previous_owner.unwrap_or_default()
        ),
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
    // What the original's texts said of every repository: fork or not, and
    // its description.
    let fork = if event.repository.fork { " (fork)" } else { "" };
    let description = snippet(event.repository.description.as_deref().unwrap_or_default());
    let text = format!("{head}{fork}{}", super::said::detail(&description));
    let url = event.repository.html_url.as_deref().unwrap_or_default();
    // A deleted repository has no page any more: its owner's then.
    let link = match (event.action.as_ref(), url.rsplit_once('/')) {
        ("deleted", Some((owner_url, _))) => owner_url,
        _ => url,
    };
    Ok(Rendered::plain(sender, repo, &event.action).say(text, link))
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
    // A deleted team has no page: the organization's teams then.
    let link = match (event.team.html_url.as_deref(), &event.organization) {
        (Some(url), _) if !url.is_empty() => url.to_owned(),
        (_, Some(org)) => {
            let root = event
                .sender
                .as_ref()
                .and_then(|u| u.html_url.as_deref())
                .and_then(crate::text::web_root)
                .unwrap_or("https://github.com");
            format!("{root}/orgs/{}/teams", org.login)
        }
        _ => String::new(),
    };
    Ok(Rendered::new(sender, None, &event.action)
        .say(text, link)
        .fact("member", member)
        .fact("team", team.as_ref()))
}
