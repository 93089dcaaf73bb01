//! The per-door token: Docker Hub cannot sign its webhooks, so the URL it
//! calls carries an unguessable token instead (`gate_core::token`).

use gate_core::token::{check_token, TokenPlaces};
use gate_core::{Rejection, Request, Secret};

pub use gate_core::token::{MIN_TOKEN_CHARS, TOKEN_HEADER};

/// Accept the request only if it presents the door's token.
pub fn check(request: &Request<'_>, token: &Secret) -> Result<(), Rejection> {
    check_token(request, token, TokenPlaces::HeaderOrQuery)
}
