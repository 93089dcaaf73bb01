//! `pull_request` and `pull_request_review`.

use std::borrow::Cow;

use serde::Deserialize;

use super::issues::Label;
use super::{login, unknown_action, Rendered, Repo, User};
use crate::text::{reply_snippet, snippet};

#[derive(Debug, Deserialize)]
struct PullRequest<'a> {
    number: u64,
    #[serde(borrow, default)]
    title: Cow<'a, str>,
    #[serde(borrow, default)]
    html_url: Cow<'a, str>,
    #[serde(borrow, default)]
    state: Option<Cow<'a, str>>,
    #[serde(default)]
    merged: Option<bool>,
    #[serde(default)]
    draft: bool,
    #[serde(borrow, default)]
    head: Option<Branch<'a>>,
    #[serde(borrow, default)]
    base: Option<Branch<'a>>,
    #[serde(borrow, default)]
    milestone: Option<Milestone<'a>>,
}

#[derive(Debug, Deserialize)]
struct Milestone<'a> {
    #[serde(borrow, default)]
    title: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct Branch<'a> {
    #[serde(borrow, rename = "ref")]
    name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct Team<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct PullRequestEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    pull_request: PullRequest<'a>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
    #[serde(borrow, default)]
    requested_reviewer: Option<User<'a>>,
    #[serde(borrow, default)]
    requested_team: Option<Team<'a>>,
    #[serde(borrow, default)]
    assignee: Option<User<'a>>,
    #[serde(borrow, default)]
    label: Option<Label<'a>>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
}

/// Actions that read well as a verb before "pull request #42".
const VERBS: &[&str] = &["reopened", "edited", "locked", "unlocked"];

pub fn render(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: PullRequestEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let pr = &event.pull_request;
    let merged = pr.merged == Some(true);
    let what = format!(
        "pull request #{} in {}",
        pr.number, event.repository.full_name
    );
    let title = snippet(&pr.title);
    let head_branch = pr.head.as_ref().map_or("", |b| &b.name);
    let reviewer = match (&event.requested_reviewer, &event.requested_team) {
        (Some(user), _) => user.login.to_string(),
        (None, Some(team)) => format!("team {}", team.name),
        (None, None) => "someone".to_owned(),
    };
    let assignee = event.assignee.as_ref().map_or("someone", |u| &u.login);
    let label = event.label.as_ref().map_or("", |l| &l.name);
    let milestone = pr.milestone.as_ref().map_or("", |m| &m.title);
    // Why GitHub took it out of the queue or turned auto-merge off.
    let reason = super::said::aside(&snippet(event.reason.as_deref().unwrap_or_default()));
    let text = match event.action.as_ref() {
        "opened" => {
            let draft = if pr.draft { "draft " } else { "" };
            let branches = match (&pr.head, &pr.base) {
                (Some(head), Some(base)) => format!(" ({} → {})", head.name, base.name),
                _ => String::new(),
            };
            format!("{sender} opened {draft}{what}: {title}{branches}")
        }
        "closed" if merged => format!("{sender} merged {what}: {title}"),
        "closed" => format!("{sender} closed {what} without merging: {title}"),
        "synchronize" => format!("{sender} pushed new commits to {what}: {title}"),
        "review_requested" => {
            format!("{sender} requested a review from {reviewer} on {what}: {title}")
        }
        "review_request_removed" => {
            format!("{sender} removed the review request for {reviewer} on {what}: {title}")
        }
        "ready_for_review" => format!("{sender} marked {what} ready for review: {title}"),
        "converted_to_draft" => format!("{sender} converted {what} to a draft: {title}"),
        "assigned" => format!("{sender} assigned {assignee} to {what}: {title}"),
        "unassigned" => format!("{sender} unassigned {assignee} from {what}: {title}"),
        "labeled" => format!("{sender} labeled {what} with {label}: {title}"),
        "milestoned" => format!("{sender} added {what} to milestone {milestone}: {title}"),
        "demilestoned" => {
            format!("{sender} removed {what} from milestone {milestone}: {title}")
        }
        "enqueued" => format!("{sender} added {what} to the merge queue: {title}"),
        "dequeued" => format!("{sender} removed {what} from the merge queue{reason}: {title}"),
        "auto_merge_enabled" => format!("{sender} enabled auto-merge of {what}: {title}"),
        "auto_merge_disabled" => {
            format!("{sender} disabled auto-merge of {what}{reason}: {title}")
        }
        "unlabeled" => format!("{sender} removed label {label} from {what}: {title}"),
        action if VERBS.contains(&action) => format!("{sender} {action} {what}: {title}"),
        action => format!("{}: {title}", unknown_action(sender, action, &what)),
    };
    let state = if merged {
        "merged"
    } else {
        pr.state.as_deref().unwrap_or_default()
    };
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(text, pr.html_url.as_ref())
            .fact("number", pr.number.to_string())
            .fact("title", title)
            .fact("branch", head_branch)
            .fact("state", state),
    )
}

#[derive(Debug, Deserialize)]
struct Review<'a> {
    #[serde(borrow, default)]
    state: Cow<'a, str>,
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct ReviewEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    review: Review<'a>,
    #[serde(borrow)]
    pull_request: PullRequest<'a>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

pub fn render_review(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: ReviewEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let pr = &event.pull_request;
    let what = format!(
        "pull request #{} in {}",
        pr.number, event.repository.full_name
    );
    let title = snippet(&pr.title);
    let state = event.review.state.to_ascii_lowercase();
    let body = reply_snippet(event.review.body.as_deref().unwrap_or_default());
    let head = match (event.action.as_ref(), state.as_str()) {
        ("submitted", "approved") => format!("{sender} approved {what}"),
        ("submitted", "changes_requested") => format!("{sender} requested changes on {what}"),
        ("submitted", _) => format!("{sender} reviewed {what}"),
        ("edited", _) => format!("{sender} edited a review on {what}"),
        ("dismissed", _) => format!("{sender} dismissed a review on {what}"),
        (action, _) => unknown_action(sender, action, &format!("a review on {what}")),
    };
    // A review comment says more than the title it is about.
    let detail = if state == "commented" && !body.is_empty() {
        &body
    } else {
        &title
    };
    let link = event
        .review
        .html_url
        .as_deref()
        .unwrap_or(pr.html_url.as_ref());
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(format!("{head}: {detail}"), link)
            .fact("number", pr.number.to_string())
            .fact("title", title.clone())
            .fact("state", state)
            .fact("message", body),
    )
}
