//! `create` and `delete`: a branch or tag made or removed (also announced by
//! `push`, but some hooks subscribe only to these).

use std::borrow::Cow;

use serde::Deserialize;

use super::{login, Rendered, Repo, User};
use crate::text::GitRef;

#[derive(Debug, Deserialize)]
struct RefEvent<'a> {
    #[serde(borrow, rename = "ref")]
    git_ref: Cow<'a, str>,
    #[serde(borrow)]
    ref_type: Cow<'a, str>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

pub fn render_create(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: RefEvent<'_> = gate_core::json::from_str(json)?;
    let git_ref = GitRef::from_type(&event.ref_type, &event.git_ref);
    let sender = login(&event.sender);
    let text = format!(
        "{sender} created {} in {}",
        git_ref.described(),
        event.repository.full_name
    );
    let link = created_link(event.repository.url(), git_ref);
    Ok(finish(&event, git_ref, "created").say(text, link))
}

pub fn render_delete(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: RefEvent<'_> = gate_core::json::from_str(json)?;
    let git_ref = GitRef::from_type(&event.ref_type, &event.git_ref);
    let sender = login(&event.sender);
    let text = format!(
        "{sender} deleted {} of {}",
        git_ref.described(),
        event.repository.full_name
    );
    let link = deleted_link(event.repository.url(), git_ref);
    Ok(finish(&event, git_ref, "deleted").say(text, link))
}

/// A new tag's release page (GitHub shows the tag there, release or not),
/// a new branch's tree.
pub(crate) fn created_link(repo_url: &str, git_ref: GitRef<'_>) -> String {
    match git_ref {
        GitRef::Tag(tag) => format!("{repo_url}/releases/tag/{tag}"),
        other => format!("{repo_url}/tree/{}", other.name()),
    }
}

/// Where a deleted ref was listed: the tags or the branches.
pub(crate) fn deleted_link(repo_url: &str, git_ref: GitRef<'_>) -> String {
    match git_ref {
        GitRef::Tag(_) => format!("{repo_url}/tags"),
        GitRef::Branch(_) => format!("{repo_url}/branches"),
        GitRef::Other(_) => repo_url.to_owned(),
    }
}

fn finish(event: &RefEvent<'_>, git_ref: GitRef<'_>, action: &str) -> Rendered {
    Rendered::new(login(&event.sender), Some(&event.repository), action)
        .fact("ref", git_ref.name())
        .fact("branch", git_ref.branch())
        .fact("tag", git_ref.tag())
}
