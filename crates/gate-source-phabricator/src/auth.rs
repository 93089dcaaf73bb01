//! Who may post: Herald signs its body with the hook key; feed hooks cannot
//! sign, so they may be asked for a token in the URL or a header.

use gate_core::signature::{sign_hmac_hex, verify_hmac_hex, HmacAlgorithm};
use gate_core::token::{check_token, TokenPlaces};
use gate_core::{Credential, Rejection, Request};

use crate::PhabricatorDoorConfig;

pub const SIGNATURE_HEADER: &str = "X-Phabricator-Webhook-Signature";

pub fn check_herald(request: &Request<'_>, door: &PhabricatorDoorConfig) -> Result<(), Rejection> {
    let Some(signature) = herald_head(request, door)? else {
        return Ok(());
    };
    let Some(key) = &door.hook_key else {
        return Ok(());
    };
    if verify_hmac_hex(
        HmacAlgorithm::Sha256,
        std::slice::from_ref(key),
        request.body,
        signature,
    ) {
        Ok(())
    } else {
        Err(Rejection::BadSignature)
    }
}

/// What [`check_herald`] can refuse without the body; the signature left
/// to verify, if any.
pub fn herald_head<'a>(
    request: &Request<'a>,
    door: &PhabricatorDoorConfig,
) -> Result<Option<&'a str>, Rejection> {
    if door.hook_key.is_none() {
        return if door.insecure_no_signature {
            Ok(None)
        } else {
            Err(Rejection::Forbidden(
                "this door has no hook_key for herald webhooks".into(),
            ))
        };
    }
    let signature = request
        .header(SIGNATURE_HEADER)
        .ok_or(Rejection::MissingSignature(SIGNATURE_HEADER))?;
    let hex = signature.trim();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Rejection::BadSignature);
    }
    Ok(Some(signature))
}

/// What Phabricator presents: Herald's signature (plain hex, no prefix)
/// keyed with `hook_key`, and the door's token for feed hooks.
pub fn sign(door: &PhabricatorDoorConfig, body: &[u8]) -> Vec<Credential> {
    let signature = door.hook_key.iter().map(|key| {
        Credential::signature_header(
            SIGNATURE_HEADER,
            sign_hmac_hex(HmacAlgorithm::Sha256, key.expose(), body),
        )
    });
    let token = door.token.iter().map(gate_core::token::credential);
    signature.chain(token).collect()
}

/// Whether a door takes a request with no credential at all.
pub fn anonymous(door: &PhabricatorDoorConfig) -> bool {
    door.insecure_no_signature
        && (door.hook_key.is_none() || (door.accept_feed_hooks && door.token.is_none()))
}

pub fn check_feed(request: &Request<'_>, door: &PhabricatorDoorConfig) -> Result<(), Rejection> {
    if !door.accept_feed_hooks {
        return Err(Rejection::Forbidden(
            "feed.http-hooks are not accepted on this door".into(),
        ));
    }
    match &door.token {
        Some(token) => check_token(request, token, TokenPlaces::HeaderOrQuery),
        // Opening a door with neither a token nor this switch is refused.
        None if door.insecure_no_signature => Ok(()),
        None => Err(Rejection::Forbidden(
            "this door has no token for feed.http-hooks".into(),
        )),
    }
}
