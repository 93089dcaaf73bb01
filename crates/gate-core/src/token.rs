//! Door tokens, for senders that cannot sign their webhooks (Docker Hub,
//! Jenkins' Notification plugin): the URL or a header carries an
//! unguessable token, compared in constant time.

use std::borrow::Cow;

use crate::{Credential, Rejection, Request, Secret};

/// Minimum token length, so that a door cannot be opened with a guessable one.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Whether a configured token has fewer than [`MIN_TOKEN_CHARS`] characters;
/// doors refuse to open with one.
/// A pending token (not read while checking) is not judged.
pub fn too_short(token: &Secret) -> bool {
    !token.is_pending() && String::from_utf8_lossy(token.expose()).chars().count() < MIN_TOKEN_CHARS
}

/// The header alternative to the `token` query parameter; preferred because
/// query strings end up in access logs.
pub const TOKEN_HEADER: &str = "x-gate-token";

/// Where a door accepts its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPlaces {
    /// `X-Gate-Token`, else the `token` query parameter.
    HeaderOrQuery,
    /// `X-Gate-Token`, else `Authorization: Bearer`, else `token=`.
    HeaderBearerOrQuery,
}

/// Accept the request only if it presents the door's token: missing is 401,
/// wrong is 403. The first place found is the one compared.
pub fn check_token(
    request: &Request<'_>,
    token: &Secret,
    places: TokenPlaces,
) -> Result<(), Rejection> {
    let bearer_token = || match places {
        TokenPlaces::HeaderBearerOrQuery => request.header("authorization").and_then(bearer),
        TokenPlaces::HeaderOrQuery => None,
    };
    let presented = request
        .header(TOKEN_HEADER)
        .or_else(bearer_token)
        .map(Cow::Borrowed)
        .or_else(|| request.query_param("token").map(Cow::Owned));
    match presented {
        None => Err(Rejection::Unauthorized(
            match places {
                TokenPlaces::HeaderOrQuery => {
                    "expected the door token in the `token` query parameter or the X-Gate-Token header"
                }
                TokenPlaces::HeaderBearerOrQuery => {
                    "expected the door token in the X-Gate-Token header, `Authorization: Bearer` or the `token` query parameter"
                }
            }
            .into(),
        )),
        Some(presented) if token.matches(presented.as_bytes()) => Ok(()),
        Some(_) => Err(Rejection::Forbidden("token does not match".into())),
    }
}

/// The door's token as a sender presents it: the `X-Gate-Token` header,
/// which [`check_token`] reads first in every [`TokenPlaces`].
pub fn credential(token: &Secret) -> Credential {
    // Written as senders and the documentation write it (HTTP header names
    // are case-insensitive; TOKEN_HEADER is the lower-case form `http` wants).
    Credential::token_header(
        "X-Gate-Token",
        String::from_utf8_lossy(token.expose()).into_owned(),
    )
}

/// The token of `Authorization: Bearer <token>`; other schemes are ignored.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a http::HeaderMap, query: Option<&'a str>) -> Request<'a> {
        Request {
            headers,
            body: b"",
            query,
            peer: None,
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_others_are_ignored() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("BEARER abc"), Some("abc"));
        assert_eq!(bearer("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
    }

    #[test]
    fn header_then_bearer_then_query() {
        let token = Secret::resolve("door-token-0123456789").expect("token");
        let mut headers = http::HeaderMap::new();
        let none = request(&headers, None);
        assert!(matches!(
            check_token(&none, &token, TokenPlaces::HeaderOrQuery),
            Err(Rejection::Unauthorized(_))
        ));
        let query = request(&headers, Some("token=door-token-0123456789"));
        assert_eq!(
            check_token(&query, &token, TokenPlaces::HeaderOrQuery),
            Ok(())
        );
        headers.insert(
            "authorization",
            "Bearer door-token-0123456789".parse().expect("header"),
        );
        let bearer_only = request(&headers, None);
        assert_eq!(
            check_token(&bearer_only, &token, TokenPlaces::HeaderBearerOrQuery),
            Ok(())
        );
        assert!(matches!(
            check_token(&bearer_only, &token, TokenPlaces::HeaderOrQuery),
            Err(Rejection::Unauthorized(_))
        ));
        headers.insert(TOKEN_HEADER, "wrong".parse().expect("header"));
        let wrong_first = request(&headers, Some("token=door-token-0123456789"));
        assert_eq!(
            check_token(&wrong_first, &token, TokenPlaces::HeaderBearerOrQuery),
            Err(Rejection::Forbidden("token does not match".into()))
        );
    }
}
