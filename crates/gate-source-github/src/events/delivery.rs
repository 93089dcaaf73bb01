//! Building and shipping: check suites, workflow jobs and dispatches,
//! deployments, merge queues, Pages builds, packages, imports.

use super::payload::Payload;
use super::said::{aside, detail, first_url, path_segment, sentence, Said};
use crate::text::{conclusion, short_sha};

/// "for 1a2b3c4 on main of acme/widgets", "in acme/widgets" without a sha.
fn for_commit(p: &Payload, sha: &str, branch: &str) -> String {
    let place = p.place();
    match (short_sha(sha), branch) {
        ("", "") => format!("in {place}"),
        ("", branch) => format!("on {branch} of {place}"),
        (sha, "") => format!("for {sha} in {place}"),
        (sha, branch) => format!("for {sha} on {branch} of {place}"),
    }
}

/// A branch name from a full ref.
fn branch_of(git_ref: &str) -> &str {
    git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref)
}

pub fn check_suite(p: &Payload) -> Option<Said> {
    p.at("check_suite").as_object()?;
    let app = p.first(&["check_suite.app.name", "check_suite.app.slug"]);
    let suite = if app.is_empty() {
        "check suite".to_owned()
    } else {
        format!("check suite {app}")
    };
    let sha = p.str("check_suite.head_sha");
    let place = for_commit(p, sha, p.str("check_suite.head_branch"));
    let outcome = p.str("check_suite.conclusion");
    let sender = p.sender();
    let text = match p.action() {
        "completed" if !outcome.is_empty() => format!("{suite} {} {place}", conclusion(outcome)),
        "completed" => format!("{suite} completed {place}"),
        "requested" => format!("{suite} requested {place}"),
        "rerequested" => format!("{sender} re-requested {suite} {place}"),
        _ => sentence(p, &[], &format!("{suite} {place}")),
    };
    let link = match (p.repo_url(), sha) {
        ("", _) | (_, "") => p.place_url(),
        (repo, sha) => format!("{repo}/commit/{sha}/checks"),
    };
    Some(Said::new(text, link).title(app))
}

pub fn workflow_job(p: &Payload) -> Option<Said> {
    let name = p.str("workflow_job.name");
    if name.is_empty() {
        return None;
    }
    let workflow = p.str("workflow_job.workflow_name");
    let job = if workflow.is_empty() {
        format!("job {name}")
    } else {
        format!("job {name} of workflow {workflow}")
    };
    let place = match p.str("workflow_job.head_branch") {
        "" => format!("in {}", p.place()),
        branch => format!("on {branch} of {}", p.place()),
    };
    let outcome = p.str("workflow_job.conclusion");
    let text = match p.action() {
        "queued" => format!("{job} queued {place}"),
        "in_progress" => format!("{job} started {place}"),
        "waiting" => format!("{job} is waiting {place}"),
        "completed" if !outcome.is_empty() => format!("{job} {} {place}", conclusion(outcome)),
        "completed" => format!("{job} completed {place}"),
        _ => sentence(p, &[], &format!("{job} {place}")),
    };
    let link = first_url([p.str("workflow_job.html_url"), &p.place_url()]);
    Some(Said::new(text, link).title(name))
}

pub fn workflow_dispatch(p: &Payload) -> Option<Said> {
    let path = p.str("workflow");
    if path.is_empty() {
        return None;
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    let place = match branch_of(p.str("ref")) {
        "" => format!("in {}", p.place()),
        branch => format!("on {branch} of {}", p.place()),
    };
    let text = format!("{} ran workflow {file} {place}", p.sender());
    let link = match p.repo_url() {
        "" => p.place_url(),
        repo => format!("{repo}/actions/workflows/{}", path_segment(file)),
    };
    Some(Said::new(text, link).title(file))
}

fn deployments_url(p: &Payload) -> String {
    match p.repo_url() {
        "" => p.place_url(),
        repo => format!("{repo}/deployments"),
    }
}

pub fn deployment(p: &Payload) -> Option<Said> {
    p.at("deployment").as_object()?;
    let environment = p.first(&["deployment.environment", "deployment.original_environment"]);
    let git_ref = p.first(&["deployment.ref", "deployment.sha"]);
    let what = format!(
        "{} to {environment} in {}",
        short_sha_or_ref(git_ref),
        p.place()
    );
    let description = p.snippet("deployment.description");
    let head = match p.action() {
        "created" => format!("{} started deploying {what}", p.sender()),
        _ => sentence(p, &[], &format!("the deployment of {what}")),
    };
    let link = first_url([p.str("workflow_run.html_url"), &deployments_url(p)]);
    Some(Said::new(format!("{head}{}", detail(&description)), link).title(environment))
}

/// A ref as named, but a bare commit id shortened.
fn short_sha_or_ref(git_ref: &str) -> &str {
    if git_ref.len() == 40 && git_ref.bytes().all(|b| b.is_ascii_hexdigit()) {
        short_sha(git_ref)
    } else {
        git_ref
    }
}

pub fn deployment_status(p: &Payload) -> Option<Said> {
    let state = p.str("deployment_status.state");
    if state.is_empty() {
        return None;
    }
    let environment = p.first(&["deployment_status.environment", "deployment.environment"]);
    let to = if environment.is_empty() {
        String::new()
    } else {
        format!(" to {environment}")
    };
    let git_ref = short_sha_or_ref(p.first(&["deployment.ref", "deployment.sha"]));
    let outcome = match state {
        "success" => "succeeded".to_owned(),
        "failure" => "failed".to_owned(),
        "error" => "errored".to_owned(),
        other => format!("is {}", other.replace('_', " ")),
    };
    let of = if git_ref.is_empty() {
        String::new()
    } else {
        format!(" of {git_ref}")
    };
    let description = p.snippet("deployment_status.description");
    let text = format!(
        "deployment{of}{to} in {} {outcome}{}",
        p.place(),
        detail(&description)
    );
    let link = first_url([
        p.str("deployment_status.log_url"),
        p.str("deployment_status.target_url"),
        p.str("check_run.html_url"),
        p.str("workflow_run.html_url"),
        p.str("deployment_status.environment_url"),
        &deployments_url(p),
    ]);
    Some(Said::new(text, link).title(environment))
}

pub fn deployment_review(p: &Payload) -> Option<Said> {
    let environment = p.first(&[
        "environment",
        "workflow_job_run.environment",
        "workflow_job_runs.0.environment",
    ]);
    let run = match (p.str("workflow_run.name"), p.num("workflow_run.run_number")) {
        ("", _) => String::new(),
        (name, Some(n)) => format!("workflow {name} #{n}"),
        (name, None) => format!("workflow {name}"),
    };
    let what = format!(
        "the deployment to {environment} in {}{}",
        p.place(),
        aside(&run)
    );
    let head = match p.action() {
        "requested" => {
            let requestor = p.first(&["requestor.login", "sender.login"]);
            format!("{requestor} requested a review of {what}")
        }
        _ => sentence(
            p,
            &[("approved", "approved"), ("rejected", "rejected")],
            &what,
        ),
    };
    let comment = p.reply("comment");
    let link = first_url([
        p.str("workflow_job_run.html_url"),
        p.str("workflow_job_runs.0.html_url"),
        p.str("workflow_run.html_url"),
        &deployments_url(p),
    ]);
    Some(Said::new(format!("{head}{}", detail(&comment)), link).title(environment))
}

pub fn deployment_protection_rule(p: &Payload) -> Option<Said> {
    let environment = p.first(&["environment", "deployment.environment"]);
    let git_ref = short_sha_or_ref(p.first(&["deployment.ref", "deployment.sha"]));
    let of = if git_ref.is_empty() {
        String::new()
    } else {
        format!(" of {git_ref}")
    };
    let what = format!("deployment{of} to {environment} in {}", p.place());
    let text = match p.action() {
        "requested" => format!(
            "{what} awaits its protection rules{}",
            aside(p.str("event"))
        ),
        _ => sentence(p, &[], &format!("the protection rules of the {what}")),
    };
    let link = first_url([p.str("workflow_run.html_url"), &deployments_url(p)]);
    Some(Said::new(text, link).title(environment))
}

pub fn merge_group(p: &Payload) -> Option<Said> {
    let base = branch_of(p.str("merge_group.base_ref"));
    if base.is_empty() {
        return None;
    }
    let queue = format!("the merge queue of {base} in {}", p.place());
    let message = p.snippet("merge_group.head_commit.message");
    let head = match p.action() {
        "checks_requested" => format!("checks requested for {queue}"),
        "destroyed" => format!(
            "a merge group left {queue}{}",
            aside(&p.str("reason").replace('_', " "))
        ),
        _ => sentence(p, &[], &format!("a merge group of {queue}")),
    };
    let link = match p.repo_url() {
        "" => p.place_url(),
        repo => format!("{repo}/queue/{}", path_segment(base)),
    };
    Some(Said::new(format!("{head}{}", detail(&message)), link).title(message))
}

pub fn page_build(p: &Payload) -> Option<Said> {
    let status = p.str("build.status");
    if status.is_empty() {
        return None;
    }
    let commit = short_sha(p.str("build.commit"));
    let at = if commit.is_empty() {
        String::new()
    } else {
        format!(" at {commit}")
    };
    let outcome = match status {
        "built" => "succeeded".to_owned(),
        "errored" => format!("failed{}", detail(&p.snippet("build.error.message"))),
        "building" => "started".to_owned(),
        other => format!("is {other}"),
    };
    let pusher = p.first(&["build.pusher.login", "sender.login"]);
    let text = format!(
        "GitHub Pages build of {}{at} {outcome}{}",
        p.place(),
        aside(&format!("pushed by {pusher}"))
    );
    let link = match p.repo_url() {
        "" => p.place_url(),
        repo => format!("{repo}/settings/pages"),
    };
    Some(Said::new(text, link))
}

pub fn repository_dispatch(p: &Payload) -> Option<Said> {
    let kind = p.action();
    let branch = p.str("branch");
    let on = if branch.is_empty() {
        String::new()
    } else {
        format!(" on {branch}")
    };
    let text = format!("{} dispatched {kind} to {}{on}", p.sender(), p.place());
    let link = match p.repo_url() {
        "" => p.place_url(),
        repo => format!("{repo}/actions"),
    };
    Some(Said::new(text, link).title(kind))
}

/// `package` and `registry_package`: the object is under `key`.
fn package(p: &Payload, key: &str) -> Option<Said> {
    let at = |field: &str| format!("{key}.{field}");
    let name = p.str(&at("name"));
    if name.is_empty() {
        return None;
    }
    let kind = p
        .first(&[&at("package_type"), &at("ecosystem")])
        .to_lowercase();
    let version = p.first(&[
        &at("package_version.container_metadata.tag.name"),
        &at("package_version.version"),
        &at("package_version.name"),
    ]);
    // Container versions are digests: the algorithm and 12 hex digits say enough.
    let version = match version.strip_prefix("sha256:") {
        Some(hex) => format!("sha256:{}", hex.get(..12).unwrap_or(hex)),
        None => version.to_owned(),
    };
    let what = format!(
        "{kind} package {name}{} in {}",
        if version.is_empty() {
            String::new()
        } else {
            format!(" {version}")
        },
        p.place()
    );
    let text = sentence(
        p,
        &[("published", "published"), ("updated", "updated")],
        &what,
    );
    let link = first_url([
        p.str(&at("package_version.html_url")),
        p.str(&at("html_url")),
        &p.place_url(),
    ]);
    Some(Said::new(text, link).title(name))
}

pub fn package_event(p: &Payload) -> Option<Said> {
    package(p, "package")
}

pub fn registry_package(p: &Payload) -> Option<Said> {
    package(p, "registry_package")
}

pub fn repository_import(p: &Payload) -> Option<Said> {
    let outcome = match p.str("status") {
        "" => return None,
        "success" => "succeeded".to_owned(),
        "failure" => "failed".to_owned(),
        "cancelled" => "was cancelled".to_owned(),
        other => format!("finished ({other})"),
    };
    let text = format!("import of {} {outcome}", p.place());
    Some(Said::new(text, p.place_url()))
}
