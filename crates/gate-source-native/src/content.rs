//! Content-type check: the body is a JSON notification.

use gate_core::{Rejection, Request};

/// `application/json` or any `+json` type; anything else (or nothing) is 415.
pub fn require_json(request: &Request<'_>) -> Result<(), Rejection> {
    match request.media_type() {
        Some(media) if media == "application/json" || media.ends_with("+json") => Ok(()),
        Some(media) => Err(Rejection::UnsupportedMediaType(media)),
        None => Err(Rejection::UnsupportedMediaType(String::new())),
    }
}
