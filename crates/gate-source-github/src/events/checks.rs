//! CI results: `status` (commit statuses), `check_run` and `workflow_run`.

use std::borrow::Cow;

use serde::Deserialize;

use super::{login, unknown_action, Rendered, Repo, User};
use crate::text::{conclusion, short_sha, snippet};

#[derive(Debug, Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct HtmlOnly<'a> {
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
}

#[derive(Debug, Deserialize)]
struct Status<'a> {
    #[serde(borrow)]
    sha: Cow<'a, str>,
    #[serde(borrow)]
    state: Cow<'a, str>,
    #[serde(borrow, default)]
    context: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    target_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    commit: Option<HtmlOnly<'a>>,
    #[serde(borrow, default)]
    branches: Vec<Named<'a>>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

/// "for 1a2b3c4 on main of acme/widgets", or "in acme/widgets" without a branch.
fn place(sha: &str, branch: &str, repo: &str) -> String {
    if branch.is_empty() {
        format!("for {sha} in {repo}")
    } else {
        format!("for {sha} on {branch} of {repo}")
    }
}

pub fn render_status(json: &str) -> Result<Rendered, serde_json::Error> {
    let status: Status<'_> = gate_core::json::from_str(json)?;
    let sha = short_sha(&status.sha);
    let context = status.context.as_deref().unwrap_or("status");
    // A commit on several branches: the first one GitHub lists is enough.
    let branch = status.branches.first().map_or("", |b| &b.name);
    let outcome = match status.state.as_ref() {
        "success" => "succeeded".to_owned(),
        "failure" => "failed".to_owned(),
        "error" => "errored".to_owned(),
        "pending" => "is pending".to_owned(),
        other => format!("is {other}"),
    };
    let description = snippet(status.description.as_deref().unwrap_or_default());
    let detail = if description.is_empty() {
        String::new()
    } else {
        format!(": {description}")
    };
    let text = format!(
        "{context} {outcome} {}{detail}",
        place(sha, branch, &status.repository.full_name)
    );
    let link = [
        status.target_url.as_deref(),
        status.commit.as_ref().and_then(|c| c.html_url.as_deref()),
    ]
    .into_iter()
    .flatten()
    .find(|url| !url.is_empty())
    .unwrap_or(status.repository.url());
    Ok(
        Rendered::new(login(&status.sender), Some(&status.repository), "")
            .say(text, link)
            .fact("sha", sha)
            .fact("state", status.state.as_ref())
            .fact("title", context)
            .fact("message", description),
    )
}

#[derive(Debug, Deserialize)]
struct CheckRunEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow, default)]
    requested_action: Option<RequestedAction<'a>>,
    #[serde(borrow)]
    check_run: CheckRun<'a>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

/// The button a user pressed on a check run (`requested_action`).
#[derive(Debug, Deserialize)]
struct RequestedAction<'a> {
    #[serde(borrow)]
    identifier: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
struct CheckRun<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    conclusion: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    head_sha: Cow<'a, str>,
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    details_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    check_suite: Option<CheckSuite<'a>>,
}

#[derive(Debug, Deserialize)]
struct CheckSuite<'a> {
    #[serde(borrow, default)]
    head_branch: Option<Cow<'a, str>>,
}

pub fn render_check_run(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: CheckRunEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let run = &event.check_run;
    let sha = short_sha(&run.head_sha);
    let branch = run
        .check_suite
        .as_ref()
        .and_then(|s| s.head_branch.as_deref())
        .unwrap_or_default();
    let place = place(sha, branch, &event.repository.full_name);
    let name = &run.name;
    let status = run.status.as_deref().unwrap_or_default();
    let outcome = run.conclusion.as_deref().filter(|c| !c.is_empty());
    let text = match (event.action.as_ref(), outcome) {
        ("completed", Some(outcome)) => format!("check {name} {} {place}", conclusion(outcome)),
        ("created", _) if status == "queued" => format!("check {name} queued {place}"),
        ("created", _) => format!("check {name} started {place}"),
        ("rerequested", _) => format!("{sender} re-requested check {name} {place}"),
        ("requested_action", _) => {
            let identifier = event
                .requested_action
                .as_ref()
                .map_or("an action", |a| a.identifier.as_ref());
            format!("{sender} requested {identifier} from check {name} {place}")
        }
        (action, _) => unknown_action(sender, action, &format!("check {name} {place}")),
    };
    let link = [run.html_url.as_deref(), run.details_url.as_deref()]
        .into_iter()
        .flatten()
        .find(|url| !url.is_empty())
        .unwrap_or(event.repository.url());
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(text, link)
            .fact("sha", sha)
            .fact("state", outcome.unwrap_or(status))
            .fact("title", name.as_ref())
            .fact("branch", branch),
    )
}

#[derive(Debug, Deserialize)]
struct WorkflowRunEvent<'a> {
    #[serde(borrow, default)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    workflow_run: WorkflowRun<'a>,
    /// The workflow itself: its name when the run's is empty.
    #[serde(borrow, default)]
    workflow: Option<Named<'a>>,
    #[serde(borrow)]
    repository: Repo<'a>,
    #[serde(borrow, default)]
    sender: Option<User<'a>>,
}

#[derive(Debug, Deserialize)]
struct WorkflowRun<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    run_number: Option<u64>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    conclusion: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    head_branch: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    head_sha: Cow<'a, str>,
    #[serde(borrow, default)]
    html_url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    display_title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    path: Option<Cow<'a, str>>,
}

pub fn render_workflow_run(json: &str) -> Result<Rendered, serde_json::Error> {
    let event: WorkflowRunEvent<'_> = gate_core::json::from_str(json)?;
    let sender = login(&event.sender);
    let run = &event.workflow_run;
    // Runs can have an empty name; the workflow's then, else its file.
    let name = [
        run.name.as_deref(),
        event.workflow.as_ref().map(|w| w.name.as_ref()),
        run.path.as_deref().and_then(|p| p.rsplit('/').next()),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .find(|n| !n.is_empty())
    .unwrap_or("run");
    let number = run.run_number.map(|n| n.to_string()).unwrap_or_default();
    let workflow = if number.is_empty() {
        format!("workflow {name}")
    } else {
        format!("workflow {name} #{number}")
    };
    let branch = run.head_branch.as_deref().unwrap_or_default();
    let repo = &event.repository.full_name;
    let place = if branch.is_empty() {
        format!("in {repo}")
    } else {
        format!("on {branch} of {repo}")
    };
    let status = run.status.as_deref().unwrap_or_default();
    let outcome = run.conclusion.as_deref().filter(|c| !c.is_empty());
    let head = match (event.action.as_ref(), outcome) {
        ("completed", Some(outcome)) => format!("{workflow} {} {place}", conclusion(outcome)),
        ("requested", _) => format!("{sender} started {workflow} {place}"),
        ("in_progress", _) => format!("{workflow} is running {place}"),
        (action, _) => unknown_action(sender, action, &format!("{workflow} {place}")),
    };
    let title = snippet(run.display_title.as_deref().unwrap_or_default());
    let text = if title.is_empty() {
        head
    } else {
        format!("{head}: {title}")
    };
    let link = run.html_url.as_deref().unwrap_or(event.repository.url());
    Ok(
        Rendered::new(sender, Some(&event.repository), &event.action)
            .say(text, link)
            .fact("number", number)
            .fact("title", name)
            .fact("state", outcome.unwrap_or(status))
            .fact("branch", branch)
            .fact("sha", short_sha(&run.head_sha)),
    )
}
