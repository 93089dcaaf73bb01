//! Conversations and planning: discussions, review comments and threads,
//! labels, milestones, wiki pages, projects, sub-issues and dependencies.

use super::issues::comment_text;
use super::payload::Payload;
use super::said::{aside, detail, first_url, path_segment, sentence, Said};

const PLAIN: &[(&str, &str)] = &[
    ("created", "created"),
    ("edited", "edited"),
    ("deleted", "deleted"),
    ("closed", "closed"),
    ("reopened", "reopened"),
    ("locked", "locked"),
    ("unlocked", "unlocked"),
    ("pinned", "pinned"),
    ("unpinned", "unpinned"),
];

pub fn discussion(p: &Payload) -> Option<Said> {
    let number = p.num("discussion.number")?;
    let title = p.snippet("discussion.title");
    let what = format!("discussion #{number} in {}", p.place());
    let sender = p.sender();
    let label = p.str("label.name");
    let head = match p.action() {
        "created" => format!("{sender} started {what}"),
        "answered" => format!("{sender} marked an answer to {what}"),
        "unanswered" => format!("{sender} unmarked the answer to {what}"),
        "category_changed" => format!(
            "{sender} moved {what} to category {}",
            p.str("discussion.category.name")
        ),
        "labeled" => format!("{sender} labeled {what} with {label}"),
        "unlabeled" => format!("{sender} removed label {label} from {what}"),
        "transferred" => format!(
            "{sender} transferred {what} to {}",
            p.first(&[
                "changes.new_repository.full_name",
                "changes.new_discussion.repository_url"
            ])
        ),
        _ => sentence(p, PLAIN, &what),
    };
    let link = match p.action() {
        "answered" => first_url([p.str("answer.html_url"), p.str("discussion.html_url")]),
        "transferred" => first_url([
            p.str("changes.new_discussion.html_url"),
            p.str("discussion.html_url"),
        ]),
        "deleted" => format!("{}/discussions", p.repo_url()),
        _ => p.str("discussion.html_url").to_owned(),
    };
    Some(Said::new(format!("{head}{}", detail(&title)), link).title(title))
}

pub fn discussion_comment(p: &Payload) -> Option<Said> {
    let number = p.num("discussion.number")?;
    let title = p.snippet("discussion.title");
    let what = format!("discussion #{number} in {}{}", p.place(), aside(&title));
    let body = p.reply("comment.body");
    let text = comment_text(p.sender(), p.action(), &what, &body);
    let link = first_url([p.str("comment.html_url"), p.str("discussion.html_url")]);
    Some(Said::new(text, link).title(title))
}

/// `pull request #2 in acme/widgets (Title)`, from `pull_request`.
fn pull_request(p: &Payload) -> Option<(String, String)> {
    let number = p.num("pull_request.number")?;
    let title = p.snippet("pull_request.title");
    Some((
        format!("pull request #{number} in {}{}", p.place(), aside(&title)),
        title,
    ))
}

/// Longest file path named in a text; longer ones keep their end, which
/// names the file.
const MAX_PATH: usize = 60;

fn short_path(path: &str) -> String {
    let count = path.chars().count();
    if count <= MAX_PATH {
        return path.to_owned();
    }
    let tail: String = path.chars().skip(count - (MAX_PATH - 1)).collect();
    format!("…{tail}")
}

pub fn pull_request_review_comment(p: &Payload) -> Option<Said> {
    let (pr, title) = pull_request(p)?;
    let path = short_path(p.str("comment.path"));
    let what = if path.is_empty() {
        pr
    } else {
        format!("{path} in {pr}")
    };
    let body = p.reply("comment.body");
    let text = comment_text(p.sender(), p.action(), &what, &body);
    let link = first_url([p.str("comment.html_url"), p.str("pull_request.html_url")]);
    Some(Said::new(text, link).title(title))
}

pub fn pull_request_review_thread(p: &Payload) -> Option<Said> {
    let (pr, title) = pull_request(p)?;
    let path = short_path(p.str("thread.comments.0.path"));
    let on = if path.is_empty() {
        String::new()
    } else {
        format!(" on {path}")
    };
    let what = format!("a review thread{on} of {pr}");
    let text = sentence(
        p,
        &[("resolved", "resolved"), ("unresolved", "unresolved")],
        &what,
    );
    let link = first_url([
        p.str("thread.comments.0.html_url"),
        p.str("pull_request.html_url"),
    ]);
    Some(Said::new(text, link).title(title))
}

pub fn label(p: &Payload) -> Option<Said> {
    let name = p.str("label.name");
    if name.is_empty() {
        return None;
    }
    let sender = p.sender();
    let place = p.place();
    let renamed_from = p.str("changes.name.from");
    let text = match p.action() {
        "created" => format!("{sender} created label {name} in {place}"),
        "deleted" => format!("{sender} deleted label {name} from {place}"),
        "edited" if !renamed_from.is_empty() => {
            format!("{sender} renamed label {renamed_from} to {name} in {place}")
        }
        _ => sentence(p, PLAIN, &format!("label {name} in {place}")),
    };
    let link = match (p.action(), p.repo_url()) {
        (_, "") => p.place_url(),
        ("deleted", repo) => format!("{repo}/labels"),
        (_, repo) => format!("{repo}/labels/{}", path_segment(name)),
    };
    Some(Said::new(text, link).title(name))
}

pub fn milestone(p: &Payload) -> Option<Said> {
    let title = p.snippet("milestone.title");
    if title.is_empty() {
        return None;
    }
    let verbs = [
        ("created", "created"),
        ("closed", "closed"),
        ("opened", "reopened"),
        ("edited", "edited"),
        ("deleted", "deleted"),
    ];
    let text = sentence(p, &verbs, &format!("milestone {title} in {}", p.place()));
    let link = match p.action() {
        "deleted" => format!("{}/milestones", p.repo_url()),
        _ => first_url([p.str("milestone.html_url"), p.repo_url()]),
    };
    Some(Said::new(text, link).title(title))
}

pub fn gollum(p: &Payload) -> Option<Said> {
    let pages = p.at("pages").as_array()?;
    let sender = p.sender();
    let place = p.place();
    let title = |i: usize| {
        p.first(&[&format!("pages.{i}.title"), &format!("pages.{i}.page_name")])
            .to_owned()
    };
    match pages.len() {
        0 => None,
        1 => {
            let action = match p.str("pages.0.action") {
                "created" => "created",
                _ => "edited",
            };
            let page = title(0);
            let summary = p.snippet("pages.0.summary");
            let text = format!(
                "{sender} {action} wiki page {page} in {place}{}",
                detail(&summary)
            );
            let link = first_url([p.str("pages.0.html_url"), p.repo_url()]);
            Some(Said::new(text, link).title(page))
        }
        n => {
            let names: Vec<String> = (0..n).map(title).collect();
            let text = format!(
                "{sender} updated {n} wiki pages in {place}: {}",
                names.join(", ")
            );
            Some(Said::new(text, format!("{}/wiki", p.repo_url())).title(names.join(", ")))
        }
    }
}

/// The projects page of the repository, else of the organization.
fn projects_url(p: &Payload) -> String {
    if !p.repo_url().is_empty() {
        format!("{}/projects", p.repo_url())
    } else if !p.org().is_empty() {
        format!("{}/orgs/{}/projects", p.web_root(), p.org())
    } else {
        p.place_url()
    }
}

/// An API URL of the same instance as its web page:
/// `https://api.github.com/repos/a/b/issues/1` → `https://github.com/a/b/issues/1`.
fn web_page_of(p: &Payload, api_url: &str) -> String {
    api_url
        .split_once("/repos/")
        .map(|(_, rest)| format!("{}/{rest}", p.web_root()))
        .unwrap_or_default()
}

pub fn project(p: &Payload) -> Option<Said> {
    let name = p.snippet("project.name");
    if name.is_empty() {
        return None;
    }
    let number = p.number("project.number");
    let what = format!("project {name}{} in {}", aside(&number), p.place());
    let verbs = [
        ("created", "created"),
        ("edited", "edited"),
        ("closed", "closed"),
        ("reopened", "reopened"),
        ("deleted", "deleted"),
    ];
    let link = match p.action() {
        "deleted" => projects_url(p),
        _ => first_url([p.str("project.html_url"), &projects_url(p)]),
    };
    Some(Said::new(sentence(p, &verbs, &what), link).title(name))
}

pub fn project_card(p: &Payload) -> Option<Said> {
    p.at("project_card").as_object()?;
    let place = p.place();
    let note = p.snippet("project_card.note");
    let content = web_page_of(p, p.str("project_card.content_url"));
    let card = content_name(&content).unwrap_or_else(|| "a card".to_owned());
    let sender = p.sender();
    let text = match p.action() {
        "created" => format!("{sender} added {card} to a project of {place}"),
        "moved" => format!("{sender} moved {card} in a project of {place}"),
        "converted" => format!("{sender} converted a note of a project of {place} to {card}"),
        "deleted" => format!("{sender} removed {card} from a project of {place}"),
        _ => sentence(p, PLAIN, &format!("{card} in a project of {place}")),
    };
    let link = first_url([content.as_str(), &projects_url(p)]);
    Some(Said::new(format!("{text}{}", detail(&note)), link).title(note))
}

/// `issue #1` for a card's content page (`…/issues/1`, `…/pull/3`).
fn content_name(url: &str) -> Option<String> {
    let (head, number) = url.rsplit_once('/')?;
    let noun = match head.rsplit('/').next()? {
        "issues" => "issue",
        "pull" | "pulls" => "pull request",
        _ => return None,
    };
    Some(format!("{noun} #{number}"))
}

pub fn project_column(p: &Payload) -> Option<Said> {
    let name = p.snippet("project_column.name");
    if name.is_empty() {
        return None;
    }
    let verbs = [
        ("created", "created"),
        ("edited", "edited"),
        ("moved", "moved"),
        ("deleted", "deleted"),
    ];
    let what = format!("column {name} in a project of {}", p.place());
    Some(Said::new(sentence(p, &verbs, &what), projects_url(p)).title(name))
}

/// The page of a (new) project: `/orgs/<org>/projects/<n>` or `/users/...`.
fn project_v2_url(p: &Payload) -> String {
    let owner = p.first(&["projects_v2.owner.login", "organization.login"]);
    let kind = match p.str("projects_v2.owner.type") {
        "User" => "users",
        _ => "orgs",
    };
    match (owner, p.num("projects_v2.number")) {
        ("", _) => p.place_url(),
        (owner, Some(n)) => format!("{}/{kind}/{owner}/projects/{n}", p.web_root()),
        (owner, None) => format!("{}/{kind}/{owner}/projects", p.web_root()),
    }
}

pub fn projects_v2(p: &Payload) -> Option<Said> {
    let title = p.snippet("projects_v2.title");
    if title.is_empty() {
        return None;
    }
    let number = p.number("projects_v2.number");
    let what = format!("project {title}{} in {}", aside(&number), p.place());
    let link = match p.action() {
        "deleted" => projects_url(p),
        _ => project_v2_url(p),
    };
    Some(Said::new(sentence(p, PLAIN, &what), link).title(title))
}

pub fn projects_v2_item(p: &Payload) -> Option<Said> {
    let kind = match p.str("projects_v2_item.content_type") {
        "Issue" => "an issue",
        "PullRequest" => "a pull request",
        "DraftIssue" => "a draft issue",
        _ => "an item",
    };
    p.at("projects_v2_item").as_object()?;
    let place = p.place();
    let sender = p.sender();
    let field = p.str("changes.field_value.field_name");
    let text = match p.action() {
        "created" => format!("{sender} added {kind} to a project of {place}"),
        "edited" => format!(
            "{sender} edited {kind}{} in a project of {place}",
            aside(&if field.is_empty() {
                String::new()
            } else {
                format!("field {field}")
            })
        ),
        "converted" => {
            format!("{sender} converted a draft issue to an issue in a project of {place}")
        }
        "deleted" => format!("{sender} removed {kind} from a project of {place}"),
        "archived" | "restored" | "reordered" => {
            format!("{sender} {} {kind} in a project of {place}", p.action())
        }
        _ => sentence(p, PLAIN, &format!("{kind} in a project of {place}")),
    };
    Some(Said::new(text, projects_url(p)))
}

pub fn projects_v2_status_update(p: &Payload) -> Option<Said> {
    p.at("projects_v2_status_update").as_object()?;
    let status = p
        .str("projects_v2_status_update.status")
        .to_lowercase()
        .replace('_', " ");
    let body = p.reply("projects_v2_status_update.body");
    let verbs = [
        ("created", "posted"),
        ("edited", "edited"),
        ("deleted", "deleted"),
    ];
    let what = format!(
        "a status update{} of a project of {}",
        aside(&status),
        p.place()
    );
    let text = format!("{}{}", sentence(p, &verbs, &what), detail(&body));
    Some(Said::new(text, projects_url(p)).title(body))
}

pub fn sub_issues(p: &Payload) -> Option<Said> {
    let sub = p.num("sub_issue.number")?;
    let parent = p.num("parent_issue.number")?;
    let title = p.snippet("sub_issue.title");
    let place = p.place();
    let sender = p.sender();
    let head = match p.action() {
        "sub_issue_added" => {
            format!("{sender} added sub-issue #{sub} to issue #{parent} in {place}")
        }
        "sub_issue_removed" => {
            format!("{sender} removed sub-issue #{sub} from issue #{parent} in {place}")
        }
        "parent_issue_added" => {
            format!("{sender} made issue #{parent} the parent of #{sub} in {place}")
        }
        "parent_issue_removed" => {
            format!("{sender} removed parent issue #{parent} of #{sub} in {place}")
        }
        _ => sentence(
            p,
            &[],
            &format!("sub-issue #{sub} of issue #{parent} in {place}"),
        ),
    };
    let link = first_url([p.str("parent_issue.html_url"), p.str("sub_issue.html_url")]);
    Some(Said::new(format!("{head}{}", detail(&title)), link).title(title))
}

pub fn issue_dependencies(p: &Payload) -> Option<Said> {
    let blocked = p.num("blocked_issue.number")?;
    let blocking = p.num("blocking_issue.number")?;
    let place = p.place();
    let sender = p.sender();
    let title = p.snippet("blocked_issue.title");
    let head = match p.action() {
        "blocked_by_added" | "blocking_added" => {
            format!("{sender} marked issue #{blocked} as blocked by #{blocking} in {place}")
        }
        "blocked_by_removed" | "blocking_removed" => {
            format!("{sender} removed #{blocking} from the blockers of issue #{blocked} in {place}")
        }
        _ => sentence(
            p,
            &[],
            &format!("the dependencies of issue #{blocked} in {place}"),
        ),
    };
    let link = first_url([
        p.str("blocked_issue.html_url"),
        p.str("blocking_issue.html_url"),
    ]);
    Some(Said::new(format!("{head}{}", detail(&title)), link).title(title))
}
