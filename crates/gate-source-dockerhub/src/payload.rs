//! The fields of a Docker Hub push webhook that the source reads; everything
//! else stays in `rawContent` untouched.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// A push to a Docker Hub repository. `callback_url` is deliberately not
/// read: the gate never calls it (validating a build is the user's choice).
#[derive(Debug, Deserialize)]
pub struct Push<'a> {
    #[serde(borrow)]
    pub push_data: PushData<'a>,
    #[serde(borrow)]
    pub repository: Repository<'a>,
}

#[derive(Debug, Deserialize)]
pub struct PushData<'a> {
    #[serde(borrow, default)]
    pub pusher: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tag: Option<Cow<'a, str>>,
    /// Unix time of the push, kept as sent (the push's identity, with the
    /// repository and tag).
    #[serde(borrow, default)]
    pub pushed_at: Option<&'a RawValue>,
}

impl Push<'_> {
    /// `<repository>:<tag>@<pushed_at>`: the same push sent twice is the
    /// same event. Without a push time there is no identity.
    pub fn identity(&self) -> Option<String> {
        let pushed_at = self.push_data.pushed_at?.get();
        if pushed_at == "null" {
            return None;
        }
        let tag = self.push_data.tag.as_deref().unwrap_or("");
        Some(format!("{}:{tag}@{pushed_at}", self.repository.repo_name))
    }
}

#[derive(Debug, Deserialize)]
pub struct Repository<'a> {
    /// `namespace/name`, e.g. `acme/widgets`.
    #[serde(borrow)]
    pub repo_name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub repo_url: Option<Cow<'a, str>>,
}

/// Why a body is not a valid payload.
pub use gate_core::json::ObjectError as PayloadError;

pub fn parse(body: &str) -> Result<Push<'_>, PayloadError> {
    gate_core::json::from_object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_may_be_null_or_absent() {
        let push = parse(r#"{"push_data":{"pusher":null},"repository":{"repo_name":"acme\/w"}}"#)
            .expect("valid");
        assert_eq!(push.repository.repo_name, "acme/w");
        assert!(push.push_data.pusher.is_none());
        assert!(push.push_data.tag.is_none());
        assert!(push.repository.repo_url.is_none());
        assert_eq!(push.identity(), None, "no push time, no identity");
    }

    #[test]
    fn identity_is_repository_tag_and_push_time() {
        let body = r#"{"push_data":{"tag":"v1","pushed_at":1764079200},"repository":{"repo_name":"acme/w"}}"#;
        assert_eq!(
            parse(body).expect("valid").identity().as_deref(),
            Some("acme/w:v1@1764079200")
        );
        let other_tag = body.replace("v1", "v2");
        assert_eq!(
            parse(&other_tag).expect("valid").identity().as_deref(),
            Some("acme/w:v2@1764079200")
        );
    }

    #[test]
    fn missing_repository_name_is_an_error_naming_it() {
        let err = parse(r#"{"push_data":{},"repository":{}}"#).unwrap_err();
        assert!(
            err.to_string().contains("missing field `repo_name`"),
            "{err}"
        );
    }
}
