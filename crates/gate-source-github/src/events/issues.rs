//! `issues`, `issue_comment` and `commit_comment`.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{login, unknown_action, Rendered, Repo, User};
use crate::text::{reply_snippet, short_sha, snippet};

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
    #[serde(borrow, default, rename = "type")]
    issue_type: Option<Label<'a>>,
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
    #[serde(borrow, default)]
    milestone: Option<Milestone<'a>>,
    #[serde(borrow, default)]
    changes: Option<IssueChanges<'a>>,
    /// The issue type set or removed (`typed`, `untyped`).
    #[serde(borrow, default, rename = "type")]
    issue_type: Option<Label<'a>>,
}

#[derive(Debug, Deserialize)]
struct Milestone<'a> {
    #[serde(borrow, default)]
    title: Cow<'a, str>,
}

/// `changes` of a transferred issue: where it went.
#[derive(Debug, Deserialize)]
struct IssueChanges<'a> {
    #[serde(borrow, default)]
    new_repository: Option<Repo<'a>>,
    #[serde(borrow, default)]
    new_issue: Option<MovedIssue<'a>>,
}

#[derive(Debug, Deserialize)]
struct MovedIssue<'a> {
    #[serde(default)]
    number: Option<u64>,
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
}

impl Issue<'_> {
    /// "issue" or, for the issue side of a pull request, "pull request".
    fn kind(&self) -> &'static str {
        if self.pull_request.is_some() {
            "pull request"
        } else {
            "issue"
        }
    }
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
    let what = format!("{} #{} in {repo}", issue.kind(), issue.number);
    let title = snippet(&issue.title);
    let other = |u: &Option<User<'_>>| u.as_ref().map_or("someone", |u| &u.login).to_owned();
    let label = event.label.as_ref().map_or("", |l| &l.name);
    let milestone = event.milestone.as_ref().map_or("", |m| &m.title);
    let moved = event.changes.as_ref();
    let moved_to = moved
        .and_then(|c| c.new_repository.as_ref())
        .map(|r| r.full_name.as_ref());
    let moved_number = moved
        .and_then(|c| c.new_issue.as_ref())
        .and_then(|i| i.number)
        .map(|n| format!(" as #{n}"))
        .unwrap_or_default();
    let head = match event.action.as_ref() {
        "transferred" if moved_to.is_some() => format!(
            "{sender} transferred {what} to {}{moved_number}",
            moved_to.unwrap_or_default()
        ),
        "milestoned" => format!("{sender} added {what} to milestone {milestone}"),
        "typed" => format!("{sender} made {what} a {}", issue_type(&event)),
        "untyped" => format!("{sender} removed type {} from {what}", issue_type(&event)),
        "demilestoned" => format!("{sender} removed {what} from milestone {milestone}"),
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
    // A transferred issue's page is the new one.
    let link = moved
        .and_then(|c| c.new_issue.as_ref())
        .and_then(|i| i.html_url.as_deref())
        .filter(|_| event.action == "transferred")
        .unwrap_or(issue.html_url.as_ref());
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(format!("{head}: {title}"), link)
            .fact("number", issue.number.to_string())
            .fact("title", title)
            .fact("state", issue.state.as_deref().unwrap_or_default()),
    )
}

/// The type named by a `typed`/`untyped` event, else the issue's own.
fn issue_type<'e>(event: &'e IssuesEvent<'_>) -> &'e str {
    event
        .issue_type
        .as_ref()
        .or(event.issue.issue_type.as_ref())
        .map_or("", |t| &t.name)
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
    let title = snippet(&issue.title);
    let what = format!(
        "{} #{} in {}{}",
        issue.kind(),
        issue.number,
        event.repository.full_name,
        super::said::aside(&title)
    );
    let body = reply_snippet(event.comment.body.as_deref().unwrap_or_default());
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
            .fact("title", title)
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
    let body = reply_snippet(event.comment.body.as_deref().unwrap_or_default());
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

pub(crate) fn comment_text(sender: &str, action: &str, what: &str, body: &str) -> String {
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
