//! Secrets and signatures: a body signed with any of a door's secrets
//! verifies, a presented signature verifies exactly when it is one of the
//! expected HMACs in hex, and a secret never shows in Debug or JSON.
#![no_main]

use gate_core::signature::{
    body_digest, constant_time_eq, sign_hmac_hex, verify_hmac_hex, HmacAlgorithm,
};
use gate_core::Secret;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Case {
    secrets: Vec<String>,
    signer: usize,
    body: Vec<u8>,
    presented: String,
    sha1: bool,
    other: Vec<u8>,
}

/// Only inline values: `file:` could read a device forever and `env:`
/// depends on the machine.
fn inline(spec: &str) -> Option<Secret> {
    if spec.starts_with("file:") || spec.starts_with("env:") {
        return None;
    }
    let secret = Secret::resolve(spec).ok()?;
    assert_eq!(secret.expose(), spec.as_bytes());
    Some(secret)
}

fuzz_target!(|case: Case| {
    let algorithm = if case.sha1 {
        HmacAlgorithm::Sha1
    } else {
        HmacAlgorithm::Sha256
    };
    let secrets: Vec<Secret> = case
        .secrets
        .iter()
        .take(8)
        .filter_map(|s| inline(s))
        .collect();
    for secret in &secrets {
        assert_eq!(format!("{secret:?}"), "Secret(set)");
        assert_eq!(
            serde_json::to_string(secret).ok().as_deref(),
            Some("\"set\"")
        );
        assert!(secret.matches(secret.expose()));
        assert_eq!(
            secret.matches(&case.other),
            secret.expose() == case.other.as_slice()
        );
    }
    assert_eq!(
        constant_time_eq(&case.body, &case.other),
        case.body == case.other
    );
    let digest = body_digest(&case.body);
    assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));

    let expected: Vec<String> = secrets
        .iter()
        .map(|s| sign_hmac_hex(algorithm, s.expose(), &case.body))
        .collect();
    if let Some(signature) = expected.get(case.signer % expected.len().max(1)) {
        assert!(verify_hmac_hex(algorithm, &secrets, &case.body, signature));
        // Upper-case hex and surrounding blanks are the same signature.
        let loose = format!(" {} ", signature.to_ascii_uppercase());
        assert!(verify_hmac_hex(algorithm, &secrets, &case.body, &loose));
    }
    let presented = case.presented.trim().to_ascii_lowercase();
    assert_eq!(
        verify_hmac_hex(algorithm, &secrets, &case.body, &case.presented),
        expected.contains(&presented),
        "presented {:?}",
        case.presented
    );
});
