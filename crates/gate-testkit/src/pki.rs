//! Certificates made up for one test run: a CA, a broker certificate for
//! `localhost`/127.0.0.1 and a client certificate signed by it, and an
//! unrelated CA to be wrong with.

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, SanType};

/// A certificate and its private key, PEM.
#[derive(Debug, Clone)]
pub struct Pem {
    pub cert: String,
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct TestPki {
    pub ca: Pem,
    pub server: Pem,
    /// Common name `client_name`: the user RabbitMQ's EXTERNAL mechanism
    /// logs in.
    pub client: Pem,
    pub client_name: String,
    /// A CA that signed none of the above.
    pub other_ca: Pem,
}

impl TestPki {
    pub fn generate(client_name: &str) -> Self {
        let (ca_cert, ca_key) = authority("gate test ca");
        let (other_cert, other_key) = authority("gate test unrelated ca");
        let server = leaf("localhost", &ca_cert, &ca_key, true);
        let client = leaf(client_name, &ca_cert, &ca_key, false);
        Self {
            ca: Pem {
                cert: ca_cert.pem(),
                key: ca_key.serialize_pem(),
            },
            server,
            client,
            client_name: client_name.to_owned(),
            other_ca: Pem {
                cert: other_cert.pem(),
                key: other_key.serialize_pem(),
            },
        }
    }
}

fn authority(name: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert, key)
}

fn leaf(name: &str, ca: &Certificate, ca_key: &KeyPair, server: bool) -> Pem {
    let key = KeyPair::generate().expect("key");
    let names = if server {
        vec![name.to_owned()]
    } else {
        Vec::new()
    };
    let mut params = CertificateParams::new(names).expect("params");
    if server {
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
    }
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.signed_by(&key, ca, ca_key).expect("certificate");
    Pem {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}
