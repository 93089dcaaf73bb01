//! The per-door token: Docker Hub cannot sign its webhooks, so the URL it
//! calls carries an unguessable token instead.

use std::borrow::Cow;

use gate_core::{Rejection, Request, Secret};

/// Minimum token length, so that a door cannot be opened with a guessable one.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The header alternative to the `token` query parameter, for senders that
/// can set headers (tests, proxies); it is preferred because query strings
/// end up in access logs.
pub const TOKEN_HEADER: &str = "x-gate-token";

/// Accept the request only if it presents the door's token.
pub fn check(request: &Request<'_>, token: &Secret) -> Result<(), Rejection> {
    let presented = request
        .header(TOKEN_HEADER)
        .map(Cow::Borrowed)
        .or_else(|| request.query_param("token").map(Cow::Owned));
    match presented {
        None => Err(Rejection::Unauthorized(
            "expected the door token in the `token` query parameter or the X-Gate-Token header"
                .into(),
        )),
        Some(presented) if token.matches(presented.as_bytes()) => Ok(()),
        Some(_) => Err(Rejection::Forbidden("token does not match".into())),
    }
}
