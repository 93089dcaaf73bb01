//! How a genuine sender authenticates a request to a door, as a source
//! declares it ([`Source::sign`](crate::Source::sign)): the headers or query
//! parameters to add. `gate-server simulate` and `deliveries replay` sign
//! any linked source with it, built-in or third-party, without knowing it.

use std::fmt;

/// Where a [`Credential`] goes in the request.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A request header.
    Header,
    /// A query parameter of the URL.
    Query,
}

/// One header or query parameter that authenticates a request: a signature
/// over the body, or a door token. `Debug` masks a token's value.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// Header or query parameter.
    pub place: Place,
    /// The header or parameter name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Whether the value is the secret itself (a token), never to be shown;
    /// a signature is not (it reveals nothing of its key).
    pub secret: bool,
}

impl Credential {
    /// A signature header computed from the body (e.g. an HMAC).
    pub fn signature_header(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            place: Place::Header,
            name: name.into(),
            value: value.into(),
            secret: false,
        }
    }

    /// A header carrying the door's token (or `Bearer <token>`).
    pub fn token_header(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            place: Place::Header,
            name: name.into(),
            value: value.into(),
            secret: true,
        }
    }

    /// A query parameter carrying the door's token.
    pub fn token_query(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            place: Place::Query,
            name: name.into(),
            value: value.into(),
            secret: true,
        }
    }

    /// The value as it may be printed: `"set"` for a token.
    pub fn shown(&self) -> &str {
        if self.secret {
            "set"
        } else {
            &self.value
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("place", &self.place)
            .field("name", &self.name)
            .field("value", &self.shown())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_show_signatures_do() {
        let token = Credential::token_header("X-Gate-Token", "door-token-0123456789");
        assert_eq!(token.shown(), "set");
        assert!(!format!("{token:?}").contains("door-token"));
        let signature = Credential::signature_header("X-Sig", "abc");
        assert_eq!(signature.shown(), "abc");
    }
}
