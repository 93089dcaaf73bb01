//! Per-door authentication: an HMAC signature of the body, a bearer token,
//! or both kinds configured (either one then suffices, but whatever is
//! presented must be right).

use gate_core::signature::{verify_hmac_hex, HmacAlgorithm};
use gate_core::token::bearer;
use gate_core::{Rejection, Request, Secret};

pub const SIGNATURE_HEADER: &str = "X-Gate-Signature";

/// Credentials a door accepts; both empty only for `insecure_no_auth`.
#[derive(Debug)]
pub struct Credentials {
    pub secrets: Vec<Secret>,
    pub tokens: Vec<Secret>,
}

impl Credentials {
    pub fn check(&self, request: &Request<'_>) -> Result<(), Rejection> {
        if self.secrets.is_empty() && self.tokens.is_empty() {
            return Ok(());
        }
        let signature = if self.secrets.is_empty() {
            None
        } else {
            request.header(SIGNATURE_HEADER)
        };
        let token = if self.tokens.is_empty() {
            None
        } else {
            request.header("authorization").and_then(bearer)
        };
        if signature.is_none() && token.is_none() {
            return Err(self.missing());
        }
        if let Some(signature) = signature {
            let hex = signature
                .trim()
                .strip_prefix("sha256=")
                .ok_or(Rejection::BadSignature)?;
            if !verify_hmac_hex(HmacAlgorithm::Sha256, &self.secrets, request.body, hex) {
                return Err(Rejection::BadSignature);
            }
        }
        if let Some(token) = token {
            // Every token is compared, so timing does not tell which one matched.
            let found = self
                .tokens
                .iter()
                .fold(false, |found, t| t.matches(token.as_bytes()) | found);
            if !found {
                return Err(Rejection::Forbidden("token does not match".into()));
            }
        }
        Ok(())
    }

    fn missing(&self) -> Rejection {
        match (self.secrets.is_empty(), self.tokens.is_empty()) {
            (false, true) => Rejection::MissingSignature(SIGNATURE_HEADER),
            (true, false) => {
                Rejection::Unauthorized("expected `Authorization: Bearer <token>`".into())
            }
            _ => Rejection::Unauthorized(format!(
                "expected {SIGNATURE_HEADER} or `Authorization: Bearer <token>`"
            )),
        }
    }
}
