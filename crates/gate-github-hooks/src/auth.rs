//! Credentials for GitHub's API: a token as configured, or a GitHub App's
//! installation token obtained with a JWT signed RS256 by the app's key.
//!
//! The JWT is three base64url parts signed with ring (already the project's
//! crypto for HMAC and TLS); the key is read from PEM by rustls-pki-types.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gate_core::Secret;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;

use crate::error::RecoveryError;

/// How a door authenticates.
#[derive(Clone)]
pub enum Credentials {
    Token(Secret),
    App {
        id: String,
        installation_id: u64,
        key: Arc<RsaKeyPair>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Token(_) => f.write_str("Token(set)"),
            Credentials::App {
                id,
                installation_id,
                ..
            } => f
                .debug_struct("App")
                .field("id", id)
                .field("installation_id", installation_id)
                .finish_non_exhaustive(),
        }
    }
}

/// A bearer token for API calls; never printed.
#[derive(Clone)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// `Authorization: Bearer ...`, marked sensitive (kept out of HTTP
    /// debug output and header tables).
    pub fn header(&self) -> Result<http::HeaderValue, RecoveryError> {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {}", self.0))
            .map_err(|_| RecoveryError::Config("the token is not a valid header value".into()))?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(set)")
    }
}

/// Read an RSA private key from PEM (PKCS#1 or PKCS#8). Errors never quote
/// the key.
pub(crate) fn load_rsa_key(pem: &Secret) -> Result<RsaKeyPair, String> {
    let der = PrivateKeyDer::from_pem_slice(pem.expose())
        .map_err(|_| "not a PEM private key".to_owned())?;
    let key = match &der {
        PrivateKeyDer::Pkcs1(key) => RsaKeyPair::from_der(key.secret_pkcs1_der()),
        PrivateKeyDer::Pkcs8(key) => RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()),
        _ => return Err("not an RSA key (GitHub Apps use RSA keys)".into()),
    };
    key.map_err(|e| format!("unusable RSA key: {e}"))
}

/// The app's JWT: issued a minute in the past (GitHub's advice against
/// clock drift), valid nine minutes (GitHub accepts at most ten).
pub fn app_jwt(app_id: &str, key: &RsaKeyPair, now_unix: u64) -> Result<String, RecoveryError> {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iat": now_unix.saturating_sub(60),
        "exp": now_unix + 540,
        "iss": app_id,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{claims}");
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        signed.as_bytes(),
        &mut signature,
    )
    .map_err(|_| RecoveryError::Sign("rsa signing failed".into()))?;
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
