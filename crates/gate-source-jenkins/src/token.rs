//! The per-door token: the Notification plugin cannot sign, so the URL it
//! calls (or a header, where the sender can set one) carries a secret token.

use std::borrow::Cow;

use gate_core::{Rejection, Request, Secret};

/// Minimum token length, so that a door cannot be opened with a guessable one.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Where the token was presented, first found wins: headers before the query
/// string because query strings end up in access logs.
fn presented<'a>(request: &Request<'a>) -> Option<Cow<'a, str>> {
    request
        .header("x-gate-token")
        .or_else(|| bearer(request.header("authorization")?))
        .map(Cow::Borrowed)
        .or_else(|| request.query_param("token").map(Cow::Owned))
}

/// The token of `Authorization: Bearer <token>`; other schemes are ignored.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Accept the request only if it presents the door's token.
pub fn check(request: &Request<'_>, token: &Secret) -> Result<(), Rejection> {
    match presented(request) {
        None => Err(Rejection::Unauthorized(
            "expected the door token in the X-Gate-Token header, `Authorization: Bearer` or the `token` query parameter"
                .into(),
        )),
        Some(presented) if token.matches(presented.as_bytes()) => Ok(()),
        Some(_) => Err(Rejection::Forbidden("token does not match".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive_and_others_are_ignored() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }
}
