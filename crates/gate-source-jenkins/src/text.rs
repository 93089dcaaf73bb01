//! The one-line text of a build event.

use crate::payload::JobEvent;

/// `Build #42 of widgets-main: FAILURE (main @ c6d86dc)` when completed;
/// `Build #42 of widgets-main started`, `… queued`, `… finalized: FAILURE`
/// for the other phases; `…: SUCCESS, back to normal after FAILURE` for
/// the first success after `fixed_after`.
/// `job` is the job's full name (`JobEvent::full_name`).
pub fn build_text(event: &JobEvent<'_>, job: &str, fixed_after: Option<&str>) -> String {
    let build = &event.build;
    let mut text = match build.number {
        Some(number) => format!("Build #{number} of {job}"),
        None => format!("Build of {job}"),
    };
    let completed = build.phase.eq_ignore_ascii_case("COMPLETED");
    if !completed {
        text.push(' ');
        text.push_str(&build.phase.to_lowercase());
    }
    if let Some(status) = build.status() {
        text.push_str(": ");
        text.push_str(status);
    }
    if let Some(previous) = fixed_after {
        text.push_str(", back to normal after ");
        text.push_str(previous);
    }
    if let Some(scm) = build
        .scm
        .as_ref()
        .and_then(|scm| scm_suffix(scm.branch.as_deref(), scm.commit.as_deref()))
    {
        text.push(' ');
        text.push_str(&scm);
    }
    text
}

/// `(main @ c6d86dc)`: the branch without its remote prefix, the commit short.
fn scm_suffix(branch: Option<&str>, commit: Option<&str>) -> Option<String> {
    let branch = branch
        .map(|b| {
            let b = b.strip_prefix("refs/heads/").unwrap_or(b);
            b.strip_prefix("origin/").unwrap_or(b)
        })
        .filter(|b| !b.is_empty());
    let commit: Option<String> = commit
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(7).collect());
    match (branch, commit) {
        (Some(branch), Some(commit)) => Some(format!("({branch} @ {commit})")),
        (Some(branch), None) => Some(format!("({branch})")),
        (None, Some(commit)) => Some(format!("({commit})")),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::parse;

    fn text(json: &str) -> String {
        let event = parse(json).expect("valid");
        build_text(&event, &event.full_name(), None)
    }

    #[test]
    fn a_fix_names_the_result_it_follows() {
        let json = r#"{"name":"w","build":{"number":8,"phase":"COMPLETED","status":"SUCCESS","scm":{"branch":"main"}}}"#;
        let event = parse(json).expect("valid");
        assert_eq!(
            build_text(&event, "w", Some("FAILURE")),
            "Build #8 of w: SUCCESS, back to normal after FAILURE (main)"
        );
    }

    #[test]
    fn each_phase_reads_clearly() {
        let completed = r#"{"name":"widgets-main","build":{"number":42,"phase":"COMPLETED","status":"FAILURE"}}"#;
        assert_eq!(text(completed), "Build #42 of widgets-main: FAILURE");
        let started = r#"{"name":"widgets-main","build":{"number":42,"phase":"STARTED"}}"#;
        assert_eq!(text(started), "Build #42 of widgets-main started");
        let finalized =
            r#"{"name":"w","build":{"number":7,"phase":"FINALIZED","status":"ABORTED"}}"#;
        assert_eq!(text(finalized), "Build #7 of w finalized: ABORTED");
        let queued = r#"{"name":"w","build":{"phase":"QUEUED"}}"#;
        assert_eq!(text(queued), "Build of w queued");
    }

    #[test]
    fn scm_branch_and_short_commit_are_appended() {
        let json = r#"{"name":"w","build":{"number":1,"phase":"COMPLETED","status":"SUCCESS",
            "scm":{"branch":"origin/main","commit":"c6d86dc7c7e0f7dd2a4d2d5d8b8f9ef6fbd4b1e1"}}}"#;
        assert_eq!(text(json), "Build #1 of w: SUCCESS (main @ c6d86dc)");
        let branch_only = r#"{"name":"w","build":{"number":1,"phase":"STARTED","scm":{"branch":"refs/heads/dev"}}}"#;
        assert_eq!(text(branch_only), "Build #1 of w started (dev)");
        let empty = r#"{"name":"w","build":{"number":1,"phase":"STARTED","scm":{}}}"#;
        assert_eq!(text(empty), "Build #1 of w started");
    }
}
