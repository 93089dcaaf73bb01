//! The fields of a Docker Hub push webhook that the source reads; everything
//! else stays in `rawContent` untouched.

use std::borrow::Cow;

use serde::Deserialize;

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
