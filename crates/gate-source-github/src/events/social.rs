//! `fork`, `watch` (starring, historically named) and `star`.

use std::borrow::Cow;

use serde::Deserialize;

use super::{login, Rendered, Repo, User};

#[derive(Debug, Deserialize)]
struct Fork<'a> {
    #[serde(borrow)]
    forkee: Repo<'a>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

pub fn render_fork(json: &str) -> Result<Rendered, serde_json::Error> {
    let fork: Fork<'_> = gate_core::json::from_str(json)?;
    let sender = login(&fork.sender);
    let text = format!(
        "{sender} forked {} to {}",
        fork.repository.full_name, fork.forkee.full_name
    );
    Ok(Rendered::new(sender, Some(&fork.repository), "")
        .say(text, fork.forkee.url())
        .fact("fork", fork.forkee.full_name.as_ref()))
}

#[derive(Debug, Deserialize)]
struct Star<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

/// `watch` only ever has `started` (a star); `star` has `created`/`deleted`.
pub fn render_star(event: &str, json: &str) -> Result<Rendered, serde_json::Error> {
    let star: Star<'_> = gate_core::json::from_str(json)?;
    let sender = login(&star.sender);
    let repo = &star.repository.full_name;
    let text = match (event, star.action.as_ref()) {
        ("star", "deleted") => format!("{sender} unstarred {repo}"),
        ("star", "created") | ("watch", "started") => format!("{sender} starred {repo}"),
        (_, action) => super::unknown_action(sender, action, &format!("the stars of {repo}")),
    };
    // The news is who starred: link to them, as the original did.
    let link = star
        .sender
        .as_ref()
        .and_then(|u| u.html_url.as_deref())
        .filter(|url| !url.is_empty())
        .unwrap_or(star.repository.url());
    Ok(Rendered::new(sender, Some(&star.repository), &star.action).say(text, link))
}
