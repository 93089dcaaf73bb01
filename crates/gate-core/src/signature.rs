//! Signature checks shared by sources and sinks. Every comparison of a
//! secret-derived value is constant-time (ring's `hmac::verify`, or
//! [`constant_time_eq`] for plain tokens).

use ring::{digest, hmac};

use crate::Secret;

/// Which HMAC a signature header uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HmacAlgorithm {
    /// HMAC-SHA256.
    Sha256,
    /// Legacy (GitHub's `X-Hub-Signature`); only when a door allows it.
    Sha1,
}

impl HmacAlgorithm {
    /// The length of a hex digest of this algorithm (64 for SHA-256).
    pub fn hex_len(self) -> usize {
        match self {
            HmacAlgorithm::Sha256 => 64,
            HmacAlgorithm::Sha1 => 40,
        }
    }

    fn ring(self) -> hmac::Algorithm {
        match self {
            HmacAlgorithm::Sha256 => hmac::HMAC_SHA256,
            HmacAlgorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        }
    }
}

/// True when `signature_hex` is the HMAC of `body` under any of `secrets`
/// (several secrets allow rotation without downtime).
pub fn verify_hmac_hex(
    algorithm: HmacAlgorithm,
    secrets: &[Secret],
    body: &[u8],
    signature_hex: &str,
) -> bool {
    let Ok(tag) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    secrets.iter().fold(false, |found, secret| {
        let key = hmac::Key::new(algorithm.ring(), secret.expose());
        // Every secret is tried, so timing does not reveal which one matched.
        hmac::verify(&key, body, &tag).is_ok() | found
    })
}

/// Lower-case hex HMAC of `body`, as senders put in signature headers.
pub fn sign_hmac_hex(algorithm: HmacAlgorithm, key: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(algorithm.ring(), key);
    hex::encode(hmac::sign(&key, body).as_ref())
}

/// SHA-256 of a body, hex: the delivery id of sources that send none.
pub fn body_digest(body: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, body).as_ref())
}

/// Compare two byte strings without an early exit on the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::resolve(s).expect("inline secret")
    }

    #[test]
    fn known_vector_from_githubs_documentation() {
        // GitHub's docs: secret "It's a Secret to Everybody", body "Hello, World!".
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            sign_hmac_hex(
                HmacAlgorithm::Sha256,
                b"It's a Secret to Everybody",
                b"Hello, World!"
            ),
            expected
        );
        assert!(verify_hmac_hex(
            HmacAlgorithm::Sha256,
            &[secret("It's a Secret to Everybody")],
            b"Hello, World!",
            expected
        ));
    }

    #[test]
    fn any_of_several_secrets_verifies() {
        let sig = sign_hmac_hex(HmacAlgorithm::Sha256, b"new", b"body");
        assert!(verify_hmac_hex(
            HmacAlgorithm::Sha256,
            &[secret("old"), secret("new")],
            b"body",
            &sig
        ));
        assert!(!verify_hmac_hex(
            HmacAlgorithm::Sha256,
            &[secret("old")],
            b"body",
            &sig
        ));
    }

    #[test]
    fn bad_hex_and_wrong_algorithm_fail() {
        let sig = sign_hmac_hex(HmacAlgorithm::Sha1, b"k", b"body");
        assert!(verify_hmac_hex(
            HmacAlgorithm::Sha1,
            &[secret("k")],
            b"body",
            &sig
        ));
        assert!(!verify_hmac_hex(
            HmacAlgorithm::Sha256,
            &[secret("k")],
            b"body",
            &sig
        ));
        assert!(!verify_hmac_hex(
            HmacAlgorithm::Sha256,
            &[secret("k")],
            b"body",
            "zz"
        ));
    }

    #[test]
    fn constant_time_eq_compares_contents() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
