//! `push`: commits to a branch, tag pushes, branch creation and deletion,
//! forced updates.

use std::borrow::Cow;

use serde::Deserialize;

use super::{refs, Rendered, Repo, User};
use crate::text::{plural, short_sha, snippet, GitRef};

#[derive(Debug, Deserialize)]
struct Push<'a> {
    #[serde(borrow, rename = "ref")]
    git_ref: Cow<'a, str>,
    #[serde(default)]
    created: bool,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    forced: bool,
    #[serde(borrow, default)]
    after: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    compare: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    commits: Vec<Commit<'a>>,
    #[serde(borrow, default)]
    head_commit: Option<Commit<'a>>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
    #[serde(borrow, default)]
    pusher: Option<Pusher<'a>>,
}

#[derive(Debug, Deserialize)]
struct Commit<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    message: Cow<'a, str>,
    #[serde(borrow, default)]
    url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    author: Option<Person<'a>>,
}

/// A commit author as git records it, with the GitHub login when known.
#[derive(Debug, Deserialize)]
struct Person<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    username: Option<Cow<'a, str>>,
}

impl Person<'_> {
    fn who(&self) -> &str {
        self.username
            .as_deref()
            .filter(|u| !u.is_empty())
            .or(self.name.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
struct Pusher<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

pub fn render(json: &str) -> Result<Rendered, serde_json::Error> {
    let push: Push<'_> = gate_core::json::from_str(json)?;
    let sender = match (&push.sender, &push.pusher) {
        (Some(user), _) => user.login.as_ref(),
        (None, Some(pusher)) => pusher.name.as_ref(),
        (None, None) => super::SOMEONE,
    };
    let repo = push.repository.full_name.as_ref();
    let repo_url = push.repository.url();
    let git_ref = GitRef::parse(&push.git_ref);
    let count = push.commits.len();
    // The newest commit says best what the push is about.
    let head = push.head_commit.as_ref().or(push.commits.last());
    // The head commit, not `after`: for an annotated tag `after` is the tag
    // object. A deleted ref points nowhere.
    let sha = match (push.deleted, head) {
        (true, _) => "",
        (false, Some(commit)) if !commit.id.is_empty() => short_sha(&commit.id),
        (false, _) => short_sha(push.after.as_deref().unwrap_or_default()),
    };
    let message = head.map(|c| snippet(&c.message)).unwrap_or_default();
    let compare = push.compare.as_deref().unwrap_or(repo_url);
    // Someone else's commit: say whose (the original's "(authored by X)").
    let author = head
        .and_then(|c| c.author.as_ref())
        .map(Person::who)
        .filter(|who| !who.is_empty() && *who != sender)
        .map(|who| format!(" (authored by {who})"))
        .unwrap_or_default();
    let summary = match count {
        0 => String::new(),
        1 => format!(": {message}{author}"),
        n => format!(": {message} (+{} more)", n - 1),
    };
    let target = match git_ref {
        GitRef::Branch(name) => name.to_owned(),
        other => other.described(),
    };

    let (action, text, link) = if push.deleted {
        let text = format!("{sender} deleted {} of {repo}", git_ref.described());
        ("deleted", text, refs::deleted_link(repo_url, git_ref))
    } else if push.created {
        let tree = refs::created_link(repo_url, git_ref);
        let text = match (git_ref, count) {
            (GitRef::Tag(tag), _) => format!("{sender} pushed tag {tag} to {repo} at {sha}"),
            (_, 0) => format!(
                "{sender} created {} in {repo} at {sha}",
                git_ref.described()
            ),
            (_, n) => format!(
                "{sender} created {} in {repo} with {}{summary}",
                git_ref.described(),
                plural(n, "commit")
            ),
        };
        ("created", text, tree)
    } else if push.forced {
        let detail = if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        };
        let text = format!("{sender} force-pushed {target} of {repo} to {sha}{detail}");
        ("forced", text, compare.to_owned())
    } else if count == 0 {
        let text = format!("{sender} updated {target} of {repo} to {sha}");
        ("pushed", text, compare.to_owned())
    } else {
        let text = format!(
            "{sender} pushed {} to {target} of {repo}{summary}",
            plural(count, "commit")
        );
        // One commit: its own page says more than a one-commit comparison.
        let link = match (count, head.and_then(|c| c.url.as_deref())) {
            (1, Some(url)) => url,
            _ => compare,
        };
        ("pushed", text, link.to_owned())
    };

    Ok(Rendered::new(sender, Some(&push.repository), action)
        .say(text, link)
        .fact("ref", push.git_ref.as_ref())
        .fact("branch", git_ref.branch())
        .fact("tag", git_ref.tag())
        .fact("count", count.to_string())
        .fact("message", message)
        .fact("sha", sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(json: &str) -> (String, String) {
        let r = render(json).expect("renders");
        (r.text, r.link)
    }

    const REPO: &str =
        r#""repository":{"full_name":"acme/widgets","html_url":"https://github.com/acme/widgets"}"#;

    #[test]
    fn pushes_without_new_commits_name_the_new_head() {
        let json = format!(
            r#"{{"ref":"refs/heads/main","after":"abcdef0123","commits":[],"compare":"https://c",{REPO},"pusher":{{"name":"octocat"}}}}"#
        );
        assert_eq!(
            text(&json),
            (
                "octocat updated main of acme/widgets to abcdef0".into(),
                "https://c".into()
            )
        );
    }

    #[test]
    fn odd_refs_and_missing_senders_still_read_well() {
        let json =
            format!(r#"{{"ref":"refs/notes/commits","forced":true,"after":"abcdef0123",{REPO}}}"#);
        assert_eq!(
            text(&json).0,
            "someone force-pushed ref refs/notes/commits of acme/widgets to abcdef0"
        );
        let json = format!(r#"{{"ref":"refs/tags/v2","deleted":true,{REPO}}}"#);
        assert_eq!(
            text(&json),
            (
                "someone deleted tag v2 of acme/widgets".into(),
                "https://github.com/acme/widgets/tags".into()
            )
        );
    }
}
