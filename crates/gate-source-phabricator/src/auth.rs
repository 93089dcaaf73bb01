//! Who may post: Herald signs its body with the hook key; feed hooks cannot
//! sign, so they may be asked for a token in the URL or a header.

use gate_core::signature::{verify_hmac_hex, HmacAlgorithm};
use gate_core::{Rejection, Request};

use crate::PhabricatorDoorConfig;

pub const SIGNATURE_HEADER: &str = "X-Phabricator-Webhook-Signature";
pub const TOKEN_HEADER: &str = "X-Gate-Token";

pub fn check_herald(request: &Request<'_>, door: &PhabricatorDoorConfig) -> Result<(), Rejection> {
    let Some(key) = &door.hook_key else {
        return if door.insecure_no_signature {
            Ok(())
        } else {
            Err(Rejection::Forbidden(
                "this door has no hook_key for herald webhooks".into(),
            ))
        };
    };
    let signature = request
        .header(SIGNATURE_HEADER)
        .ok_or(Rejection::MissingSignature(SIGNATURE_HEADER))?;
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

pub fn check_feed(request: &Request<'_>, door: &PhabricatorDoorConfig) -> Result<(), Rejection> {
    if !door.accept_feed_hooks {
        return Err(Rejection::Forbidden(
            "feed.http-hooks are not accepted on this door".into(),
        ));
    }
    let Some(token) = &door.token else {
        return Ok(());
    };
    let presented = request
        .header(TOKEN_HEADER)
        .map(str::to_owned)
        .or_else(|| request.query_param("token"))
        .ok_or_else(|| Rejection::Unauthorized("token required".into()))?;
    if token.matches(presented.as_bytes()) {
        Ok(())
    } else {
        Err(Rejection::Forbidden("wrong token".into()))
    }
}
