//! Helpers shared by the Gitea source tests: the source runs exactly as the
//! gateway runs it (type-erased, door opened from TOML), without a server.
#![allow(dead_code)] // each test file uses a different subset

use gate_core::signature::{sign_hmac_hex, HmacAlgorithm};
use gate_core::{ConfigError, DynSource, OpenDoor, Received, Rejection, Request};
use gate_example_gitea_source::Gitea;
use http::HeaderMap;

pub const SECRET: &str = "gitea-hook-secret";

/// A door with the test secret and one group rule.
pub const DOOR: &str = r#"
secrets = ["gitea-hook-secret"]
[[groups]]
group = "infra"
repositories = ["infra-*"]
"#;

pub fn source() -> Box<dyn DynSource> {
    gate_core::erase(Gitea)
}

pub fn open(source: &dyn DynSource, toml_text: &str) -> Result<OpenDoor, ConfigError> {
    let table: toml::Table = toml::from_str(toml_text).expect("door toml");
    source.open_door("acme", table, "sources.Gitea.doors.acme")
}

/// The headers Gitea sends for a JSON delivery signed with `secret`.
pub fn headers(event: &str, secret: &str, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("header"));
    headers.insert("x-gitea-event", event.parse().expect("header"));
    let signature = sign_hmac_hex(HmacAlgorithm::Sha256, secret.as_bytes(), body);
    headers.insert("x-gitea-signature", signature.parse().expect("header"));
    headers
}

pub async fn send(
    source: &dyn DynSource,
    door: &OpenDoor,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Received, Rejection> {
    let request = Request {
        headers,
        body,
        query: None,
        peer: None,
    };
    source.receive(&request, door).await
}
