//! `issues`, `issue_comment` and `commit_comment`.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{login, unknown_action, Rendered, Repo, User};
use crate::text::{short_sha, snippet};

#[derive(Debug, Deserialize)]
pub(crate) struct Label<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct Issue<'a> {
    number: u64,
    #[serde(borrow, default)]
    title: Cow<'a, str>,
    #[serde(borrow, default)]
    html_url: Cow<'a, str>,
    #[serde(borrow, default)]
    state: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    state_reason: Option<Cow<'a, str>>,
    /// Present when the issue is a pull request (comments on pull requests
    /// arrive as issue comments).
    #[serde(default)]
    pull_request: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
struct IssuesEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    issue: Issue<'a>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
    #[serde(borrow, default)]
    assignee: Option<User<'a>>,
    #[serde(borrow, default)]
    label: Option<Label<'a>>,
}

/// Actions that read well as a verb before "issue #12".
const VERBS: &[&str] = &[
    "opened",
    "closed",
    "reopened",
    "edited",
    "deleted",
    "transferred",
    "locked",
    "unlocked",
    "pinned",
    "unpinned",
];

pub fn render_issue(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: IssuesEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let issue = &event.issue;
    let repo = &event.repository.full_name;
    let what = format!("issue #{} in {repo}", issue.number);
    let title = snippet(&issue.title);
    let other = |u: &Option<User<'_>>| u.as_ref().map_or("someone", |u| &u.login).to_owned();
    let label = event.label.as_ref().map_or("", |l| &l.name);
    let head = match event.action.as_ref() {
        "closed" if issue.state_reason.as_deref() == Some("not_planned") => {
            format!("{sender} closed {what} as not planned")
        }
        "assigned" => format!("{sender} assigned {} to {what}", other(&event.assignee)),
        "unassigned" => format!("{sender} unassigned {} from {what}", other(&event.assignee)),
        "labeled" => format!("{sender} labeled {what} with {label}"),
        "unlabeled" => format!("{sender} removed label {label} from {what}"),
        action if VERBS.contains(&action) => format!("{sender} {action} {what}"),
        action => unknown_action(sender, action, &what),
    };
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(format!("{head}: {title}"), issue.html_url.as_ref())
            .fact("number", issue.number.to_string())
            .fact("title", title)
            .fact("state", issue.state.as_deref().unwrap_or_default()),
    )
}

#[derive(Debug, Deserialize)]
struct Comment<'a> {
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    commit_id: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct IssueCommentEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    issue: Issue<'a>,
    #[serde(borrow)]
    comment: Comment<'a>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

pub fn render_issue_comment(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: IssueCommentEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let issue = &event.issue;
    let kind = if issue.pull_request.is_some() {
        "pull request"
    } else {
        "issue"
    };
    let what = format!("{kind} #{} in {}", issue.number, event.repository.full_name);
    let body = snippet(event.comment.body.as_deref().unwrap_or_default());
    let text = comment_text(sender, &event.action, &what, &body);
    let link = event
        .comment
        .html_url
        .as_deref()
        .unwrap_or(issue.html_url.as_ref());
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(text, link)
            .fact("number", issue.number.to_string())
            .fact("title", snippet(&issue.title))
            .fact("message", body),
    )
}

#[derive(Debug, Deserialize)]
struct CommitCommentEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    comment: Comment<'a>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

pub fn render_commit_comment(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: CommitCommentEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let sha = short_sha(event.comment.commit_id.as_deref().unwrap_or_default());
    let what = format!("commit {sha} in {}", event.repository.full_name);
    let body = snippet(event.comment.body.as_deref().unwrap_or_default());
    let text = comment_text(sender, &event.action, &what, &body);
    let link = event
        .comment
        .html_url
        .as_deref()
        .unwrap_or(event.repository.url());
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(text, link)
            .fact("sha", sha)
            .fact("message", body),
    )
}

fn comment_text(sender: &str, action: &str, what: &str, body: &str) -> String {
    let head = match action {
        "created" => format!("{sender} commented on {what}"),
        "edited" => format!("{sender} edited a comment on {what}"),
        "deleted" => format!("{sender} deleted a comment on {what}"),
        action => unknown_action(sender, action, &format!("a comment on {what}")),
    };
    if body.is_empty() || action == "deleted" {
        head
    } else {
        format!("{head}: {body}")
    }
}
