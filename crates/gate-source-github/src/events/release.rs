//! `release`: published, drafted, edited, deleted releases.

use std::borrow::Cow;

use serde::Deserialize;

use super::{login, Rendered, Repo, User};
use crate::text::snippet;

#[derive(Debug, Deserialize)]
struct ReleaseEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    release: Release<'a>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

#[derive(Debug, Deserialize)]
struct Release<'a> {
    #[serde(borrow)]
    tag_name: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
    #[serde(default)]
    prerelease: bool,
    #[serde(default)]
    draft: bool,
}

pub fn render(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: ReleaseEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let repo = &event.repository.full_name;
    let release = &event.release;
    let tag = release.tag_name.as_ref();
    let name = release.name.as_deref().map(snippet).unwrap_or_default();
    // The name only when it says more than the tag.
    let titled = if name.is_empty() || name == tag {
        String::new()
    } else {
        format!(": {name}")
    };
    let kind = if release.prerelease {
        "pre-release"
    } else {
        "release"
    };
    let text = match event.action.as_ref() {
        "published" => format!("{sender} published {kind} {tag} of {repo}{titled}"),
        "created" if release.draft => format!("{sender} drafted {kind} {tag} of {repo}{titled}"),
        "released" => format!("{sender} released {tag} of {repo}{titled}"),
        "prereleased" => format!("{sender} pre-released {tag} of {repo}{titled}"),
        action @ ("created" | "edited" | "deleted" | "unpublished") => {
            format!("{sender} {action} {kind} {tag} of {repo}{titled}")
        }
        action => {
            super::unknown_action(sender, action, &format!("{kind} {tag} of {repo}")) + &titled
        }
    };
    // A deleted release has no page any more.
    let link = match (event.action.as_ref(), release.html_url.as_deref()) {
        ("deleted", _) | (_, None) => format!("{}/releases", event.repository.url()),
        (_, Some(url)) => url.to_owned(),
    };
    let title = if name.is_empty() {
        tag.to_owned()
    } else {
        name
    };
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(text, link)
            .fact("tag", tag)
            .fact("title", title),
    )
}
