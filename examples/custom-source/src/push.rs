//! The push payload: only the fields the notification needs, borrowed from
//! the body (`Cow` borrows unless a value has JSON escapes).

use std::borrow::Cow;

use gate_core::Rejection;
use serde::de::IgnoredAny;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Push<'a> {
    #[serde(borrow, rename = "ref")]
    pub git_ref: Cow<'a, str>,
    /// Empty for a push without a range (a new tag).
    #[serde(borrow, default)]
    pub compare_url: Cow<'a, str>,
    /// The real count: `commits` is cut at Gitea's webhook commit limit.
    #[serde(default)]
    pub total_commits: Option<u64>,
    /// Only counted, so the commits themselves are skipped, not parsed.
    #[serde(default)]
    pub commits: Option<Vec<IgnoredAny>>,
    #[serde(borrow)]
    pub repository: Repository<'a>,
    #[serde(borrow)]
    pub pusher: User<'a>,
}

#[derive(Debug, Deserialize)]
pub struct Repository<'a> {
    #[serde(borrow)]
    pub full_name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub html_url: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct User<'a> {
    #[serde(borrow)]
    pub login: Cow<'a, str>,
}

/// Parse a push body. `from_object` refuses a JSON array wherever a struct
/// is expected, which serde would otherwise fill by position.
pub fn parse(json: &str) -> Result<Push<'_>, Rejection> {
    gate_core::json::from_object(json)
        .map_err(|e| Rejection::Malformed(format!("unexpected push payload: {e}")))
}

impl Push<'_> {
    fn commit_count(&self) -> u64 {
        self.total_commits.unwrap_or_else(|| {
            self.commits
                .as_ref()
                .map_or(0, |c| u64::try_from(c.len()).unwrap_or(u64::MAX))
        })
    }

    /// `main` for a branch, `tag v1.2.0` for a tag, else the ref as sent.
    fn target(&self) -> Cow<'_, str> {
        if let Some(branch) = self.git_ref.strip_prefix("refs/heads/") {
            Cow::Borrowed(branch)
        } else if let Some(tag) = self.git_ref.strip_prefix("refs/tags/") {
            Cow::Owned(format!("tag {tag}"))
        } else {
            Cow::Borrowed(&self.git_ref)
        }
    }

    /// E.g. "octocat pushed 2 commits to main of acme/widgets".
    pub fn text(&self) -> String {
        let who = &self.pusher.login;
        let target = self.target();
        let repo = &self.repository.full_name;
        match self.commit_count() {
            0 => format!("{who} pushed to {target} of {repo}"),
            1 => format!("{who} pushed 1 commit to {target} of {repo}"),
            n => format!("{who} pushed {n} commits to {target} of {repo}"),
        }
    }

    /// The compare view when Gitea gives one, else the repository.
    pub fn link(&self) -> &str {
        if self.compare_url.is_empty() {
            &self.repository.html_url
        } else {
            &self.compare_url
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(fields: &str) -> String {
        format!(
            r#"{{"repository": {{"full_name": "acme/widgets", "html_url": "https://git.acme.example/acme/widgets"}},
                "pusher": {{"login": "octocat"}}, {fields}}}"#
        )
    }

    #[test]
    fn counts_commits_when_total_is_absent() {
        let json = push(r#""ref": "refs/heads/dev", "commits": [{}, {}, {}]"#);
        let parsed = parse(&json).expect("valid");
        assert_eq!(
            parsed.text(),
            "octocat pushed 3 commits to dev of acme/widgets"
        );
        assert_eq!(parsed.link(), "https://git.acme.example/acme/widgets");
    }

    #[test]
    fn other_refs_are_shown_as_sent() {
        let json =
            push(r#""ref": "refs/notes/commits", "total_commits": 1, "compare_url": "https://c""#);
        let parsed = parse(&json).expect("valid");
        assert_eq!(
            parsed.text(),
            "octocat pushed 1 commit to refs/notes/commits of acme/widgets"
        );
        assert_eq!(parsed.link(), "https://c");
    }

    #[test]
    fn escaped_values_are_decoded() {
        let json = push(r#""ref": "refs/heads/caf\u00e9""#);
        assert_eq!(
            parse(&json).expect("valid").text(),
            "octocat pushed to café of acme/widgets"
        );
    }
}
