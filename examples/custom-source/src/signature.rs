//! `X-Gitea-Signature`: lower-case hex HMAC-SHA256 of the raw body, keyed
//! with the webhook secret, with no `sha256=` prefix (unlike GitHub).

use gate_core::signature::{verify_hmac_hex, HmacAlgorithm};
use gate_core::{Rejection, Request, Secret};

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
