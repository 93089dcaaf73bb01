//! The payload inside a request body: JSON as is, or the `payload` field of
//! a form (GitHub's `application/x-www-form-urlencoded` content type).

use gate_core::{Rejection, Request};

/// How the body carries the payload, from `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Form,
}

impl Format {
    pub fn of(request: &Request<'_>) -> Result<Self, Rejection> {
        match request.media_type().as_deref() {
            Some("application/json") => Ok(Format::Json),
            Some("application/x-www-form-urlencoded") => Ok(Format::Form),
            Some(other) => Err(Rejection::UnsupportedMediaType(other.to_owned())),
            None => Err(Rejection::UnsupportedMediaType("(none)".to_owned())),
        }
    }

    /// The payload JSON text (not yet validated as JSON).
    pub fn payload(self, body: &[u8]) -> Result<String, Rejection> {
        match self {
            Format::Json => String::from_utf8(body.to_vec())
                .map_err(|_| Rejection::Malformed("body is not UTF-8".to_owned())),
            Format::Form => form_urlencoded::parse(body)
                .find(|(key, _)| key == "payload")
                .map(|(_, value)| value.into_owned())
                .ok_or_else(|| Rejection::Malformed("form body has no payload field".to_owned())),
        }
    }
}
