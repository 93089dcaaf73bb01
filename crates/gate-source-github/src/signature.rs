//! Webhook signature check: `X-Hub-Signature-256` (HMAC-SHA256 of the raw
//! body), or the legacy `X-Hub-Signature` (SHA-1) when the door allows it.

use gate_core::signature::{sign_hmac_hex, verify_hmac_hex, HmacAlgorithm};
use gate_core::{Credential, Rejection, Request};

use crate::config::GitHubDoor;

pub const SHA256_HEADER: &str = "X-Hub-Signature-256";
pub const SHA1_HEADER: &str = "X-Hub-Signature";

/// Accept the request only if a signature verifies under one of the door's
/// secrets. Runs before the payload is parsed, so unsigned input is never
/// interpreted. With `insecure_no_signature` a missing signature is fine,
/// but one that is sent is still checked when the door has secrets.
pub fn check(request: &Request<'_>, door: &GitHubDoor) -> Result<(), Rejection> {
    match presented(request, door)? {
        None => Ok(()),
        Some((algorithm, hex)) if verify_hmac_hex(algorithm, &door.secrets, request.body, hex) => {
            Ok(())
        }
        Some(_) => Err(Rejection::BadSignature),
    }
}

/// What [`check`] can refuse from the headers alone, before the body is
/// read: a missing signature header, or one that is not a hex digest of the
/// right length.
pub fn precheck(request: &Request<'_>, door: &GitHubDoor) -> Result<(), Rejection> {
    match presented(request, door)? {
        Some((algorithm, hex)) if !is_hex_digest(hex, algorithm) => Err(Rejection::BadSignature),
        _ => Ok(()),
    }
}

/// The signature to verify, or `None` when the door takes the request
/// without one.
fn presented<'a>(
    request: &Request<'a>,
    door: &GitHubDoor,
) -> Result<Option<(HmacAlgorithm, &'a str)>, Rejection> {
    let sha256 = request.header(SHA256_HEADER);
    let sha1 = request.header(SHA1_HEADER).filter(|_| door.allow_sha1);
    let (algorithm, hex) = match (sha256, sha1) {
        (Some(value), _) => (HmacAlgorithm::Sha256, value.strip_prefix("sha256=")),
        (None, Some(value)) => (HmacAlgorithm::Sha1, value.strip_prefix("sha1=")),
        (None, None) if door.insecure_no_signature => return Ok(None),
        (None, None) => return Err(Rejection::MissingSignature(SHA256_HEADER)),
    };
    if door.secrets.is_empty() && door.insecure_no_signature {
        return Ok(None);
    }
    hex.map(|hex| Some((algorithm, hex)))
        .ok_or(Rejection::BadSignature)
}

/// What GitHub sends with a delivery: `X-Hub-Signature-256` and the legacy
/// SHA-1 `X-Hub-Signature`, both keyed with the door's first secret (none
/// for a door without secrets).
pub fn sign(door: &GitHubDoor, body: &[u8]) -> Vec<Credential> {
    let Some(key) = door.secrets.first() else {
        return Vec::new();
    };
    vec![
        Credential::signature_header(
            SHA256_HEADER,
            format!(
                "sha256={}",
                sign_hmac_hex(HmacAlgorithm::Sha256, key.expose(), body)
            ),
        ),
        Credential::signature_header(
            SHA1_HEADER,
            format!(
                "sha1={}",
                sign_hmac_hex(HmacAlgorithm::Sha1, key.expose(), body)
            ),
        ),
    ]
}

fn is_hex_digest(text: &str, algorithm: HmacAlgorithm) -> bool {
    let text = text.trim();
    text.len() == algorithm.hex_len() && text.bytes().all(|b| b.is_ascii_hexdigit())
}
