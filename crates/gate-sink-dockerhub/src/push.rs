//! What a GitHub push payload says about the build to trigger: which
//! repository, which ref, and whether the ref was deleted.

use std::borrow::Cow;

use serde::Deserialize;

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(borrow, rename = "ref")]
    reference: Option<Cow<'a, str>>,
    #[serde(default)]
    deleted: bool,
    #[serde(borrow)]
    repository: Option<Repository<'a>>,
}

#[derive(Deserialize)]
struct Repository<'a> {
    #[serde(borrow)]
    full_name: Option<Cow<'a, str>>,
}

/// The pushed ref, as Docker Hub's build rules name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitRef {
    Branch(String),
    Tag(String),
    /// Anything else (`refs/notes/...`): never a build source.
    Other(String),
}

impl GitRef {
    fn parse(full: &str) -> Self {
        if let Some(branch) = full.strip_prefix("refs/heads/") {
            GitRef::Branch(branch.to_owned())
        } else if let Some(tag) = full.strip_prefix("refs/tags/") {
            GitRef::Tag(tag.to_owned())
        } else {
            GitRef::Other(full.to_owned())
        }
    }

    /// `{"source_type", "source_name"}` of Docker Hub's trigger body.
    pub fn source(&self) -> Option<(&'static str, &str)> {
        match self {
            GitRef::Branch(name) => Some(("Branch", name)),
            GitRef::Tag(name) => Some(("Tag", name)),
            GitRef::Other(_) => None,
        }
    }
}

impl std::fmt::Display for GitRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitRef::Branch(name) => write!(f, "branch {name}"),
            GitRef::Tag(name) => write!(f, "tag {name}"),
            GitRef::Other(full) => write!(f, "ref {full}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// `owner/repo` as GitHub spells it.
    pub repository: String,
    pub reference: GitRef,
    pub deleted: bool,
}

pub fn parse(raw: &str) -> Result<Push, String> {
    let payload: Payload<'_> =
        serde_json::from_str(raw).map_err(|e| format!("push payload is not readable: {e}"))?;
    let repository = payload
        .repository
        .and_then(|r| r.full_name)
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| "push payload has no repository.full_name".to_owned())?;
    let reference = payload
        .reference
        .filter(|r| !r.is_empty())
        .ok_or_else(|| "push payload has no ref".to_owned())?;
    Ok(Push {
        repository: repository.into_owned(),
        reference: GitRef::parse(&reference),
        deleted: payload.deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_branch_tag_and_deletion() {
        let push = parse(
            r#"{"ref":"refs/heads/release/1.x","deleted":false,"repository":{"full_name":"Acme/Widgets"}}"#,
        )
        .expect("push");
        assert_eq!(push.repository, "Acme/Widgets");
        assert_eq!(push.reference, GitRef::Branch("release/1.x".into()));
        assert_eq!(push.reference.source(), Some(("Branch", "release/1.x")));
        assert!(!push.deleted);

        let tag =
            parse(r#"{"ref":"refs/tags/v1.0","deleted":true,"repository":{"full_name":"a/b"}}"#)
                .expect("push");
        assert_eq!(tag.reference, GitRef::Tag("v1.0".into()));
        assert_eq!(tag.reference.to_string(), "tag v1.0");
        assert!(tag.deleted);
    }

    #[test]
    fn incomplete_payloads_are_errors() {
        assert!(parse("{}").is_err());
        assert!(parse(r#"{"ref":"refs/heads/main"}"#).is_err());
        assert!(parse(r#"{"repository":{"full_name":"a/b"}}"#).is_err());
        assert!(parse(r#"{"ref":"refs/heads/main","repository":{"full_name":" "}}"#).is_err());
        assert!(parse("[1]").is_err());
    }
}
