//! Per-door authentication: an HMAC signature of the body, a bearer token,
//! or both kinds configured (either one then suffices, but whatever is
//! presented must be right).

use gate_core::signature::{sign_hmac_hex, verify_hmac_hex, HmacAlgorithm};
use gate_core::token::bearer;
use gate_core::{Credential, Rejection, Request, Secret};

pub const SIGNATURE_HEADER: &str = "X-Gate-Signature";

/// Credentials a door accepts; both empty only for `insecure_no_auth`.
#[derive(Debug)]
pub struct Credentials {
    pub secrets: Vec<Secret>,
    pub tokens: Vec<Secret>,
}

impl Credentials {
    pub fn check(&self, request: &Request<'_>) -> Result<(), Rejection> {
        if let Some(hex) = self.check_head(request)? {
            if !verify_hmac_hex(HmacAlgorithm::Sha256, &self.secrets, request.body, hex) {
                return Err(Rejection::BadSignature);
            }
        }
        Ok(())
    }

    /// Everything but the signature's value, which needs the body: what
    /// is presented, the signature's form and the token. Returns the hex
    /// signature left to verify, if any.
    pub fn check_head<'a>(&self, request: &Request<'a>) -> Result<Option<&'a str>, Rejection> {
        if self.secrets.is_empty() && self.tokens.is_empty() {
            return Ok(None);
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
        let hex = match signature {
            Some(signature) => {
                let hex = signature
                    .trim()
                    .strip_prefix("sha256=")
                    .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .ok_or(Rejection::BadSignature)?;
                Some(hex)
            }
            None => None,
        };
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
        Ok(hex)
    }

    /// What a sender presents: a signature with the first secret, else the
    /// first token; nothing for a door without either.
    pub fn sign(&self, body: &[u8]) -> Vec<Credential> {
        if let Some(key) = self.secrets.first() {
            let hex = sign_hmac_hex(HmacAlgorithm::Sha256, key.expose(), body);
            vec![Credential::signature_header(
                SIGNATURE_HEADER,
                format!("sha256={hex}"),
            )]
        } else if let Some(token) = self.tokens.first() {
            let token = String::from_utf8_lossy(token.expose());
            vec![Credential::token_header(
                "Authorization",
                format!("Bearer {token}"),
            )]
        } else {
            Vec::new()
        }
    }

    /// No credential is needed (`insecure_no_auth`).
    pub fn anonymous(&self) -> bool {
        self.secrets.is_empty() && self.tokens.is_empty()
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
