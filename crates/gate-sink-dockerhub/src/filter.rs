//! Per-branch and per-tag filters of a trigger.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Serialize, Serializer};

use crate::push::GitRef;

/// Globs on branch or tag names, as in GitHub Actions' `branches:`/`tags:`:
/// `*` stops at `/`, `**` crosses it, `?`, `[abc]` and `{a,b}` as usual.
#[derive(Debug, Clone)]
pub struct Patterns {
    globs: Vec<String>,
    set: GlobSet,
}

impl Patterns {
    pub fn new(globs: Vec<String>) -> Result<Self, String> {
        let mut builder = GlobSetBuilder::new();
        for glob in &globs {
            if glob.trim().is_empty() {
                return Err("an empty pattern matches nothing".into());
            }
            let compiled = GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("invalid pattern {glob:?}: {}", e.kind()))?;
            builder.add(compiled);
        }
        let set = builder
            .build()
            .map_err(|e| format!("invalid patterns: {e}"))?;
        Ok(Self { globs, set })
    }

    fn matches(&self, name: &str) -> bool {
        self.set.is_match(name)
    }
}

impl Serialize for Patterns {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.globs.serialize(serializer)
    }
}

/// Which pushes trigger a build. Without any filter every branch and tag
/// push does (the original's behaviour); once one is given, a branch push
/// needs a matching `branches` glob and a tag push a matching `tags` glob.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RefFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branches: Option<Patterns>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Patterns>,
}

impl RefFilter {
    pub fn is_open(&self) -> bool {
        self.branches.is_none() && self.tags.is_none()
    }

    pub fn admits(&self, reference: &GitRef) -> bool {
        if self.is_open() {
            return true;
        }
        match reference {
            GitRef::Branch(name) => self.branches.as_ref().is_some_and(|p| p.matches(name)),
            GitRef::Tag(name) => self.tags.as_ref().is_some_and(|p| p.matches(name)),
            GitRef::Other(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(globs: &[&str]) -> Option<Patterns> {
        Some(Patterns::new(globs.iter().map(|g| (*g).to_owned()).collect()).expect("globs"))
    }

    fn branch(name: &str) -> GitRef {
        GitRef::Branch(name.into())
    }

    fn tag(name: &str) -> GitRef {
        GitRef::Tag(name.into())
    }

    #[test]
    fn no_filter_admits_every_branch_and_tag() {
        let open = RefFilter::default();
        assert!(open.admits(&branch("feature/x")));
        assert!(open.admits(&tag("v1.0")));
    }

    #[test]
    fn globs_follow_github_actions_rules() {
        let filter = RefFilter {
            branches: patterns(&["main", "release/*"]),
            tags: None,
        };
        assert!(filter.admits(&branch("main")));
        assert!(filter.admits(&branch("release/1.2")));
        assert!(
            !filter.admits(&branch("release/1.2/hotfix")),
            "* stops at /"
        );
        assert!(!filter.admits(&branch("mainline")));
        assert!(
            !filter.admits(&tag("v1.0")),
            "no tags filter: tags do not build"
        );

        let deep = RefFilter {
            branches: patterns(&["release/**"]),
            tags: patterns(&["v[0-9]*"]),
        };
        assert!(deep.admits(&branch("release/1.2/hotfix")));
        assert!(deep.admits(&tag("v2.0.1")));
        assert!(!deep.admits(&tag("latest")));
        assert!(!deep.admits(&GitRef::Other("refs/notes/x".into())));
    }

    #[test]
    fn empty_list_admits_nothing_of_its_kind() {
        let tags_only = RefFilter {
            branches: patterns(&[]),
            tags: patterns(&["*"]),
        };
        assert!(!tags_only.admits(&branch("main")));
        assert!(tags_only.admits(&tag("v1")));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(Patterns::new(vec!["[".into()]).is_err());
        assert!(Patterns::new(vec![" ".into()]).is_err());
    }
}
