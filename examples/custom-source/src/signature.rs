//! `X-Gitea-Signature`: lower-case hex HMAC-SHA256 of the raw body, keyed
//! with the webhook secret, with no `sha256=` prefix (unlike GitHub).

use gate_core::signature::{sign_hmac_hex, verify_hmac_hex, HmacAlgorithm};
use gate_core::{Credential, Rejection, Request, Secret};

const SIGNATURE_HEADER: &str = "X-Gitea-Signature";

pub fn check(request: &Request<'_>, secrets: &[Secret]) -> Result<(), Rejection> {
    let signature = presented(request)?;
    // Constant-time, and every secret is tried (see gate-core).
    if verify_hmac_hex(HmacAlgorithm::Sha256, secrets, request.body, signature) {
        Ok(())
    } else {
        Err(Rejection::BadSignature)
    }
}

/// The header Gitea sends, keyed with the first secret (the one Gitea has
/// while older ones are still accepted during a rotation).
pub fn sign(secrets: &[Secret], body: &[u8]) -> Vec<Credential> {
    secrets
        .first()
        .map(|key| {
            Credential::signature_header(
                SIGNATURE_HEADER,
                sign_hmac_hex(HmacAlgorithm::Sha256, key.expose(), body),
            )
        })
        .into_iter()
        .collect()
}

/// Refused before the body is read: no signature header.
pub fn precheck(request: &Request<'_>) -> Result<(), Rejection> {
    presented(request).map(|_| ())
}

fn presented<'a>(request: &Request<'a>) -> Result<&'a str, Rejection> {
    request
        .header(SIGNATURE_HEADER)
        .filter(|value| !value.trim().is_empty())
        .ok_or(Rejection::MissingSignature(SIGNATURE_HEADER))
}
