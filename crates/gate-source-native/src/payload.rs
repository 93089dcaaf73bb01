//! The posted notification: already in the gate's own format, so it is
//! checked rather than translated.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

/// A notification as a client posts it. Unknown keys are allowed (and kept
/// in `rawContent` when the client sends none) so that clients can add
/// context without breaking.
#[derive(Debug, Deserialize)]
pub struct Posted<'a> {
    #[serde(borrow, default)]
    pub service: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub group: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    pub kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub project: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub link: Option<Cow<'a, str>>,
    /// Kept as the exact JSON text the client sent; `null` counts as absent.
    #[serde(borrow, default, rename = "rawContent")]
    pub raw_content: Option<&'a RawValue>,
}

/// What is wrong with a posted notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("invalid notification: {0}")]
    Json(String),
    #[error("the notification must be a JSON object")]
    NotAnObject,
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("empty field `{0}`")]
    Empty(&'static str),
}

/// The three keys a notification cannot do without, checked in a fixed order
/// so that the message is predictable.
pub fn required<'p>(
    value: &'p Option<Cow<'_, str>>,
    name: &'static str,
) -> Result<&'p str, PayloadError> {
    match value.as_deref() {
        None => Err(PayloadError::Missing(name)),
        Some(v) if v.trim().is_empty() => Err(PayloadError::Empty(name)),
        Some(v) => Ok(v),
    }
}

pub fn parse(body: &str) -> Result<Posted<'_>, PayloadError> {
    // serde would also fill a struct from a JSON array, by position.
    if !body.trim_start().starts_with('{') {
        return Err(PayloadError::NotAnObject);
    }
    gate_core::json::from_str(body).map_err(|e| PayloadError::Json(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_content_keeps_the_exact_text_and_null_is_absent() {
        let posted = parse(r#"{"rawContent": { "b" : [1, 2] , "a":1 }}"#).expect("valid");
        assert_eq!(
            posted.raw_content.map(RawValue::get),
            Some(r#"{ "b" : [1, 2] , "a":1 }"#)
        );
        let posted = parse(r#"{"rawContent": null}"#).expect("valid");
        assert!(posted.raw_content.is_none());
    }

    #[test]
    fn required_fields_are_named() {
        let posted = parse(r#"{"service":"CI","group":" "}"#).expect("valid");
        assert_eq!(required(&posted.service, "service"), Ok("CI"));
        assert_eq!(
            required(&posted.group, "group"),
            Err(PayloadError::Empty("group"))
        );
        assert_eq!(
            required(&posted.kind, "type").map_err(|e| e.to_string()),
            Err("missing field `type`".to_owned())
        );
    }

    #[test]
    fn arrays_are_not_notifications() {
        assert_eq!(
            parse(r#"["CI", "ops", "push"]"#).unwrap_err(),
            PayloadError::NotAnObject
        );
    }

    #[test]
    fn wrong_types_are_errors() {
        let err = parse(r#"{"service": 3}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid notification: invalid type"),
            "{err}"
        );
    }
}
