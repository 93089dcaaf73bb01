//! The per-door token: the Notification plugin cannot sign, so the URL it
//! calls (or a header, where the sender can set one) carries a secret token
//! (`gate_core::token`).

use gate_core::token::{check_token, TokenPlaces};
use gate_core::{Rejection, Request, Secret};

pub use gate_core::token::MIN_TOKEN_CHARS;

/// Accept the request only if it presents the door's token.
pub fn check(request: &Request<'_>, token: &Secret) -> Result<(), Rejection> {
    check_token(request, token, TokenPlaces::HeaderBearerOrQuery)
}
