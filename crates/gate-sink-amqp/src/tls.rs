//! TLS material for `amqps://` brokers: extra certificate authorities and a
//! client certificate, read from PEM files when the sink is built.

use std::fmt;
use std::path::Path;

use lapin::tcp::{OwnedIdentity, OwnedTLSConfig};

use crate::AmqpConfig;

/// What lapin needs for TLS. Holds the client key: never printed.
#[derive(Clone, Default)]
pub(crate) struct TlsMaterial(OwnedTLSConfig);

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca", &self.0.cert_chain.is_some())
            .field("client_certificate", &self.0.identity.is_some())
            .finish()
    }
}

impl TlsMaterial {
    /// Read and check the files named in the settings; each problem names
    /// the file and what is wrong with it, never its contents.
    pub(crate) fn load(config: &AmqpConfig) -> Result<Self, String> {
        let mut tls = OwnedTLSConfig::default();
        if let Some(path) = &config.ca_file {
            let pem = read_pem(path, "ca_file")?;
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err(format!(
                    "ca_file {}: no PEM certificate in it",
                    path.display()
                ));
            }
            tls.cert_chain = Some(pem);
        }
        if let (Some(cert_path), Some(key_path)) = (&config.cert_file, &config.key_file) {
            let cert = read_pem(cert_path, "cert_file")?;
            if !cert.contains("-----BEGIN CERTIFICATE-----") {
                return Err(format!(
                    "cert_file {}: no PEM certificate in it",
                    cert_path.display()
                ));
            }
            let key = read_pem(key_path, "key_file")?;
            if !key.contains("PRIVATE KEY-----") {
                return Err(format!(
                    "key_file {}: no PEM private key in it",
                    key_path.display()
                ));
            }
            tls.identity = Some(OwnedIdentity::PKCS8 {
                pem: cert.into_bytes(),
                key: key.into_bytes(),
            });
        }
        Ok(Self(tls))
    }

    pub(crate) fn config(&self) -> OwnedTLSConfig {
        self.0.clone()
    }
}

fn read_pem(path: &Path, key: &str) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("{key} {}: cannot read: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{key} {}: not a PEM text file", path.display()))
}
